"""Folds of a run on a Dask cluster (``backend=dask dask_address=tcp://HOST:8786``).

:class:`DaskExecutor` is an :class:`~rampconf.workers.Executor`: the runner
sends it the same isolated tasks as to the local fork server, ``n_jobs`` at a
time (``-1``: as many as the cluster has worker threads). Each task becomes
one Dask task that runs :func:`run_on_worker` on a Dask worker, which runs the
fold exactly as a local run does: in a fresh process forked by a fork server
of that worker (:mod:`rampconf.forkexec`), under the run's ``fold_timeout``
and ``fold_memory`` (and inside bubblewrap with ``sandbox=bwrap``). The
worker gives back the task's outcome as plain data; the caller scores and
bags, so the numbers are those of a local run.

What is sent: a run's shared inputs (features to predict, plugins,
submission) are scattered to the cluster once per run, each task carries
only its fold's rows and labels. The submission's files are read from their
path on the worker: the workers must see the same file system (a cluster
on one machine, or a shared folder). Stopping a task (a run's time limit,
Ctrl-C) sets a Dask ``Event`` that the worker polls; it then kills the fold
process. A fold that fails, crashes or overruns is reported by its Dask task
like any outcome; a Dask worker process that dies has its tasks run again
elsewhere by Dask (a fold's seed is fixed: same numbers) up to Dask's
``allowed-failures``, after which the fold is recorded as failed.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import threading
import uuid
from typing import TYPE_CHECKING, Any

from rampconf.errors import ConfigError
from rampconf.extras import Extra
from rampconf.workers import Executor, Job, Limits, TaskOutcome

if TYPE_CHECKING:
    from collections.abc import Generator, Sequence

    from rampconf.isolation import Task
    from rampconf.sandbox import Sandbox

__all__ = ["DASK", "DaskExecutor", "get_dask_executor", "run_on_worker"]

DASK = Extra("dask", ("dask", "distributed"))
CONNECT_TIMEOUT = 30  # seconds to reach the scheduler
POLL = 0.25  # seconds between a worker's checks of its task's stop event

_lock = threading.Lock()  # the worker's executor is shared by its threads, one call at a time


def run_on_worker(task: Task, shared: Any, limits: Limits, sandbox: Sandbox | None,
                  stop: str) -> TaskOutcome:
    """Run one task isolated on this Dask worker (its fork server); the task's outcome.

    The task's fold process is killed when the event named ``stop`` is set.
    """
    from distributed import Event

    from rampconf.workers import get_executor

    executor = get_executor(sandbox)
    task.shared = shared
    event = Event(stop)
    with _lock:
        job = executor.submit(task, limits)
    cancelled = False
    while job.outcome is None:
        with _lock:  # a wait also records the ends of other threads' tasks
            executor.wait([job], POLL)
        if job.outcome is None and not cancelled and event.is_set():
            with _lock:
                executor.cancel(job)
            cancelled = True
    return job.outcome


def _preload(modules: list[str]) -> None:
    from rampconf.workers import get_executor

    with _lock:
        get_executor().preload(modules)


class DaskExecutor(Executor):
    """Tasks on the Dask cluster of ``address``, each isolated on its worker (module docstring)."""

    def __init__(self, address: str, sandbox: Sandbox | None = None) -> None:
        from distributed import Client

        self.address = address
        self.sandbox = sandbox
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"dask_address: cannot reach the Dask scheduler at {address!r}: "
                              f"{exc}") from None
        self._futures: dict[int, tuple[Any, str]] = {}  # id(job) -> (future, stop event name)
        self._shared: tuple[Any, Any] | None = None  # (shared object, its scattered future)

    def threads(self) -> int:
        """Worker threads of the cluster now (waits up to a minute for a first worker)."""
        with contextlib.suppress(Exception):
            self.client.wait_for_workers(1, timeout=60)
        info = self.client.scheduler_info(n_workers=-1)
        return max(1, sum(int(w.get("nthreads", 1)) for w in info["workers"].values()))

    def run(self, tasks: Sequence[Task], n_jobs: int = 1, limits: Limits | None = None,
            deadline: float | None = None, settle: bool = True
            ) -> Generator[tuple[int, TaskOutcome], None, None]:
        """As :meth:`Executor.run`; ``n_jobs=-1``: as many tasks as the cluster has threads."""
        return super().run(tasks, self.threads() if n_jobs < 0 else n_jobs, limits, deadline,
                           settle)

    def preload(self, modules: Sequence[str]) -> None:
        """Each worker's own fork server imports ``modules`` (a hint; errors are ignored)."""
        with contextlib.suppress(Exception):
            self.client.run(_preload, list(modules))

    def _scattered(self, shared: Any) -> Any:
        if shared is None:
            return None
        if self._shared is None or self._shared[0] is not shared:
            self._shared = (shared, self.client.scatter(shared, broadcast=False, hash=False))
        return self._shared[1]

    def submit(self, task: Task, limits: Limits) -> Job:
        job = Job(task, limits)
        bare = copy.copy(task)
        bare.shared = None
        stop = f"rampconf-stop-{uuid.uuid4().hex}"
        future = self.client.submit(run_on_worker, bare, self._scattered(task.shared), limits,
                                    self.sandbox, stop, pure=False,
                                    key=f"rampconf-{task.describe().replace(' ', '-')}-"
                                        f"{uuid.uuid4().hex[:8]}")
        self._futures[id(job)] = (future, stop)
        return job

    def wait(self, jobs: Sequence[Job], timeout: float | None = None) -> list[Job]:
        from distributed import wait as dask_wait

        done = [job for job in jobs if job.outcome is not None]
        if done or not jobs:
            return done
        futures = {self._futures[id(job)][0]: job for job in jobs}
        with contextlib.suppress(TimeoutError), self.client.as_current():
            dask_wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED")
        for future, job in futures.items():
            if future.done():
                job.outcome = self._outcome(job, future)
                self._futures.pop(id(job), None)
        return [job for job in jobs if job.outcome is not None]

    def _outcome(self, job: Job, future: Any) -> TaskOutcome:
        if future.status == "finished":
            outcome = future.result()
            if isinstance(outcome, TaskOutcome):
                return outcome
            return TaskOutcome("failed", error=[f"{job.task.describe()}: the Dask worker "
                                                "answered something that is not an outcome"])
        try:
            exc = future.exception()
        except Exception as error:  # cancelled futures raise here
            exc = error
        return TaskOutcome("failed", error=[
            f"{job.task.describe()}: the Dask task ended without an outcome "
            f"({type(exc).__name__}: {exc}); the worker may have died"])

    def cancel(self, job: Job) -> None:
        from distributed import Event

        entry = self._futures.get(id(job))
        if entry is not None:
            with contextlib.suppress(Exception):
                Event(entry[1], client=self.client).set()

    def close(self) -> None:
        self._shared = None
        with contextlib.suppress(Exception):
            self.client.close()


_executors: dict[tuple[str, Any], DaskExecutor] = {}


def get_dask_executor(address: str, sandbox: Sandbox | None = None) -> DaskExecutor:
    """The executor of the cluster at ``address`` for this process (connected once, reused).

    Raises
    ------
    ConfigError
        dask and distributed are not installed (``pip install 'rampconf[dask]'``), or
        the scheduler cannot be reached.
    """
    DASK.check(f"backend=dask (dask_address={address})")
    key = (address, None if sandbox is None else sandbox.key)
    executor = _executors.get(key)
    if executor is None or executor.client.status not in ("running", "connecting"):
        executor = _executors[key] = DaskExecutor(address, sandbox)
    return executor


@atexit.register
def close_all() -> None:
    """Disconnect from every cluster (the clusters keep running)."""
    for executor in _executors.values():
        executor.close()
    _executors.clear()
