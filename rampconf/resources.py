"""Where the shipped configuration and submissions are, in a checkout and in a wheel.

The repository keeps ``conf/`` and ``submissions/`` at its top level; the
wheel installs them as the data packages ``rampconf.conf`` and
``rampconf.submissions``. An editable install maps the same names onto the
top-level folders, so asking the import system works in both cases.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

__all__ = ["CONF_PACKAGE", "packaged_conf_dir", "packaged_submissions_dir"]

#: The package Hydra composes the shipped configuration from (``pkg://rampconf.conf``).
CONF_PACKAGE = "rampconf.conf"


@cache
def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"rampconf is installed without its {name!r} data; reinstall it")
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_conf_dir() -> Path:
    """The folder of the shipped YAML options (``config.yaml``, ``problem/``, ...)."""
    return _package_dir(CONF_PACKAGE)


def packaged_submissions_dir() -> Path:
    """The folder of the shipped submissions (``<problem>/<name>/``)."""
    return _package_dir("rampconf.submissions")
