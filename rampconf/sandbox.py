"""The optional OS sandbox of fold processes (``sandbox=bwrap``): bubblewrap around the fork server.

The fork server runs inside ``bwrap``, so every fold process it forks is in
the sandbox too:

- no network (a new network namespace with only a loopback device), no other
  process visible (a new PID namespace), no capability, a new session;
- the file system is read-only and holds only what Python and the run's code
  need: the system folders (``/usr``, ``/etc``, ...), Python's installation
  and site-packages, the packages of rampconf and its plugins, the
  submission's folder and the problem's extra files (e.g. external data),
  and the folders of inputs a reader gives the fold lazily (image files: the
  fold is given those features anyway). Data files (the labels), the data
  root, the user's home and every run directory are not there at all: the
  fold's inputs reach it through its socket;
- the environment is cleared but for ``PATH``, locale and thread settings;
- each fold process then gets its own mount namespace with a fresh private
  ``/fold`` (its working folder, ``TMPDIR`` and ``HOME``) and ``/dev/shm``,
  and gives up every capability: nothing else is writable (``/tmp``
  neither), a fold cannot leave files for another fold, and folds cannot
  read each other's memory (they are not dumpable).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampconf.errors import ConfigError

if TYPE_CHECKING:
    from rampconf.readers import BaseReader
    from rampconf.submission import Submission

__all__ = ["Sandbox", "private_tmp"]

SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONHASHSEED", "PYTHONWARNINGS",
               "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
DEFAULT_TMP_SIZE = 1 << 30
FOLD_DIR = "/fold"  # each fold's private, writable folder (its cwd and TMPDIR are inside)


def _code_folders() -> set[Path]:
    """Where Python, site-packages, rampconf and the registered plugins' packages are."""
    from importlib.metadata import entry_points

    from rampconf.registry import ENTRY_POINT_GROUPS

    folders = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    folders.add(Path(os.path.realpath(sys.executable)).parent.parent)
    folders.update(Path(p) for p in site.getsitepackages())
    packages = {"rampconf"}
    for group in ENTRY_POINT_GROUPS.values():
        packages.update(ep.value.split(":")[0].split(".")[0] for ep in entry_points(group=group))
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is not None:
            folders.update(Path(p) for p in spec.submodule_search_locations or ())
            if spec.origin and not spec.submodule_search_locations:
                folders.add(Path(spec.origin).parent)
    return {folder.resolve() for folder in folders if folder.exists()}


@dataclass(frozen=True)
class Sandbox:
    """A bubblewrap sandbox: what it shows (read-only) besides the system and Python.

    Attributes
    ----------
    binds : tuple of str
        Folders and files visible read-only at their own path.
    tmp_size : int
        Bytes of each fold process's private ``/tmp``.
    """

    binds: tuple[str, ...]
    tmp_size: int = DEFAULT_TMP_SIZE

    @property
    def key(self) -> tuple[object, ...]:
        """Runs with the same key share one sandboxed fork server."""
        return (self.binds, self.tmp_size)

    @classmethod
    def for_run(cls, submission: Submission, reader: BaseReader,
                memory: int | None) -> Sandbox:
        """The sandbox of a run: its code, submission, extra files and lazy input folders.

        Raises
        ------
        ConfigError
            When bubblewrap is not installed or cannot create its namespaces here.
        """
        check_bwrap()
        hidden = [Path(p).resolve() for p in (*reader.files().values(), reader.data_root)]
        code = {folder for folder in _code_folders()
                if not any(h.is_relative_to(folder) for h in hidden) and folder != Path("/")}
        data = {Path(p).resolve() for p in (*submission.extra_files.values(),
                                            *reader.folders().values())}
        binds = sorted(str(p) for p in {*code, submission.path.resolve(), *data})
        return cls(binds=tuple(binds), tmp_size=min(memory or DEFAULT_TMP_SIZE,
                                                    DEFAULT_TMP_SIZE))

    def command(self, argv: list[str]) -> list[str]:
        """``bwrap ... -- argv``."""
        args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                "--hostname", "rampconf-sandbox", "--clearenv"]
        if os.geteuid() == 0:  # the fork server keeps only what gives each fold its own /tmp
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SYS_ADMIN"]
        for name in ENVIRONMENT:
            if name in os.environ:
                args += ["--setenv", name, os.environ[name]]
        args += ["--setenv", "HOME", FOLD_DIR, "--setenv", "TMPDIR", FOLD_DIR]
        # /dev/shm writable for the server (joblib checks it at import); each fold mounts its
        # own /dev/shm and FOLD_DIR over these, the rest is read-only for all
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp",
                 "--dir", FOLD_DIR]
        for path in SYSTEM:
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                args += ["--ro-bind", path, path]
        for path in self.binds:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        args += ["--remount-ro", "/tmp", "--remount-ro", "/dev", "--remount-ro", "/",
                 "--chdir", "/"]
        return [*args, "--", *argv]


_bwrap_checked: dict[str, str | None] = {}


def check_bwrap() -> None:
    """Raise :class:`ConfigError` unless bubblewrap can run a sandbox here (checked once)."""
    if "error" not in _bwrap_checked:
        import subprocess

        error = None
        if shutil.which("bwrap") is None:
            error = ("sandbox=bwrap: bubblewrap is not installed (Debian/Ubuntu: "
                     "apt-get install bubblewrap); run without sandbox=bwrap or install it")
        else:
            proc = subprocess.run(["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--",
                                   "true"], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                error = (f"sandbox=bwrap: bubblewrap cannot create its sandbox here: "
                         f"{proc.stderr.strip() or proc.returncode} (unprivileged user "
                         "namespaces may be disabled)")
        _bwrap_checked["error"] = error
    if _bwrap_checked["error"]:
        raise ConfigError(_bwrap_checked["error"])


def private_tmp(size: int) -> str:
    """In a fold process inside the sandbox: a mount namespace of its own with a fresh
    ``/fold`` and ``/dev/shm``, then no capability left (so it cannot unmount them to reach
    the sandbox's). Returns the folder for the fold's working and temporary files.

    The fork server keeps ``CAP_SYS_ADMIN`` in the sandbox for this (as root); where it has
    none (bubblewrap run by a user), the fold process creates a user namespace first.

    Raises
    ------
    OSError
        When the kernel refuses the namespaces (the fold then fails with this message).
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        # a process may write its own id maps only while dumpable; the fold process
        # checks that nothing attached meanwhile once it is not dumpable again
        libc.prctl(4, 1)  # PR_SET_DUMPABLE
        try:
            if libc.unshare(0x10000000 | 0x00020000) != 0:  # CLONE_NEWUSER | CLONE_NEWNS
                raise OSError(ctypes.get_errno(), "cannot give the fold a private /tmp (unshare)")
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                               ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as handle:
                    handle.write(text)
        finally:
            libc.prctl(4, 0)
    for target in (FOLD_DIR, "/dev/shm"):
        if os.path.isdir(target):
            options = f"size={size},mode=1777".encode()
            if libc.mount(b"tmpfs", target.encode(), b"tmpfs", 0, options) != 0:
                raise OSError(ctypes.get_errno(), f"cannot mount a private {target}")
    _drop_capabilities(libc)
    return FOLD_DIR


def _drop_capabilities(libc: Any) -> None:
    """No capability left, now or after an exec (bounding and ambient sets emptied)."""
    import ctypes

    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP (fails harmlessly past the last one)
    libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    if libc.capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()) != 0:
        raise OSError(ctypes.get_errno(), "cannot drop the fold's capabilities")
