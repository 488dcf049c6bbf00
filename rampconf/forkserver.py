"""The fork server: a clean, pre-warmed parent of fold processes.

``python -m rampconf.forkserver FD [--private-tmp BYTES]`` is started by
:class:`rampconf.workers.ForkServerExecutor` (inside bubblewrap when the run
asks for the sandbox, so every fold process inherits it). It imports NumPy,
pandas, scikit-learn and the run's plugin modules once, fits a small pipeline
of its own once (:func:`exercise_libraries`: scikit-learn's first-time work,
done for all folds; after its preload, when idle or before the first fold's
fork, a check being forked first), never holds
any data and never runs submission code: for each task it forks one fold
process, which receives its inputs itself through its own socket, runs the
task, sends plain data back and ends. A fold process is never reused (folds
overlap: one that kept fold 1's labels could predict fold 2's valid rows).

The server enforces the limits: each fold process leads its own session; at
``timeout`` seconds (wall) or above ``memory`` bytes (see
:mod:`rampconf.limits`) it is killed with everything it started, and when it
ends, whatever it left behind is killed too (the server is a child
subreaper: orphans come back to it and are ended).

Control protocol (one JSON object per packet of a ``SOCK_SEQPACKET`` socket):

- runner -> server: ``{"op": "preload", "modules": [...]}``;
  ``{"op": "fork", "id": N, "timeout": s|null, "memory": bytes|null}`` with
  the fold's socket as a passed file descriptor (with ``"armed": false``, a
  primed process: no limit and no clock yet; with ``"warm": false``, a task
  that fits nothing, forked even before the warm-up); ``{"op": "arm", "id": N,
  "timeout": ..., "memory": ...}`` when a primed process gets its task (its
  limits and its elapsed time start then); ``{"op": "kill", "id": N}``.
- server -> runner: ``{"event": "started", "id": N, "pid": P}`` and
  ``{"event": "ended", "id": N, "code": int|null, "signal": int|null,
  "limit": null|"timeout"|"memory"|"killed", "elapsed": s, "peak_memory": bytes}``.

The server ends, killing every fold, when the runner closes the socket.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from rampconf.limits import children, kill_tree, process_tree, resident_memory

__all__ = ["main"]

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 1, 4, 36
MEMORY_POLL = 0.05  # seconds between two measures of a fold's memory
SETUP_FAILED = 70  # exit code of a fold process that could not set itself up (EX_SOFTWARE)
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class _Fold:
    id: int
    pid: int
    folder: str | None
    started: float = field(default_factory=time.monotonic)
    deadline: float | None = None
    memory: int | None = None
    limit: str | None = None
    peak: int = 0

    def arm(self, message: dict[str, Any]) -> None:
        """The task starts now: its clock and its limits (``timeout``, ``memory``)."""
        self.started = time.monotonic()
        timeout = message.get("timeout")
        self.deadline = None if timeout is None else self.started + timeout
        self.memory = message.get("memory")


class Server:
    """The server's state: the control socket, the running fold processes."""

    def __init__(self, control: socket.socket, private_tmp: int | None) -> None:
        self.control = control
        self.private_tmp = private_tmp
        self.folds: dict[int, _Fold] = {}  # pid -> fold
        self.exercised = False
        self.exercise_due = False  # preloaded: warm up once nothing waits (see serve)
        self.selector = selectors.DefaultSelector()
        self.wakeup_r, self.wakeup_w = os.pipe()
        os.set_blocking(self.wakeup_r, False)
        os.set_blocking(self.wakeup_w, False)
        signal.set_wakeup_fd(self.wakeup_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(control, selectors.EVENT_READ, "control")
        self.selector.register(self.wakeup_r, selectors.EVENT_READ, "signal")

    def serve(self) -> None:
        while True:
            events = self.selector.select(0.0 if self.exercise_due else self._wait())
            if self.exercise_due and not events:
                self._exercise()  # idle: the warm-up now
            for key, _ in events:
                if key.data == "signal":
                    while True:
                        try:
                            if not os.read(self.wakeup_r, 512):
                                break
                        except BlockingIOError:
                            break
                elif not self._receive():
                    self._shutdown()
                    return
            self._reap()
            self._enforce()

    def _exercise(self) -> None:
        """The warm-up, once, due since the preload: run when the server is idle or a
        fold is to be forked, so that a check asked during the preload does not wait
        for it (the runner waited ~50 ms for an iris check)."""
        self.exercise_due, self.exercised = False, True
        exercise_libraries()

    def _wait(self) -> float | None:
        now = time.monotonic()
        waits = [f.deadline - now for f in self.folds.values() if f.deadline is not None]
        if any(f.memory is not None for f in self.folds.values()):
            waits.append(MEMORY_POLL)
        if self.folds:
            waits.append(1.0)  # orphans of running folds are looked for every second
        return max(0.0, min(waits)) if waits else None

    def _receive(self) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.control, 65536, 4)
        except ConnectionError:
            return False
        if not data:
            return False
        message = json.loads(data)
        if message["op"] == "preload":
            for name in message["modules"]:
                try:
                    __import__(name)
                except Exception:  # a module the fold cannot import fails there
                    continue
            self.exercise_due = "sklearn" in sys.modules and not self.exercised
        elif message["op"] == "fork":
            if self.exercise_due and message.get("warm", True):
                self._exercise()  # a fold is forked warm; a check asked meanwhile was not held
            self._fork(message, fds[0])
        elif message["op"] == "arm":
            for fold in self.folds.values():
                if fold.id == message["id"] and fold.limit is None:
                    fold.arm(message)
        elif message["op"] == "kill":
            for fold in self.folds.values():
                if fold.id == message["id"] and fold.limit is None:
                    fold.limit = "killed"
                    kill_tree(fold.pid)
        return True

    def _fork(self, message: dict[str, Any], fd: int) -> None:
        folder = None if self.private_tmp else tempfile.mkdtemp(prefix="rampconf-fold-")
        # What the server holds (the imported modules) is left out of the fold's garbage
        # collections: collecting would write to every object's header, copying the pages
        # the fold shares with the server (its memory, and the time to copy it).
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # the fold process
            code = SETUP_FAILED
            gc.enable()
            try:
                _become_fold(self, fd, folder, primed=not message.get("armed", True))
                code = 0
            except BaseException:
                import traceback

                traceback.print_exc()  # our own failure, never the submission's (caught inside)
            finally:
                os._exit(code)
        os.close(fd)
        fold = self.folds[pid] = _Fold(id=message["id"], pid=pid, folder=folder)
        if message.get("armed", True):
            fold.arm(message)
        self._send({"event": "started", "id": message["id"], "pid": pid})

    def _reap(self) -> None:
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            fold = self.folds.pop(info.si_pid, None)
            if fold is not None:
                kill_tree(fold.pid)  # its group still exists: the leader is not reaped yet
            _, status = os.waitpid(info.si_pid, 0)
            if fold is None:
                continue  # an orphan re-parented to us
            self._kill_orphans()
            if fold.folder:
                shutil.rmtree(fold.folder, ignore_errors=True)
            self._send({"event": "ended", "id": fold.id,
                        "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                        "limit": fold.limit, "elapsed": time.monotonic() - fold.started,
                        "peak_memory": fold.peak})

    def _enforce(self) -> None:
        now = time.monotonic()
        for fold in self.folds.values():
            if fold.limit is not None:
                continue
            if fold.deadline is not None and now >= fold.deadline:
                fold.limit = "timeout"
            elif fold.memory is not None:
                fold.peak = max(fold.peak, resident_memory(process_tree(fold.pid)))
                if fold.peak > fold.memory:
                    fold.limit = "memory"
            if fold.limit is not None:
                kill_tree(fold.pid)
        if self.folds:
            self._kill_orphans()

    def _kill_orphans(self) -> None:
        """End processes re-parented to the server: left behind by a fold whose parent ended."""
        for pid in children(os.getpid()):
            if pid not in self.folds:
                kill_tree(pid)

    def _send(self, event: dict[str, Any]) -> None:
        try:
            self.control.send(json.dumps(event).encode())
        except OSError:
            self._shutdown()
            os._exit(0)

    def _shutdown(self) -> None:
        for fold in list(self.folds.values()):
            kill_tree(fold.pid)
        for pid in children(os.getpid()):
            kill_tree(pid)
        for fold in self.folds.values():
            if fold.folder:
                shutil.rmtree(fold.folder, ignore_errors=True)


def exercise_libraries() -> None:
    """Fit and predict a small scikit-learn pipeline on six made-up rows.

    Once in the server: what scikit-learn and pandas do the first time only
    (the narwhals backend that scikit-learn imports when it first sees a
    DataFrame, compiled regular expressions, package versions read from their
    metadata, cached signatures) then happens once instead of in every fold
    process, about 20 ms per fold of a small tabular submission.

    Again in each primed fold process while it waits for its task (on the
    core the running fold leaves free): a forked process writes to the pages
    it shares with the server the first time it uses their objects (their
    reference counts), and each such write copies the page; this takes
    those copies (about 3,000 for a titanic fit, which ran 2.5 times slower
    than in a warm process) off the fold's path.

    This is our code on our rows, before any task: no submission code runs
    in the server, and the fold's own seeds are set when its task starts. A
    failure (another library version) only leaves that work to the folds.
    """
    import warnings

    try:
        import pandas as pd
        from sklearn.compose import make_column_transformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        X = pd.DataFrame({"word": ["a", "b", "a", "c", "b", "a"],
                          "number": [1.0, float("nan"), 3.0, 4.0, 5.0, 6.0],
                          "count": [1, 2, 3, 1, 2, 3]})
        y = pd.Series([0, 1, 0, 1, 0, 1])
        model = make_pipeline(
            make_column_transformer(
                (OneHotEncoder(handle_unknown="ignore"), ["word"]),
                (make_pipeline(SimpleImputer(), StandardScaler()), ["number", "count"])),
            LogisticRegression())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y).predict_proba(X)
        X.iloc[[0, 2]].to_numpy()
    except Exception:  # only a warm-up: the folds do this work themselves then
        pass


def _become_fold(server: Server, fd: int, folder: str | None, primed: bool) -> None:
    """In the forked child: leave the server's state, isolate, run the task, answer.

    A primed process warms itself up while it waits (:func:`exercise_libraries`).
    """
    parent = os.getppid()
    os.setsid()
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        return
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    server.selector.close()
    server.control.close()
    os.close(server.wakeup_r)
    os.close(server.wakeup_w)
    if server.private_tmp:
        from rampconf.sandbox import private_tmp

        folder = private_tmp(server.private_tmp)
    assert folder is not None
    for sub in ("work", "tmp"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    os.chdir(os.path.join(folder, "work"))
    tempfile.tempdir = os.environ["TMPDIR"] = os.path.join(folder, "tmp")
    # other processes of this user can no longer read this one's memory (and none did attach
    # before: the task is not read yet)
    _libc.prctl(PR_SET_DUMPABLE, 0)
    with open("/proc/self/status") as status:
        tracer = next((line.split()[1] for line in status if line.startswith("TracerPid:")), "0")
    if tracer != "0":
        raise RuntimeError(f"process {tracer} attached to the fold process before its task came")
    sock = socket.socket(fileno=fd)
    from rampconf.isolation import serve_task

    serve_task(sock, while_waiting=exercise_libraries if primed else None)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            continue


def main(argv: list[str] | None = None) -> None:
    """Entry point: serve the runner on the control socket given by its descriptor."""
    args = sys.argv[1:] if argv is None else argv
    # `python -m` put the server's working directory first on sys.path; nothing is imported
    # from there
    if sys.path and sys.path[0] in (os.getcwd(), ""):
        del sys.path[0]
    private_tmp = int(args[2]) if len(args) > 2 and args[1] == "--private-tmp" else None
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    gc.disable()  # no holes in the pages the fold processes share (see Server._fork)
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
    # fold processes (same user) cannot attach to the server to watch later folds' inputs
    _libc.prctl(PR_SET_DUMPABLE, 0)
    import warnings

    warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
    import numpy  # noqa: F401 - every fold needs it; imported once here

    # every fold runs its task (isolation) and takes its rows (readers) with them
    from rampconf import isolation, readers  # noqa: F401

    Server(socket.socket(fileno=int(args[0])), private_tmp).serve()


if __name__ == "__main__":
    main()
