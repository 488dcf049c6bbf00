"""A runner process started before Hydra, so that the run's imports overlap its composition.

``python -m rampconf`` spends about 0.7 s in Hydra (its import, composing the
config) and pydantic (validating it) before a run can start, and a run needs
NumPy, pandas and scikit-learn (about 1.5 s of imports here) in the runner and
in the fork server that forks the fold processes. Done one after the other,
those costs made a short run take 1.9 times a plain scikit-learn script.

So, for a single run from the command line, :func:`start` forks the process
at once, before Hydra is imported: the child (the *runner*) imports what a
run needs and forks the fork server from itself (clean: no config, data or
submission has been seen, as :mod:`rampconf.forkserver` requires), while the
parent composes and validates the config with Hydra. The parent then sends
the validated config to the runner (:meth:`Runner.run`), which runs it
exactly as :func:`rampconf.api.run_config` does in process, prints to the
same terminal and answers with the exit code. The parent keeps Hydra's part:
the run directory it names, its callbacks, ``.hydra/``, exit codes.

- Signals: the runner leads a process group of its own, so a Ctrl-C in the
  terminal reaches the parent only, which passes SIGINT and SIGTERM on to the
  runner once (the runner then stops the folds and saves what finished, as a
  run does in process); the runner dies with the parent (``PR_SET_PDEATHSIG``).
- Not used (the run happens in process, as before) for multiruns and any
  command-line flag (``-m``, ``--cfg``, ``--help``...), with
  ``unsafe_in_process=true`` (for debuggers), when other threads run, off
  Linux, or when ``RAMPCONF_PREWARM=0``.
- A command that ends before the run (a config error, ``--help``) ends the
  runner unused; it never printed anything.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import signal
import socket
import struct
import sys
import threading
from typing import Any

__all__ = ["Runner", "start", "verdict", "verdict_error"]

PR_SET_PDEATHSIG = 1
_HEADER = struct.Struct("<Q")


def wanted(argv: list[str]) -> bool:
    """Whether a command line runs one run that a pre-warmed runner can serve."""
    return (sys.platform == "linux" and os.environ.get("RAMPCONF_PREWARM", "1") != "0"
            and threading.active_count() == 1
            and not any(arg.startswith("-") for arg in argv)
            and not any(arg.lstrip("+~").startswith("unsafe_in_process=") for arg in argv))


class Runner:
    """The parent's handle on the pre-warmed runner process."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock

    def validate(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        """The runner's verdict on a composed config (it has pydantic and the models loaded).

        ``{"ok": True}``, or ``{"ok": False, "label", "lines", "exit_code"}``
        for a config error; None when the runner cannot say (it ended, or its
        validation failed unexpectedly): validate here then.
        """
        try:
            _send(self.sock, {"op": "validate", "raw": raw})
            verdict = _receive(self.sock)
        except OSError:
            return None
        return verdict if isinstance(verdict, dict) and "ok" in verdict else None

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Have the runner run ``request`` (see :func:`_serve`); its answer.

        SIGINT and SIGTERM received meanwhile are passed on to the runner,
        which stops the run and answers with exit code 130 / 143. A runner
        that ends without answering (killed) is one error line and exit code 1.
        """
        request = {**request, "cwd": os.getcwd(), "env": dict(os.environ), "argv": sys.argv}

        def forward(signum: int, frame: Any) -> None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

        forwarded = [signal.SIGTERM]
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # a background job ignores it
            forwarded.append(signal.SIGINT)
        previous = {signum: signal.signal(signum, forward) for signum in forwarded}
        try:
            _send(self.sock, request)
            answer = _receive(self.sock)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.sock.close()
        _, status = os.waitpid(self.pid, 0)
        if answer is None:  # one line, as any error of a run (what it printed is above)
            print(f"error: the process running the run ended without an answer "
                  f"({_describe_status(status)}); RAMPCONF_PREWARM=0 runs it in this process",
                  file=sys.stderr)
            return {"exit_code": 1, "objective": None, "discard": False}
        return answer

    def close(self) -> None:
        """End the runner unused (it is killed: it may still be importing)."""
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def start(argv: list[str]) -> Runner | None:
    """Fork the runner now if :func:`wanted`; the parent's handle (None in the child: never)."""
    if not wanted(argv):
        return None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the runner: never returns
        code = 1
        try:
            ours.close()
            from rampconf.execution import default_executor

            code = _serve(theirs, parent, preload_server=default_executor(argv))
        except BaseException:  # a bug of ours: say it, end with 1
            import traceback

            traceback.print_exc()
        finally:
            exit_now(code)
    theirs.close()
    return Runner(pid, ours)


def _serve(sock: socket.socket, parent: int, preload_server: bool) -> int:
    """The runner: import, fork the fork server, wait for the run, run it, answer."""
    os.setpgid(0, 0)  # a Ctrl-C in the terminal reaches the parent only, which passes it on
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        return 0
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # until the run starts: the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # a background process group may still write to the terminal with `stty tostop`
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the terminal's input stays the parent's
    os.close(devnull)
    # No garbage collection during the imports: they make little garbage, and the full
    # collections their allocations set off walked every object imported so far (three,
    # 0.13 s of this process's path); frozen after them, out of every later collection.
    gc.disable()
    import rampconf.schema  # noqa: F401 - pydantic and the config models, first

    # The command's config is validated here, on a thread, while the libraries are imported:
    # the command then imports no pydantic, and reports a config error at once.
    validator = threading.Thread(target=_validate_first, args=(sock,),
                                 name="rampconf-validate", daemon=True)
    validator.start()
    import numpy  # noqa: F401 - what every run, and the fork server, needs
    import pandas  # noqa: F401
    import sklearn.base  # noqa: F401

    validator.join()  # no other thread when the fork server is forked
    if preload_server:
        from rampconf.forkexec import ForkServerExecutor
        from rampconf.workers import get_executor

        executor = get_executor()
        assert isinstance(executor, ForkServerExecutor)
        executor.start_forked()  # clean: nothing of the run is known yet
        executor.more_runs = False  # this process runs one run: nothing to prime after it
        from rampconf.execution import WARM_MODULES

        executor.preload(WARM_MODULES)
    from rampconf import cli
    from rampconf.api import run_config  # noqa: F401 - and the modules of a run
    from rampconf.outputs import RunWriter  # noqa: F401
    from rampconf.report import print_run  # noqa: F401
    from rampconf.runner import execute  # noqa: F401

    gc.freeze()
    gc.enable()
    request = _receive(sock)
    if request is None:  # the parent needed no run
        return 0
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, cli._terminate)
    try:
        answer = cli.run_and_report(request["kwargs"], multirun=False, debug=request["debug"])
    except KeyboardInterrupt as exc:  # before the folds started: nothing to save
        from rampconf.errors import RunInterrupted

        signum = exc.signal if isinstance(exc, RunInterrupted) else signal.SIGINT
        print(f"interrupted by {signal.Signals(signum).name}", file=sys.stderr)
        answer = {"exit_code": 128 + signum, "objective": None, "discard": False}
    except Exception:  # a bug of ours: its traceback, exit code 1 (as Hydra does in process)
        import traceback

        traceback.print_exc()
        answer = {"exit_code": 1, "objective": None, "discard": False}
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _send(sock, answer)
    return 0


def verdict(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a composed config; ``{"ok": True}`` or the config error as plain data."""
    from rampconf.errors import RampconfError
    from rampconf.schema import validate_config

    try:
        validate_config(raw)
    except RampconfError as exc:
        return {"ok": False, "label": exc.label, "lines": exc.lines, "exit_code": exc.exit_code}
    return {"ok": True}


def verdict_error(found: dict[str, Any]) -> Any:
    """The error a failed :func:`verdict` describes, to print as the command's own."""
    from rampconf.errors import RampconfError

    error = RampconfError(found["lines"][0], lines=found["lines"])
    error.label, error.exit_code = found["label"], found["exit_code"]
    return error


def _validate_first(sock: socket.socket) -> None:
    """Answer the command's first message: the validation of its config (see Runner.validate)."""
    try:
        message = _receive(sock)
    except OSError:
        return
    if not isinstance(message, dict) or message.get("op") != "validate":
        return
    try:
        answer = verdict(message["raw"])
    except Exception:  # not the runner's to say: the command validates itself
        answer = {}
    with contextlib.suppress(OSError):
        _send(sock, answer)


def exit_now(code: int) -> None:
    """End this process: exit handlers (the fork server, staged files, logging), streams,
    then exit, without the interpreter's teardown (its last collection and module
    destruction, tens of milliseconds after a run's imports)."""
    import atexit

    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(code)


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)  # between our own processes
    sock.sendall(_HEADER.pack(len(data)) + data)


def _receive(sock: socket.socket) -> Any:
    """One message, or None when the other side closed first."""
    head = _read(sock, _HEADER.size)
    if head is None:
        return None
    data = _read(sock, _HEADER.unpack(head)[0])
    return None if data is None else pickle.loads(data)  # from our own parent / child


def _read(sock: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        try:
            chunk = sock.recv(min(left, 1 << 20))
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
