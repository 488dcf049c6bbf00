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
    """SHA-256 of a file, read in chunks (once per process while the file is unchanged)."""
    stat = os.stat(path)
    key = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if key not in _hashes:
        _hashes[key] = _file_sha256(path)
    return _hashes[key]


_hashes: dict[tuple[Any, ...], str] = {}


def _file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
