"""Limits of a fold: sizes, the processes a fold started, their memory, ending them all.

Linux only (the fork server that runs folds uses these). Memory is measured
as **resident anonymous and shared-memory pages** (``RssAnon + RssShmem`` of
``/proc/PID/status``) summed over the fold's process and every process it
started: what arrays, heaps and ``/dev/shm`` buffers really occupy. Shared
libraries and memory-mapped data files (page cache) are not counted. Address
space limits (``RLIMIT_AS``) are not used: BLAS thread buffers and glibc's
per-thread malloc arenas reserve far more address space than they use, so a
fold running threads fails long before it uses its memory (see
docs/guide/trusted-execution.md, "Limits").
"""

from __future__ import annotations

import os
import re
import signal

__all__ = ["children", "format_bytes", "kill_tree", "parse_memory", "process_tree",
           "resident_memory", "running"]

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": 1024**2, "mb": 1000**2,
          "mib": 1024**2, "g": 1024**3, "gb": 1000**3, "gib": 1024**3, "t": 1024**4,
          "tb": 1000**4, "tib": 1024**4}


def parse_memory(value: int | float | str) -> int:
    """Bytes of a memory size: ``2GB`` (10^9), ``2GiB`` or ``2G`` (2^30), ``512MB``, ``1e9``.

    Raises
    ------
    ValueError
        When ``value`` is not a positive size.
    """
    if isinstance(value, bool):
        raise ValueError(f"a memory size such as 2GB or 512MB, got {value!r}")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*", value)
        if not match or match.group(2).lower() not in _UNITS:
            raise ValueError(f"a memory size such as 2GB, 512MB or 1.5GiB, got {value!r}")
        number, unit = float(match.group(1)), match.group(2).lower()
    size = int(number * _UNITS[unit])
    if size <= 0:
        raise ValueError(f"a memory size must be positive, got {value!r}")
    return size


def format_bytes(size: int) -> str:
    """``1.2 GB``-style text of a number of bytes (powers of 1000)."""
    for unit, scale in (("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def children(pid: int) -> list[int]:
    """Direct children of process ``pid`` (of every thread), from ``/proc``."""
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (those still attached to it by parentage)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children(current))
    return tree


def resident_memory(pids: list[int]) -> int:
    """Bytes of resident anonymous and shared memory of ``pids`` (gone ones count 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as handle:
                text = handle.read()
        except OSError:
            continue
        for field in ("RssAnon:", "RssShmem:"):
            start = text.find(field)
            if start >= 0:
                total += int(text[start + len(field):text.index("kB", start)]) * 1024
    return total


def kill_tree(pid: int) -> list[int]:
    """SIGKILL the process group and session led by ``pid`` and every descendant of ``pid``.

    A fold process leads its own session and group (it calls ``setsid``), so
    this ends what it started, including processes that left the group but
    still descend from it. Processes whose parent already died were
    re-parented to the fork server (a child subreaper), which ends them.
    Returns the processes signalled (``pid`` first), to wait for with :func:`running`.
    """
    tree = process_tree(pid)
    for member in tree:
        for kill in (os.killpg, os.kill):
            try:
                kill(member, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
    return tree


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (ended, not reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")
