"""Starting the fork server: a new Python, or a fork of a warm process.

:func:`spawn_server` starts ``python -m rampconf.forkserver`` (inside the
sandbox when there is one). :func:`fork_server` forks a process that has
imported what the server needs (:mod:`rampconf.prewarm`'s runner); the child
calls :func:`become_forked_server`, which leaves everything of its parent
behind and serves as ``python -m rampconf.forkserver`` would; the parent
keeps a :class:`Forked` handle in place of a :class:`subprocess.Popen`.
Either way the server leads a session of its own (a Ctrl-C in the terminal
reaches the runner, which stops the folds), its working directory is ``/``,
its standard input ``/dev/null``, it has no ``RAMPCONF_*`` variable and no
descriptor of its parent but its control socket.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from rampconf.forkserver import PR_SET_PDEATHSIG, _libc, main

if TYPE_CHECKING:
    from rampconf.sandbox import Sandbox

__all__ = ["Forked", "become_forked_server", "fork_server", "spawn_server"]


def spawn_server(sandbox: Sandbox | None) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """Start ``python -m rampconf.forkserver``: the process and our end of its control socket."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    command = [sys.executable, "-m", "rampconf.forkserver", str(theirs.fileno())]
    if sandbox is not None:
        command = [*sandbox.command(command), "--private-tmp", str(sandbox.tmp_size)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAMPCONF_")}
    process = subprocess.Popen(command, pass_fds=[theirs.fileno()], cwd="/", env=env,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    theirs.close()
    return process, ours


def fork_server() -> tuple[Forked, socket.socket]:
    """Fork this (warm) process into the fork server: its handle and our end of its
    control socket. The child never returns."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    pid = os.fork()
    if pid == 0:
        try:
            become_forked_server(theirs.fileno())
        finally:
            os._exit(1)
    theirs.close()
    return Forked(pid), ours


class Forked:
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


def become_forked_server(fd: int) -> None:
    """In the forked child: leave the parent's state and serve on ``fd`` (never returns)."""
    parent = os.getppid()
    os.setsid()
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with its parent
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
    from rampconf import forkserver

    sys.argv = [forkserver.__file__, str(fd)]
    _set_command_line(f"python -m rampconf.forkserver {fd}".encode())
    main([str(fd)])
    os._exit(0)


def _set_command_line(title: bytes) -> None:
    """Write ``title`` over this process's command line, as ``/proc/PID/cmdline`` shows it.

    A forked server would show the runner's command line (the data root in
    it) to the fold processes; the kernel reads it from this process's memory
    (``arg_start`` to ``arg_end``, fields 48 and 49 of ``/proc/self/stat``).
    """
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # fields[0] is field 3, the state
        if end > start:
            ctypes.memmove(start, title[:end - start - 1].ljust(end - start, b"\0"), end - start)
