"""Where submission code runs: executors of isolated tasks, and their limits.

An :class:`Executor` runs self-contained tasks (:mod:`rampconf.isolation`)
and gives back each one's :class:`TaskOutcome` as plain data. The runner
only uses this interface (:meth:`Executor.run`: a window of ``n_jobs`` tasks
at a time, outcomes in the order they finish, a deadline for the whole run),
so other backends (a Dask cluster: each Dask task calls
:func:`run_isolated` on its worker) fit without changing the runner.

- :class:`~rampconf.forkexec.ForkServerExecutor` (the default): a fork server
  (:mod:`rampconf.forkserver`) started once per process and reused by later
  runs and sweep trials of that process, which forks one fresh process per
  task, under the task's :class:`Limits`; optionally inside bubblewrap.
- :class:`InProcessExecutor` (``unsafe_in_process=true``): runs tasks in the
  caller's process, without isolation or limits; for debugging only.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import struct
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rampconf.limits import format_bytes
from rampconf.wire import decode, encode

if TYPE_CHECKING:
    from collections.abc import Generator, Sequence

    from rampconf.isolation import Task
    from rampconf.sandbox import Sandbox

__all__ = ["Executor", "InProcessExecutor", "Job", "Limits",
           "TaskOutcome", "ended_outcome", "get_executor", "run_isolated"]

@dataclass(frozen=True)
class Limits:
    """Bounds of each task: wall seconds and resident memory in bytes (None: unbounded)."""

    timeout: float | None = None
    memory: int | None = None


@dataclass
class TaskOutcome:
    """How a task ended.

    Attributes
    ----------
    status : str
        ``ok``, ``failed`` (the submission raised, exited or crashed),
        ``timeout``, ``out_of_memory`` or ``cancelled``.
    answer : dict
        The task's plain-data answer (empty when it gave none).
    error : list of str
        What went wrong, first line a one-line summary.
    elapsed : float
        Wall seconds of the task's process.
    peak_memory : int or None
        Highest resident memory measured (bytes), when a memory limit was set.
    """

    status: str
    answer: dict[str, Any] = field(default_factory=dict)
    error: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    peak_memory: int | None = None


@dataclass(eq=False)
class Job:
    """A submitted task; ``outcome`` is set when it has ended."""

    task: Task
    limits: Limits
    index: int = 0
    outcome: TaskOutcome | None = None
    stopped_by_deadline: bool = False


def answer_outcome(task: Task, answer: Any, elapsed: float = 0.0) -> TaskOutcome:
    """The outcome of a task that answered (``ok`` or the failure it reported)."""
    if not isinstance(answer, dict) or answer.get("status") not in ("ok", "failed"):
        return TaskOutcome("failed", error=[f"{task.describe()}: the fold process answered "
                                            "something that is not a task's answer"])
    error = [str(line) for line in answer.get("error", [])]
    return TaskOutcome(answer["status"], answer=answer, error=error, elapsed=elapsed)


SIGNAL_HINTS = {
    signal.SIGSEGV: "a segmentation fault: the submission or a compiled library it called "
                    "crashed",
    signal.SIGKILL: "killed from outside the run (the system's out-of-memory killer, or a user)",
    signal.SIGABRT: "aborted by a compiled library",
    signal.SIGBUS: "a bus error in compiled code",
}


def ended_outcome(job: Job, ended: dict[str, Any], data: bytes) -> TaskOutcome:
    """A forked task's outcome from its process's end (the fork server's report) and the
    bytes it sent (a length, then the encoded answer)."""
    task, limits = job.task, job.limits
    elapsed, peak = float(ended.get("elapsed") or 0.0), ended.get("peak_memory") or None
    what = task.describe()
    if ended.get("limit") == "timeout":
        return TaskOutcome("timeout", elapsed=elapsed, peak_memory=peak, error=[
            f"{what}: ran longer than fold_timeout={limits.timeout:g} s (wall time); its "
            "processes were killed"])
    if ended.get("limit") == "memory":
        assert limits.memory is not None
        return TaskOutcome("out_of_memory", elapsed=elapsed, peak_memory=peak, error=[
            f"{what}: used more than fold_memory={format_bytes(limits.memory)} of memory "
            f"({format_bytes(int(peak or 0))} resident); its processes were killed"])
    if ended.get("limit") == "killed":
        return TaskOutcome("cancelled", elapsed=elapsed, error=[f"{what}: stopped"])
    answer = None
    if len(data) >= 8:
        (size,) = struct.unpack("<Q", data[:8])
        if len(data) == 8 + size:
            try:
                answer = decode(data[8:])
            except ValueError as exc:
                return TaskOutcome("failed", elapsed=elapsed, error=[f"{what}: {exc}"])
    if answer is not None:
        outcome = answer_outcome(task, answer, elapsed)
        outcome.peak_memory = peak
        return outcome
    if ended.get("signal"):
        number = int(ended["signal"])
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ \
            else f"signal {number}"
        hint = SIGNAL_HINTS.get(number)  # type: ignore[call-overload]
        return TaskOutcome("failed", elapsed=elapsed, error=[
            f"{what}: the process running the submission was killed by {name}"
            f"{f' ({hint})' if hint else ''} before it returned predictions"])
    return TaskOutcome("failed", elapsed=elapsed, error=[
        f"{what}: the process running the submission ended with exit code {ended.get('code')} "
        "before it returned predictions (did the submission call os._exit() or exit?)"])


class Executor(ABC):
    """Runs tasks isolated from the caller; see the module docstring."""

    #: Whether tasks run in another process, under their limits.
    isolated = True
    #: Whether :meth:`run` starts the next tasks before it yields the outcomes of the ended
    #: ones (the caller scores a fold while the next one runs); not when a task runs
    #: inside :meth:`submit`.
    start_ahead = True

    @abstractmethod
    def submit(self, task: Task, limits: Limits) -> Job:
        """Start ``task`` (it may wait for a free slot of the backend)."""

    @abstractmethod
    def wait(self, jobs: Sequence[Job], timeout: float | None = None) -> list[Job]:
        """Block until one of ``jobs`` has ended (or ``timeout`` seconds); the ended ones."""

    @abstractmethod
    def cancel(self, job: Job) -> None:
        """Stop ``job`` and everything it started; its outcome becomes ``cancelled``."""

    def preload(self, modules: Sequence[str]) -> None:  # noqa: B027 - optional
        """Import ``modules`` ahead of the tasks that need them (a hint)."""

    def settle(self) -> None:  # noqa: B027 - optional
        """Wait until the processes of the tasks that answered have ended, with what they
        started (called when :meth:`run` returns)."""

    def close(self) -> None:  # noqa: B027 - optional
        """Stop every task and release the backend."""

    def run(self, tasks: Sequence[Task], n_jobs: int = 1, limits: Limits | None = None,
            deadline: float | None = None, settle: bool = True
            ) -> Generator[tuple[int, TaskOutcome], None, None]:
        """Run ``tasks``, ``n_jobs`` at a time; yield ``(position, outcome)`` as each ends.

        When tasks end, the next ones start before their outcomes are yielded
        (:attr:`start_ahead`): the caller's work on an outcome (a fold's scores)
        overlaps the next task.

        ``deadline`` (a ``time.monotonic()`` value) bounds the whole call:
        running tasks are stopped then, and tasks not started end as
        ``timeout`` without running. Closing the iterator (or an exception,
        e.g. ``KeyboardInterrupt``, while it waits) stops every running task.
        With ``settle=False`` the caller calls :meth:`settle` itself, later: what it
        does meanwhile overlaps the end of the last tasks' processes.
        """
        limits = limits or Limits()
        width = (os.cpu_count() or 1) if n_jobs < 0 else max(1, n_jobs)
        pending = list(enumerate(tasks))
        running: list[Job] = []

        def start() -> None:
            while pending and len(running) < width and not _past(deadline):
                index, task = pending.pop(0)
                job = self.submit(task, limits)
                job.index = index
                running.append(job)

        try:
            while pending or running:
                start()
                if _past(deadline):
                    for index, task in pending:
                        yield index, TaskOutcome("timeout", error=[
                            f"{task.describe()}: not started, the run's time limit was reached"])
                    pending = []
                    for job in running:
                        if job.outcome is None and not job.stopped_by_deadline:
                            job.stopped_by_deadline = True
                            self.cancel(job)
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                ended = self.wait(running, wait if not _past(deadline) else None)
                for job in ended:
                    running.remove(job)
                if self.start_ahead:
                    start()  # the next tasks run while the caller handles these outcomes
                for job in ended:
                    assert job.outcome is not None
                    if job.stopped_by_deadline and job.outcome.status == "cancelled":
                        job.outcome.status = "timeout"
                        job.outcome.error = [f"{job.task.describe()}: stopped when the run's "
                                             "time limit was reached"]
                    yield job.index, job.outcome
        finally:
            for job in running:
                if job.outcome is None:
                    self.cancel(job)
            with contextlib.suppress(Exception):
                end = time.monotonic() + 10
                while any(job.outcome is None for job in running) and time.monotonic() < end:
                    self.wait([j for j in running if j.outcome is None], end - time.monotonic())
                if settle:
                    self.settle()


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


class InProcessExecutor(Executor):
    """Runs each task in the caller's process: no isolation, no limits (debugging only).

    The global NumPy and ``random`` states are restored after each task, so
    the caller's are untouched, as with isolated tasks.
    """

    isolated = False
    start_ahead = False

    def submit(self, task: Task, limits: Limits) -> Job:
        import random

        import numpy as np

        job = Job(task, limits)
        states = np.random.get_state(), random.getstate()
        start = time.perf_counter()
        try:
            answer = decode(encode(task.run()))
        finally:
            np.random.set_state(states[0])
            random.setstate(states[1])
        job.outcome = answer_outcome(task, answer, time.perf_counter() - start)
        return job

    def wait(self, jobs: Sequence[Job], timeout: float | None = None) -> list[Job]:
        return [job for job in jobs if job.outcome is not None]

    def cancel(self, job: Job) -> None:
        return None


_executors: dict[Any, Executor] = {}


def get_executor(sandbox: Sandbox | None = None, in_process: bool = False) -> Executor:
    """The executor of this process for these settings, started once and reused."""
    key = ("in_process",) if in_process else ("fork", None if sandbox is None else sandbox.key)
    if key not in _executors:
        if in_process:
            _executors[key] = InProcessExecutor()
        else:
            from rampconf.forkexec import ForkServerExecutor

            _executors[key] = ForkServerExecutor(sandbox)
    return _executors[key]


def run_isolated(task: Task, limits: Limits | None = None,
                 sandbox: Sandbox | None = None) -> TaskOutcome:
    """Run one task isolated on this machine (what a remote worker calls for a fold)."""
    for _, outcome in get_executor(sandbox).run([task], 1, limits):
        return outcome
    raise AssertionError("unreachable")


@atexit.register
def _close_all() -> None:
    for executor in _executors.values():
        with contextlib.suppress(Exception):
            executor.close()
    _executors.clear()
