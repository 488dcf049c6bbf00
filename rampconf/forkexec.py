"""The runner's side of the fork server: :class:`ForkServerExecutor`.

It starts ``python -m rampconf.forkserver`` once (inside bubblewrap with a
sandbox), keeps it for later runs of the process, and for each task: asks
the server to fork a fold process, sends the run's shared inputs and the
task to that process through its own socket (the server never sees the
data), then waits on the server's events and the sockets together, so
``n_jobs`` tasks run at once. Answers are decoded as plain data
(:mod:`rampconf.wire`); a task that gave none ended by a limit, a signal or
an exit, and its outcome says which.

**Primed processes.** Each time a task with shared inputs is started, one
more fold process is forked and sent those inputs at once, while the task
runs on the other core: the *primed* process unpickles them, runs the fork
server's warm-up pipeline (:func:`rampconf.forkserver.exercise_libraries`)
and waits. The next task with the same inputs takes it: the server arms it
(its limits and clock start then) and it receives only its own task. After
a task without shared inputs (a check) and when a run ends (a sweep's next
trial has other inputs), the process is primed for any task instead: it
receives the inputs with its task. A fold process is still forked from the
clean server and runs one task at most; one never given a task ends when
its socket closes. This takes the fork, the set-up, the inputs and the
copies of pages shared with the server off the folds' path (a titanic
fold's fit: 40 -> 24 ms). Inputs over :data:`PRIME_LIMIT` bytes (pickled)
are not sent ahead: they would be held twice.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import selectors
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rampconf.wire import dumps_task
from rampconf.workers import Executor, Job, Limits, TaskOutcome, ended_outcome

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rampconf.forkstart import Forked
    from rampconf.isolation import Task
    from rampconf.sandbox import Sandbox

__all__ = ["PRIME_LIMIT", "ForkServerExecutor"]

#: Shared inputs larger than this (pickled, in bytes) are not sent to a primed process.
PRIME_LIMIT = 64 << 20

@dataclass(eq=False)
class _Running:
    job: Job
    sock: socket.socket
    data: bytearray = field(default_factory=bytearray)
    eof: bool = False
    ended: dict[str, Any] | None = None
    started: float = field(default_factory=time.monotonic)

    def answered(self) -> bool:
        """Whether the whole answer came and the socket closed: the task is over, its
        outcome need not wait for the process's end (about 7 ms to unmap its memory)."""
        if not self.eof or len(self.data) < 8:
            return False
        return len(self.data) == 8 + int.from_bytes(self.data[:8], "little")


@dataclass(eq=False)
class _Primed:
    """A forked fold process that has the shared inputs ``shared`` and waits for a task."""

    number: int
    sock: socket.socket
    shared: Any
    ended: bool = False


class ForkServerExecutor(Executor):
    """Tasks in fresh processes forked by a pre-warmed fork server (see the module docstring).

    Parameters
    ----------
    sandbox
        Run the fork server, hence every task, inside this OS sandbox.
    """

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox
        self._process: subprocess.Popen[bytes] | Forked | None = None
        self._control: socket.socket | None = None
        self._selector = selectors.DefaultSelector()
        self._running: dict[int, _Running] = {}
        self._next_id = 0
        self._shared: tuple[Any, bytes, list[int]] | None = None
        self._preloaded: set[str] = set()
        self._primed: _Primed | None = None
        self._ending: set[int] = set()  # tasks that answered, whose process has not ended yet
        self.more_runs = True  # may a run follow (sweep, notebook): settle primes for it

    def start(self) -> None:
        """Start the fork server unless it runs (cheap to call again)."""
        if self._process is not None and self._process.poll() is None:
            return
        self._reset()
        from rampconf.forkstart import spawn_server

        self._process, control = spawn_server(self.sandbox)
        self._connect(control)

    def start_forked(self) -> None:
        """Start the fork server by forking this process instead of starting Python again.

        For a process that has imported what the server needs and holds
        nothing of a run yet (:mod:`rampconf.prewarm`): the server is then
        ready at once (see :func:`rampconf.forkstart.fork_server`).
        """
        if self.sandbox is not None or (self._process is not None
                                        and self._process.poll() is None):
            return
        self._reset()
        from rampconf.forkstart import fork_server

        self._process, control = fork_server()
        self._connect(control)

    def _connect(self, control: socket.socket) -> None:
        """Talk to a new server through ``control``; it has preloaded nothing yet."""
        control.setblocking(False)
        self._control = control
        self._selector.register(control, selectors.EVENT_READ, None)
        self._preloaded = set()

    def preload(self, modules: Sequence[str]) -> None:
        self.start()
        new = [name for name in modules if name not in self._preloaded]
        if new:
            self._send({"op": "preload", "modules": new})
            self._preloaded.update(new)

    def submit(self, task: Task, limits: Limits) -> Job:
        from rampconf.isolation import send_shared, send_task

        self.start()
        job = Job(task, limits)
        primed = self._take_primed(task.shared)
        if primed is not None:
            number, ours = primed.number, primed.sock
            self._send({"op": "arm", "id": number, "timeout": limits.timeout,
                        "memory": limits.memory})
        else:
            forked = self._fork(limits, warm=task.fits)
            if forked is None:
                job.outcome = TaskOutcome("failed", error=[
                    f"{task.describe()}: the fork server that runs the folds is not running"])
                return job
            number, ours = forked
        if primed is None or primed.shared is None:
            shared, fds = self._pickled_shared(task.shared)
            with contextlib.suppress(OSError):  # the process is gone already: its end says why
                send_shared(ours, shared, fds)
        bare = copy.copy(task)
        bare.shared = None
        task_bytes, _ = dumps_task(bare, share_files=False)
        with contextlib.suppress(OSError):
            send_task(ours, task_bytes)
        ours.setblocking(False)
        self._running[number] = _Running(job, ours)
        self._selector.register(ours, selectors.EVENT_READ, number)
        if task.shared is not None or self._primed is None:
            self._prime(task.shared)
        return job

    def _fork(self, limits: Limits | None, warm: bool = True) -> tuple[int, socket.socket] | None:
        """Ask for a fold process: (its number, our end of its socket); None if no server.

        Without ``limits`` it is a primed process, armed when it gets its task.
        ``warm=False``: a task that fits nothing (a check), which need not wait
        for the server's warm-up.
        """
        self._next_id += 1
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        message: dict[str, Any] = {"op": "fork", "id": self._next_id, "armed": limits is not None,
                                   "warm": warm}
        if limits is not None:
            message.update(timeout=limits.timeout, memory=limits.memory)
        sent = self._send(message, [theirs.fileno()])
        theirs.close()
        if not sent:
            ours.close()
            return None
        return self._next_id, ours

    def _prime(self, shared: Any) -> None:
        """Fork the next task's process now and send it ``shared`` (see the module docstring).

        Without ``shared`` (or too much of it) it is primed for any task.
        """
        from rampconf.isolation import send_shared

        data, fds = self._pickled_shared(shared)
        if len(data) > PRIME_LIMIT:
            shared, data, fds = None, b"", []
        forked = self._fork(None)
        if forked is None:
            return
        number, sock = forked
        if shared is not None:
            try:
                send_shared(sock, data, fds)
            except OSError:
                sock.close()
                return
        self._primed = _Primed(number, sock, shared)

    def _take_primed(self, shared: Any) -> _Primed | None:
        """The live primed process for a task with these shared inputs, or for any task.

        One primed for other inputs is let go, unless the task has none (a
        check): the run's folds come next.
        """
        primed = self._primed
        if primed is None or (shared is None and primed.shared is not None):
            return None
        self._primed = None
        if primed.shared in (None, shared) and not primed.ended:
            return primed
        primed.sock.close()  # it ends without running anything
        return None

    def _pickled_shared(self, shared: Any) -> tuple[bytes, list[int]]:
        if shared is None:
            return b"", []
        if self._shared is None or self._shared[0] is not shared:
            self._close_shared()
            data, fds = dumps_task(shared, share_files=self.sandbox is None)
            self._shared = (shared, data, fds)
        return self._shared[1], self._shared[2]

    def _close_shared(self) -> None:
        if self._shared is not None:
            for fd in self._shared[2]:
                os.close(fd)
            self._shared = None

    def wait(self, jobs: Sequence[Job], timeout: float | None = None) -> list[Job]:
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            done = [job for job in jobs if job.outcome is not None]
            if done or not jobs:
                return done
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return []
            for key, _ in self._selector.select(left):
                self._dispatch(key.data)
            for number, running in list(self._running.items()):
                if running.eof and (running.ended is not None or running.answered()):
                    self._finish(number)

    def settle(self) -> None:
        end = time.monotonic() + 10
        while self._ending and self._control is not None and time.monotonic() < end:
            for key, _ in self._selector.select(end - time.monotonic()):
                self._dispatch(key.data)
        if self.more_runs and self._primed is not None and self._primed.shared is not None:
            # the next run has other inputs (a sweep's next trial): one primed for any task
            self._primed.sock.close()
            self._prime(None)

    def cancel(self, job: Job) -> None:
        for number, running in self._running.items():
            if running.job is job:
                self._send({"op": "kill", "id": number})

    def close(self) -> None:
        process, self._process = self._process, None
        idle = not self._running
        self._reset()
        self._close_shared()
        if process is not None:
            if idle:  # no fold runs: nothing to clean up, and it may be importing (a preload)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def _send(self, message: dict[str, Any], fds: Sequence[int] = ()) -> bool:
        if self._control is None:
            return False
        try:
            socket.send_fds(self._control, [json.dumps(message).encode()], list(fds))
        except OSError:
            self._server_died()
            return False
        return True

    def _dispatch(self, number: int | None) -> None:
        """Read what came: the server's events (``None``) or task ``number``'s answer."""
        if number is None:
            self._read_events()
        else:
            self._read_answer(number)

    def _read_events(self) -> None:
        assert self._control is not None
        while True:
            try:
                packet = self._control.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                packet = b""
            if not packet:
                self._server_died()
                return
            event = json.loads(packet)
            running = self._running.get(event["id"])
            self._ending.discard(event["id"])
            if running is not None and event["event"] == "ended":
                running.ended = event
            elif (self._primed is not None and event["id"] == self._primed.number
                  and event["event"] == "ended"):
                self._primed.ended = True  # killed before it was needed: not taken

    def _read_answer(self, number: int) -> None:
        running = self._running[number]
        while True:
            try:
                chunk = running.sock.recv(1 << 20)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                running.eof = True
                self._selector.unregister(running.sock)
                return
            running.data += chunk

    def _finish(self, number: int) -> None:
        running = self._running.pop(number)
        running.sock.close()
        job, ended = running.job, running.ended
        if ended is None:  # answered: its end comes later (settle waits for it)
            ended = {"elapsed": time.monotonic() - running.started}
            self._ending.add(number)
        job.outcome = ended_outcome(job, ended, bytes(running.data))

    def _server_died(self) -> None:
        code = None if self._process is None else self._process.poll()
        for number, running in list(self._running.items()):
            self._running.pop(number)
            with contextlib.suppress(Exception):
                self._selector.unregister(running.sock)
            running.sock.close()
            running.job.outcome = TaskOutcome("failed", error=[
                f"{running.job.task.describe()}: the fork server that runs the folds ended "
                f"unexpectedly (exit code {code}); the submission may have killed it"])
        self._reset()
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        self._process = None

    def _reset(self) -> None:
        self._ending.clear()
        if self._primed is not None:
            self._primed.sock.close()
            self._primed = None
        if self._control is not None:
            with contextlib.suppress(Exception):
                self._selector.unregister(self._control)
            self._control.close()
            self._control = None
