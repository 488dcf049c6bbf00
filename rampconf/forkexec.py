"""The runner's side of the fork server: :class:`ForkServerExecutor`.

It starts ``python -m rampconf.forkserver`` once (inside bubblewrap with a
sandbox), keeps it for later runs of the process, and for each task: asks
the server to fork a fold process, sends the task to that process through
its own socket (the server never sees the data), then waits on the server's
events and the sockets together, so ``n_jobs`` tasks run at once. Answers
are decoded as plain data (:mod:`rampconf.wire`); a task that gave none
ended by a limit, a signal or an exit, and its outcome says which.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rampconf.limits import format_bytes
from rampconf.wire import decode, dumps_task
from rampconf.workers import Executor, Job, Limits, TaskOutcome, answer_outcome

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rampconf.isolation import Task
    from rampconf.sandbox import Sandbox

__all__ = ["ForkServerExecutor"]

SIGNAL_HINTS = {
    signal.SIGSEGV: "a segmentation fault: the submission or a compiled library it called "
                    "crashed",
    signal.SIGKILL: "killed from outside the run (the system's out-of-memory killer, or a user)",
    signal.SIGABRT: "aborted by a compiled library",
    signal.SIGBUS: "a bus error in compiled code",
}


@dataclass(eq=False)
class _Running:
    job: Job
    sock: socket.socket
    data: bytearray = field(default_factory=bytearray)
    eof: bool = False
    ended: dict[str, Any] | None = None


class ForkServerExecutor(Executor):
    """Tasks in fresh processes forked by a pre-warmed fork server (see the module docstring).

    Parameters
    ----------
    sandbox
        Run the fork server, hence every task, inside this OS sandbox.
    """

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox
        self._process: subprocess.Popen[bytes] | _Forked | None = None
        self._control: socket.socket | None = None
        self._selector = selectors.DefaultSelector()
        self._running: dict[int, _Running] = {}
        self._next_id = 0
        self._shared: tuple[Any, bytes, list[int]] | None = None
        self._preloaded: set[str] = set()

    def start(self) -> None:
        """Start the fork server unless it runs (cheap to call again)."""
        if self._process is not None and self._process.poll() is None:
            return
        self._reset()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-m", "rampconf.forkserver", str(theirs.fileno())]
        if self.sandbox is not None:
            command = [*self.sandbox.command(command),
                       "--private-tmp", str(self.sandbox.tmp_size)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAMPCONF_")}
        # its own session: a Ctrl-C in the terminal reaches the runner, which stops the folds
        self._process = subprocess.Popen(command, pass_fds=[theirs.fileno()], cwd="/", env=env,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        ours.setblocking(False)
        self._control = ours
        self._selector.register(ours, selectors.EVENT_READ, None)
        self._preloaded = set()

    def start_forked(self) -> None:
        """Start the fork server by forking this process instead of starting Python again.

        For a process that has imported what the server needs and holds
        nothing of a run yet (:mod:`rampconf.prewarm`): the server is then
        ready at once. As with :meth:`start`, it leads a session of its own,
        its working directory is ``/``, its standard input ``/dev/null``, and
        it keeps no descriptor of this process but its control socket.
        """
        if self.sandbox is not None or (self._process is not None
                                        and self._process.poll() is None):
            return
        self._reset()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        pid = os.fork()
        if pid == 0:
            try:
                _become_server(theirs.fileno())
            finally:
                os._exit(1)
        theirs.close()
        ours.setblocking(False)
        self._process = _Forked(pid)
        self._control = ours
        self._selector.register(ours, selectors.EVENT_READ, None)
        self._preloaded = set()

    def preload(self, modules: Sequence[str]) -> None:
        self.start()
        new = [name for name in modules if name not in self._preloaded]
        if new:
            self._send({"op": "preload", "modules": new})
            self._preloaded.update(new)

    def submit(self, task: Task, limits: Limits) -> Job:
        from rampconf.isolation import send_task

        self.start()
        job = Job(task, limits)
        self._next_id += 1
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sent = self._send({"op": "fork", "id": self._next_id, "timeout": limits.timeout,
                           "memory": limits.memory}, [theirs.fileno()])
        theirs.close()
        if not sent:
            ours.close()
            job.outcome = TaskOutcome("failed", error=[
                f"{task.describe()}: the fork server that runs the folds is not running"])
            return job
        shared, fds = self._pickled_shared(task.shared)
        bare = copy.copy(task)
        bare.shared = None
        task_bytes, _ = dumps_task(bare, share_files=False)
        with contextlib.suppress(OSError):  # the fold process is gone already: its end says why
            send_task(ours, task, shared, task_bytes, fds)
        ours.setblocking(False)
        self._running[self._next_id] = _Running(job, ours)
        self._selector.register(ours, selectors.EVENT_READ, self._next_id)
        return job

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
                if key.data is None:
                    self._read_events()
                else:
                    self._read_answer(key.data)
            for number, running in list(self._running.items()):
                if running.ended is not None and running.eof:
                    self._finish(number)

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
            if running is not None and event["event"] == "ended":
                running.ended = event

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
        assert ended is not None
        job.outcome = _outcome(job, ended, bytes(running.data))

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
        if self._control is not None:
            with contextlib.suppress(Exception):
                self._selector.unregister(self._control)
            self._control.close()
            self._control = None


class _Forked:
    """The few calls of :class:`subprocess.Popen` the executor makes, for a forked server."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(f"fork server {self.pid}", timeout or 0.0)
            time.sleep(0.005)
        assert self.returncode is not None
        return self.returncode


def _become_server(fd: int) -> None:
    """In the forked child: leave the parent's state and serve on ``fd`` (never returns)."""
    from rampconf import forkserver

    parent = os.getppid()
    os.setsid()
    forkserver._libc.prctl(forkserver.PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with its parent
    if os.getppid() != parent:
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    keep = sorted({0, 1, 2, fd})
    for low, high in zip(keep, [*keep[1:], os.sysconf("SC_OPEN_MAX")], strict=True):
        os.closerange(low + 1, high)  # nothing of the parent's: pipes, sockets, files
    if sys.path and sys.path[0] in (os.getcwd(), ""):  # as `python -m` in "/" would have it
        sys.path[0] = "/"
    os.chdir("/")
    for key in [key for key in os.environ if key.startswith("RAMPCONF_")]:
        del os.environ[key]
    sys.argv = [forkserver.__file__, str(fd)]
    _set_command_line(f"python -m rampconf.forkserver {fd}".encode())
    forkserver.main([str(fd)])
    os._exit(0)


def _set_command_line(title: bytes) -> None:
    """Write ``title`` over this process's command line, as ``/proc/PID/cmdline`` shows it.

    A forked server would show the runner's command line (the data root in
    it) to the fold processes; the kernel reads it from this process's memory
    (``arg_start`` to ``arg_end``, fields 48 and 49 of ``/proc/self/stat``).
    """
    import ctypes

    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # fields[0] is field 3, the state
        if end > start:
            ctypes.memmove(start, title[:end - start - 1].ljust(end - start, b"\0"), end - start)


def _outcome(job: Job, ended: dict[str, Any], data: bytes) -> TaskOutcome:
    """A task's outcome from its process's end and the bytes it sent."""
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
