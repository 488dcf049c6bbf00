"""Time-series plugins: RAMP's block CV arithmetic, the netCDF reader, fold slicing, lookahead."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from rampconf_timeseries.cv import TimeSeriesBlocks, time_series_blocks
from rampconf_timeseries.readers import (
    NetCDFTimeSeries,
    TimeSeriesData,
    fold_time_indices,
)
from rampconf_timeseries.workflows import LookaheadError, check_lookahead, features_of

from rampconf.errors import DataError
from rampconf.readers import take_rows

EL_NINO = {"train": "el_nino/train_mini.nc", "test": "el_nino/test_mini.nc",
           "train_target": "el_nino/train_mini.npy", "test_target": "el_nino/test_mini.npy"}


# ---- CV ---------------------------------------------------------------------------------------

def test_block_arithmetic_of_the_el_nino_mini_set():
    # n = 60: b = floor(60 * 0.5 / 3 / 6) * 6 = 6, common block 60 - 18 = 42.
    folds = time_series_blocks(60, 3, 0.5, 6)
    assert [(len(t), int(v[0]), int(v[-1])) for t, v in folds] == [
        (42, 42, 59), (48, 48, 59), (54, 54, 59)]
    for train, valid in folds:
        assert train[0] == 0 and np.array_equal(np.diff(train), np.ones(len(train) - 1))
        assert np.array_equal(np.concatenate([train, valid]), np.arange(60))


@pytest.mark.parametrize(("n", "n_splits", "fraction", "period"),
                         [(588, 8, 0.5, 12), (100, 3, 0.3, 1), (61, 3, 0.5, 6)])
def test_block_arithmetic_general(n, n_splits, fraction, period):
    b = int(n * fraction / n_splits / period) * period
    common = n - n_splits * b
    folds = list(TimeSeriesBlocks(TimeSeriesBlocks.Params(
        n_splits=n_splits, block_fraction=fraction, period=period)).split(None, np.zeros(n)))
    assert len(folds) == n_splits
    for i, (train, valid) in enumerate(folds):
        assert np.array_equal(train, np.arange(common + i * b))
        assert np.array_equal(valid, np.arange(common + i * b, n))
        assert len(train) % period == common % period


def test_ramp_kit_numbers_for_the_full_set():
    # problem.py of the full kit: 588 months, 8 folds, common block 300, blocks of 36.
    folds = time_series_blocks(588, 8, 0.5, 12)
    assert len(folds[0][0]) == 300 and len(folds[1][0]) - len(folds[0][0]) == 36


def test_too_short_series_is_refused():
    with pytest.raises(ValueError, match="too few"):
        time_series_blocks(20, 3, 0.5, 12)


# ---- reader -----------------------------------------------------------------------------------

def test_reader_strips_the_burn_in_and_keeps_the_attributes(kits):
    reader = NetCDFTimeSeries(NetCDFTimeSeries.Params(**EL_NINO), data_root=kits)
    reader.check_files()
    for split in ("train", "test"):
        data = reader.load(split)
        ds = data.X.ds
        assert isinstance(data.X, TimeSeriesData) and isinstance(ds, xr.Dataset)
        assert ds.attrs["n_burn_in"] == 12 and ds.attrs["n_lookahead"] == 6
        assert isinstance(ds.attrs["n_burn_in"], int)
        assert ds.n_burn_in == 12  # attribute access, as RAMP submissions write it
        raw = np.load(kits / EL_NINO[f"{split}_target"])
        assert len(data.y) == ds.sizes["time"] - 12 == len(data.X) == len(data)
        assert np.array_equal(data.y, raw[12:])
        assert ds["tas"].dims == ("time", "lat", "lon")


def test_reader_reports_missing_files(tmp_path):
    reader = NetCDFTimeSeries(NetCDFTimeSeries.Params(**EL_NINO), data_root=tmp_path)
    with pytest.raises(DataError, match=r"train_mini\.nc"):
        reader.check_files()


def _series(n_time=30, n_burn_in=4, seed=0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    time = pd.date_range("2000-01-01", periods=n_time, freq="MS")
    return xr.Dataset({"x": (("time",), rng.normal(size=n_time))}, coords={"time": time},
                      attrs={"n_burn_in": n_burn_in, "n_lookahead": 2})


def test_reader_checks_target_length(tmp_path):
    ds = _series()
    ds.to_netcdf(tmp_path / "train.nc", engine="h5netcdf")
    np.save(tmp_path / "train.npy", np.zeros(7))
    reader = NetCDFTimeSeries(NetCDFTimeSeries.Params(
        train="train.nc", test="train.nc", train_target="train.npy",
        test_target="train.npy"), data_root=tmp_path)
    with pytest.raises(DataError, match="7 targets for 30 time steps"):
        reader.load("train")


# ---- fold slicing -----------------------------------------------------------------------------

def test_fold_time_indices_ramp_and_exact():
    rows = np.arange(5)
    assert fold_time_indices(rows, 3, "ramp").tolist() == [0, 1, 2, 3, 4, 4, 5, 6]
    assert fold_time_indices(rows, 3, "exact").tolist() == list(range(8))
    with pytest.raises(ValueError, match="contiguous"):
        fold_time_indices(np.array([0, 2]), 3, "exact")


def test_take_rows_selects_the_fold_with_its_burn_in():
    data = TimeSeriesData(_series())
    assert len(data) == 26
    fold = take_rows(data, np.arange(10))
    assert isinstance(fold, TimeSeriesData) and len(fold) == 10
    exact = fold.dataset("exact")
    assert exact.sizes["time"] == 14 and exact.attrs["n_burn_in"] == 4
    assert np.array_equal(exact["x"].values, data.ds["x"].values[:14])
    assert fold.dataset("ramp").sizes["time"] == 14
    assert data.dataset() is data.ds


# ---- lookahead check --------------------------------------------------------------------------

class _Past:
    """Feature of step t: the mean of x over t-1 and t (legal)."""

    def transform(self, ds):
        x = ds["x"]
        return (x + x.shift(time=1, fill_value=0.0)).values[ds.attrs["n_burn_in"]:, None]


class _Future:
    """Feature of step t: x at t + 2 (illegal)."""

    def transform(self, ds):
        return ds["x"].shift(time=-2, fill_value=0.0).values[ds.attrs["n_burn_in"]:, None]


def test_legal_feature_extractor_passes():
    ds = _series()
    fe = _Past()
    check_lookahead(fe, ds, features_of(fe, ds), [0, 3, 10, 100])


def test_lookahead_names_the_check_point_and_its_date():
    ds = _series()
    fe = _Future()
    with pytest.raises(LookaheadError, match=r"check point 3 \(time index 7, 2000-08-01\)"):
        check_lookahead(fe, ds, features_of(fe, ds), [3])


def test_check_points_at_the_end_are_skipped():
    ds = _series()
    fe = _Future()
    check_lookahead(fe, ds, features_of(fe, ds), [25, 40])  # nothing after them to cut


def test_features_must_have_one_row_per_step_after_the_burn_in():
    class Wrong:
        def transform(self, ds):
            return np.zeros((len(ds["time"]), 1))

    with pytest.raises(ValueError, match="26 rows"):
        features_of(Wrong(), _series())


def test_files_are_relative_to_data_root():
    reader = NetCDFTimeSeries(NetCDFTimeSeries.Params(**EL_NINO), data_root=Path("/d"))
    assert reader.files()["test_target"] == Path("/d/el_nino/test_mini.npy")
