"""Time-series readers: a netCDF dataset (xarray) with a burn-in period, targets from ``.npy``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from rampconf.errors import DataError
from rampconf.extras import Extra
from rampconf.plugin import StrictModel
from rampconf.readers import BaseReader, Dataset, Split

__all__ = ["NetCDFTimeSeries", "NetCDFTimeSeriesParams", "TimeSeriesData", "fold_time_indices"]

#: Dataset attributes the workflow and the submissions rely on.
REQUIRED_ATTRS = ("n_burn_in", "n_lookahead")


def fold_time_indices(rows: np.ndarray, n_burn_in: int, mode: str = "exact") -> np.ndarray:
    """Time indices of the dataset given to a fold whose target rows are ``rows``.

    Row ``i`` (a time step after the burn-in) is time index ``i + n_burn_in``,
    so the fold gets ``len(rows) + n_burn_in`` time steps, burn-in included.

    ``"exact"``: the time range ``[rows[0], rows[-1] + n_burn_in]`` (``rows``
    must be contiguous). ``"ramp"``: what ramp-workflow's El Niño workflow
    selects, ``rows`` followed by ``rows[-1], ..., rows[-1] + n_burn_in - 1``
    (time index ``rows[-1]`` twice and the fold's last time step left out);
    the parity numbers need it.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        raise ValueError("a fold without rows has no time range")
    last = int(rows[-1])
    if mode == "ramp":
        return np.concatenate([rows, np.arange(last, last + n_burn_in)])
    if mode == "exact":
        first = int(rows[0])
        if not np.array_equal(rows, np.arange(first, first + len(rows))):
            raise ValueError("the exact fold time range needs contiguous increasing rows, got "
                             f"{len(rows)} rows from {first} to {last} with gaps")
        return np.arange(first, last + n_burn_in + 1)
    raise ValueError(f"unknown fold time mode {mode!r}: 'ramp' or 'exact'")


class TimeSeriesData:
    """The ``X`` of a time-series split: an ``xarray.Dataset`` and the target rows selected.

    ``len()`` is the number of target rows (time steps after the burn-in).
    :meth:`take_rows` (used by the runner for a fold's training rows) only
    records the rows; the workflow asks :meth:`dataset` for the
    ``xarray.Dataset`` the submission sees (the rows' time steps with the
    burn-in before them, see :func:`fold_time_indices`).
    """

    def __init__(self, ds: Any, rows: np.ndarray | None = None) -> None:
        self.ds = ds
        self.rows = rows

    @property
    def n_burn_in(self) -> int:
        return int(self.ds.attrs["n_burn_in"])

    def __len__(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        return int(self.ds.sizes["time"]) - self.n_burn_in

    def take_rows(self, indices: np.ndarray) -> TimeSeriesData:
        indices = np.asarray(indices, dtype=np.int64)
        rows = indices if self.rows is None else self.rows[indices]
        return TimeSeriesData(self.ds, rows)

    def dataset(self, mode: str = "exact") -> Any:
        """The ``xarray.Dataset`` of the selected rows, burn-in included (all of it if none)."""
        if self.rows is None:
            return self.ds
        return self.ds.isel(time=fold_time_indices(self.rows, self.n_burn_in, mode))

    def __repr__(self) -> str:
        rows = "all rows" if self.rows is None else f"{len(self.rows)} rows"
        return f"TimeSeriesData({dict(self.ds.sizes)}, {rows}, n_burn_in={self.n_burn_in})"


class NetCDFTimeSeriesParams(StrictModel):
    """Parameters of the ``netcdf_time_series`` reader."""

    train: str | list[str] = Field(
        description="training netCDF file, relative to data_root; a list: several files "
                    "merged into one dataset (e.g. one variable per file)")
    test: str | list[str] = Field(description="test netCDF file(s), relative to data_root, as "
                                              "train")
    train_target: str = Field(description="training targets (.npy, one per time step), "
                                          "relative to data_root")
    test_target: str = Field(description="test targets (.npy, one per time step), relative "
                                         "to data_root")
    time: str = Field("time", description="name of the time dimension")
    engine: Literal["h5netcdf", "netcdf4", "scipy"] | None = Field(
        "h5netcdf", description="xarray backend that reads the files; null: xarray's choice")
    variables: list[str] | None = Field(
        None, min_length=1, description="the data variables the submission gets (several "
                                        "grids at once, e.g. [tas, psl]); null: every variable")


class NetCDFTimeSeries(BaseReader[NetCDFTimeSeriesParams]):
    """A netCDF file, or several merged (read with xarray), and a ``.npy`` target per split.

    Several files of a split (``train: [tas.nc, psl.nc]``) must share their
    coordinates and hold distinct variables; ``variables`` keeps some of the
    variables (all by default), so a submission gets several grids at once.
    ``X`` is a :class:`TimeSeriesData` around the whole ``xarray.Dataset``
    (loaded in memory) with its attributes, among them ``n_burn_in`` and
    ``n_lookahead`` (integers). The target file holds one value per time
    step; the first ``n_burn_in`` are dropped, so ``y`` has one row per time
    step after the burn-in.
    """

    # h5netcdf lists h5py, the library that reads HDF5 files, only as its own extra.
    requires = Extra("netcdf", ("xarray", "h5netcdf", "h5py"))

    def _grids(self, split: Split) -> list[Path]:
        names = getattr(self.params, split)
        return [self.data_root / name for name in ([names] if isinstance(names, str) else names)]

    def files(self) -> dict[str, Path]:
        p = self.params
        files: dict[str, Path] = {}
        for split in ("train", "test"):
            grids = self._grids(split)
            files.update({split: grids[0]} if len(grids) == 1 else
                         {f"{split}_{i}": path for i, path in enumerate(grids)})
        return {**files, "train_target": self.data_root / p.train_target,
                "test_target": self.data_root / p.test_target}

    def _open(self, path: Path, split: Split) -> Any:
        import xarray as xr

        try:
            with xr.open_dataset(path, engine=self.params.engine) as opened:
                return opened.load()
        except FileNotFoundError:
            raise DataError(f"data.{split}: file {path} not found (data_root is {self.data_root})"
                            ) from None
        except Exception as exc:
            raise DataError(f"{path}: could not read the {split} data with xarray (engine "
                            f"{self.params.engine}): {type(exc).__name__}: {exc}") from None

    def _dataset(self, split: Split) -> tuple[Any, str]:
        """The split's dataset (its files merged, its variables kept) and its files' names."""
        import xarray as xr

        paths = self._grids(split)
        parts = [self._open(path, split) for path in paths]
        where = " + ".join(map(str, paths))
        if len(parts) == 1:
            ds = parts[0]
        else:
            try:
                ds = xr.merge(parts, combine_attrs="override", join="exact")
            except Exception as exc:
                raise DataError(f"{where}: the files do not merge into one dataset (same "
                                f"coordinates, distinct variables): {exc}") from None
        wanted = self.params.variables
        if wanted is not None:
            missing = [name for name in wanted if name not in ds.data_vars]
            if missing:
                raise DataError(f"{where}: no variable(s) {missing} (data.variables); the data "
                                f"has {sorted(map(str, ds.data_vars))}")
            ds = ds[wanted]
        return ds, where

    def load(self, split: Split) -> Dataset:
        p = self.params
        target_path = self.files()[f"{split}_target"]
        ds, path = self._dataset(split)
        missing = [a for a in REQUIRED_ATTRS if a not in ds.attrs]
        if missing:
            raise DataError(f"{path}: missing dataset attribute(s) {missing}; the file has "
                            f"{sorted(ds.attrs)}")
        if p.time != "time":
            ds = ds.rename({p.time: "time"})
        if "time" not in ds.dims:
            raise DataError(f"{path}: no time dimension {p.time!r}; dimensions {list(ds.dims)}")
        for attr in REQUIRED_ATTRS:
            ds.attrs[attr] = int(ds.attrs[attr])
        n_burn_in = ds.attrs["n_burn_in"]
        try:
            y_all = np.load(target_path)
        except FileNotFoundError:
            raise DataError(f"data.{split}_target: file {target_path} not found (data_root is "
                            f"{self.data_root})") from None
        n_time = int(ds.sizes["time"])
        if len(y_all) != n_time:
            raise DataError(f"{target_path}: {len(y_all)} targets for {n_time} time steps of "
                            f"{path}; one target per time step is expected")
        if n_time <= n_burn_in:
            raise DataError(f"{path}: {n_time} time steps, not more than n_burn_in={n_burn_in}")
        return Dataset(X=TimeSeriesData(ds), y=np.asarray(y_all[n_burn_in:]))
