"""Where a run's numbers come from: package versions and data file hashes, read once per process.

The trials of a sweep run in one process: the versions are read once, and a
data file is hashed again only when it changed (path, size, times, inode).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

__all__ = ["file_sha256", "package_versions"]


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that decide a run's numbers."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> dict[str, str]:  # read once per process (each trial of a sweep)
    import platform
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for name in ("rampconf", "numpy", "pandas", "scikit-learn", "scipy", "hydra-core",
                 "omegaconf", "pydantic", "joblib"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks (once per process while the file is unchanged).

    A hash is kept for the file's path, device, inode, size and times only if
    the file had not changed for :data:`SETTLED_NS` when it was hashed. File
    times are kept to a clock tick (a few milliseconds; a second or two on
    some file systems), so a file rewritten in place within the tick of its
    last change, with the same size, would keep the same key (git's "racily
    clean" files): such a file is hashed again each time.
    """
    import time

    stat = os.stat(path)
    key = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if key in _hashes:
        return _hashes[key]
    digest = _file_sha256(path)
    if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) > SETTLED_NS:
        _hashes[key] = digest
    return digest


_hashes: dict[tuple[Any, ...], str] = {}
#: How long a file must have been unchanged for its hash to be kept (nanoseconds).
SETTLED_NS = 3_000_000_000


def _file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
