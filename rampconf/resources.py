"""Where the shipped configuration and submissions are, in a wheel and in a checkout.

The repository keeps ``conf/`` and ``submissions/`` at its top level; the
wheel installs them as the data packages ``rampconf.conf`` and
``rampconf.submissions``, and an editable install maps those names onto the
top-level folders. When ``rampconf`` itself is imported from a checkout
without an editable install (``pip install .`` then ``python -m rampconf``
in the repository, where the source folder shadows the installed package),
the packages do not exist and the checkout's own folders are used.

Hydra is given the folder (``config_path`` / ``initialize_config_dir``), not
the package name, so both cases compose the same files.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

__all__ = ["packaged_conf_dir", "packaged_submissions_dir"]

_CHECKOUT = Path(__file__).resolve().parent.parent


@cache
def _data_dir(package: str, folder: str, marker: str) -> Path:
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if (_CHECKOUT / folder / marker).exists() and (_CHECKOUT / "pyproject.toml").exists():
        return _CHECKOUT / folder
    raise RuntimeError(f"rampconf is installed without its {package!r} data; reinstall it")


def packaged_conf_dir() -> Path:
    """The folder of the shipped YAML options (``config.yaml``, ``problem/``, ...)."""
    return _data_dir("rampconf.conf", "conf", "config.yaml")


def packaged_submissions_dir() -> Path:
    """The folder of the shipped submissions (``<problem>/<name>/``)."""
    return _data_dir("rampconf.submissions", "submissions", "__init__.py")
