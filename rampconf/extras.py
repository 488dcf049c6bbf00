"""Optional dependencies: a plugin declares the extra it needs, the engine checks it first.

Heavy, domain-only libraries (xarray for netCDF, Pillow for images,
matplotlib for pictures, pyarrow for Parquet) are extras of the distribution
(``pip install 'rampconf[netcdf]'``). A plugin that imports one (lazily,
inside the functions that use it) says so with a class attribute::

    class NetCDFTimeSeries(BaseReader):
        requires = Extra("netcdf", ("xarray", "h5netcdf", "h5py"))

and :func:`rampconf.plugin.make_plugin` refuses to build it when a module
does not import, with one line naming the ``pip install`` to run (exit code
2), before any data is read. A third-party plugin names its own distribution
(``Extra("gpu", ("torch",), distribution="my-plugin")``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from rampconf.errors import ConfigError

__all__ = ["Extra", "MissingExtraError"]


class MissingExtraError(ConfigError):
    """A chosen plugin needs an optional dependency that is not installed."""


@dataclass(frozen=True)
class Extra:
    """An extra of a distribution: its name and the modules a plugin imports from it.

    Attributes
    ----------
    name : str
        The extra (``netcdf``, ``images``, ``plots``, ``parquet``).
    modules : tuple of str
        Top-level modules that must import (``("xarray", "h5netcdf")``).
    distribution : str
        The distribution that declares the extra.
    """

    name: str
    modules: tuple[str, ...]
    distribution: str = "rampconf"

    @property
    def install(self) -> str:
        """The command that installs the extra."""
        return f"pip install '{self.distribution}[{self.name}]'"

    def missing(self) -> list[str]:
        """The modules that do not import here (a broken install counts as missing)."""
        absent = []
        for module in self.modules:
            try:
                importlib.import_module(module)
            except ImportError:
                absent.append(module)
        return absent

    def check(self, what: str) -> None:
        """Raise :class:`MissingExtraError` naming ``what`` needs the extra, when it is missing.

        Parameters
        ----------
        what
            Who needs it, starting with its key path (``problem.data: the reader
            'netcdf_time_series'``).
        """
        absent = self.missing()
        if absent:
            raise MissingExtraError(
                f"{what} needs {', '.join(absent)}, not installed: run {self.install}")
