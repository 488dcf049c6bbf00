"""Reader options real kits need: read_csv options, separator hints, sorting, a mapped target,
the group column kept as a feature, gzipped pickles and multi-variable netCDF grids."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rampconf.errors import ConfigError, DataError
from rampconf.plugin import make_plugin
from rampconf.readers import BaseReader

FRAME = pd.DataFrame({
    "date": ["2020-01-03", "2020-01-01", "2020-01-02", "2020-01-01"],
    "station": ["b", "a", "a", "b"],
    "bikes": [0, 3, 0, 7],
    "temp": [1.5, 2.5, 3.5, 4.5],
})


def reader(name: str, data_root: Path, **params: Any) -> BaseReader:
    return make_plugin("reader", name, params, "problem.data", BaseReader, data_root=data_root)


def write(tmp_path: Path, frame: pd.DataFrame = FRAME, sep: str = ",", name: str = "train.csv"
          ) -> Path:
    frame.to_csv(tmp_path / name, sep=sep, index=False)
    return tmp_path / name


def csv_reader(tmp_path: Path, **params: Any) -> BaseReader:
    params = {"train": "train.csv", "test": "train.csv", "target": "bikes", **params}
    return reader("csv", tmp_path, **params)


# --------------------------------------------------------------------------- read_csv options


def test_any_read_csv_option_reaches_pandas(tmp_path):
    write(tmp_path, sep="\t")
    data = csv_reader(tmp_path, read_options={"sep": "\t", "index_col": "station",
                                              "parse_dates": ["date"]}).load("train")
    assert list(data.X.columns) == ["date", "temp"]
    assert data.X.index.tolist() == ["b", "a", "a", "b"]
    assert pd.api.types.is_datetime64_any_dtype(data.X["date"])
    assert data.y.tolist() == [0, 3, 0, 7]


@pytest.mark.parametrize(("key", "closest"), [("index_cl", "index_col"), ("seperator", "sep"),
                                              ("parse_date", "parse_dates")])
def test_an_unknown_read_csv_option_is_refused_with_the_closest(tmp_path, key, closest):
    # Refused when the reader is built, before any file is read (there is none here).
    with pytest.raises(ConfigError) as info:
        csv_reader(tmp_path, read_options={key: 0})
    assert str(info.value).startswith(f"problem.data.read_options.{key}: not an option of "
                                      f"pandas.read_csv; did you mean {closest!r}?")


@pytest.mark.parametrize(("sep", "word"), [("\t", "tab"), (";", "semicolon"), ("|", "pipe")],
                         ids=["tab", "semicolon", "pipe"])
def test_a_file_read_as_one_column_suggests_its_separator(tmp_path, sep, word):
    write(tmp_path, sep=sep)
    with pytest.raises(DataError) as info:
        csv_reader(tmp_path).load("train")
    message = str(info.value)
    assert "missing column(s) ['bikes']" in message
    assert message.endswith(f"is the file {word}-separated? set data.read_options.sep: {sep!r}")


def test_a_field_count_error_names_the_line_and_the_separator(tmp_path):
    # A tab-separated file whose text fields hold commas: the comma parser sees more fields.
    rows = ["a\tb\tnote\tbikes", "1\t2\tx\t3", "4\t5\tone, two, three\t6", "7\t8\ty\t9"]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError) as info:
        csv_reader(tmp_path).load("train")
    message = str(info.value)
    assert "line 3 has 3 fields where the header has 1 (expected 1 fields, saw 3)" in message
    assert message.endswith("is the file tab-separated? set data.read_options.sep: '\\t'")


def test_a_field_count_error_of_a_compressed_file_still_guesses(tmp_path):
    rows = ["a;b;bikes", "1;2;3", "4;5,5;6,6,6"]
    with gzip.open(tmp_path / "train.csv.gz", "wt") as handle:
        handle.write("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="is the file semicolon-separated"):
        reader("csv", tmp_path, train="train.csv.gz", test="train.csv.gz",
               target="bikes").load("train")


# --------------------------------------------------------------------------- sorting


def test_rows_are_sorted_on_read_and_renumbered(tmp_path):
    write(tmp_path)
    data = csv_reader(tmp_path, sort_by="date").load("train")
    assert data.X["date"].tolist() == ["2020-01-01", "2020-01-01", "2020-01-02", "2020-01-03"]
    assert data.X["station"].tolist() == ["a", "b", "a", "b"]  # stable: file order kept in ties
    assert data.y.tolist() == [3, 7, 0, 0]
    assert data.X.index.tolist() == [0, 1, 2, 3]


def test_sorting_on_several_columns_keeps_an_index_column(tmp_path):
    write(tmp_path)
    data = csv_reader(tmp_path, sort_by=["station", "date"],
                      read_options={"index_col": "temp"}).load("train")
    assert data.X.index.tolist() == [2.5, 3.5, 4.5, 1.5]
    assert data.y.tolist() == [3, 0, 7, 0]


def test_sorting_by_a_missing_column_names_it(tmp_path):
    write(tmp_path)
    with pytest.raises(DataError, match=r"missing column\(s\) \['day'\] named by the problem "
                                        r"\(data.sort_by\)"):
        csv_reader(tmp_path, sort_by="day").load("train")


# --------------------------------------------------------------------------- target_map


def test_target_from_a_table_of_values_with_a_default(tmp_path):
    write(tmp_path)
    data = csv_reader(tmp_path, target_map={0: 1, "default": 0}).load("train")
    assert data.y.tolist() == [1, 0, 1, 0]
    assert "bikes" not in data.X.columns


def test_target_values_compare_as_values(tmp_path):
    write(tmp_path, FRAME.assign(bikes=FRAME["bikes"].astype(float)))
    data = csv_reader(tmp_path, target_map={0: "empty", 3: "few", 7: "many"}).load("train")
    assert data.y.tolist() == ["empty", "few", "empty", "many"]


def test_an_unlisted_value_without_default_is_named(tmp_path):
    write(tmp_path)
    with pytest.raises(DataError, match=r"train.csv, column 'bikes': row 1 holds 3, which "
                                        r"data.target_map does not list"):
        csv_reader(tmp_path, target_map={0: 1, 7: 0}).load("train")


@pytest.mark.parametrize(("word", "expected"), [
    ("above", [0, 0, 0, 1]), ("at_least", [0, 1, 0, 1]), ("below", [1, 0, 1, 0]),
    ("at_most", [1, 1, 1, 0])])
def test_target_from_a_comparison(tmp_path, word, expected):
    write(tmp_path)
    assert csv_reader(tmp_path, target_map={word: 3}).load("train").y.tolist() == expected


@pytest.mark.parametrize(("target_map", "message"), [
    ({}, "must map at least one value"),
    ({"above": "high"}, "above compares with a number, got 'high'"),
    ({"above": 1, 0: 1}, "a comparison (above) stands alone"),
], ids=["empty", "word-threshold", "mixed"])
def test_bad_target_maps_are_config_errors(tmp_path, target_map, message):
    with pytest.raises(ConfigError, match=r"problem\.data\.target_map") as info:
        csv_reader(tmp_path, target_map=target_map)
    assert message in str(info.value)


def test_target_map_needs_one_target_column(tmp_path):
    with pytest.raises(ConfigError, match="target_map derives one target column"):
        csv_reader(tmp_path, target=["bikes", "temp"], target_map={"above": 1})


def test_a_comparison_on_text_names_the_row(tmp_path):
    write(tmp_path)
    with pytest.raises(DataError, match="compares numbers, but row 0 holds 'b'"):
        csv_reader(tmp_path, target="station", target_map={"above": 1}).load("train")


# --------------------------------------------------------------------------- groups


@pytest.mark.parametrize("as_feature", [False, True], ids=["removed", "kept"])
def test_groups_as_feature(tmp_path, as_feature):
    write(tmp_path)
    data = csv_reader(tmp_path, groups="station", groups_as_feature=as_feature).load("train")
    assert data.groups.tolist() == ["b", "a", "a", "b"]
    assert ("station" in data.X.columns) is as_feature
    if as_feature:
        assert data.X["station"].tolist() == data.groups.tolist()


# --------------------------------------------------------------------------- pickles


def test_gzipped_pickled_table(tmp_path):
    FRAME.to_pickle(tmp_path / "train.pkl.gz")
    data = reader("pickle", tmp_path, train="train.pkl.gz", test="train.pkl.gz",
                  target="bikes", groups="station", sort_by="temp").load("train")
    assert data.y.tolist() == [0, 3, 0, 7]
    assert list(data.X.columns) == ["date", "temp"]
    assert data.groups.tolist() == ["b", "a", "a", "b"]


def test_gzipped_pickled_pair(tmp_path):
    X, y = np.arange(12.0).reshape(4, 3), np.array(["a", "b", "a", "b"])
    with gzip.open(tmp_path / "train.pkl.gz", "wb") as handle:
        pickle.dump((X, y), handle)
    data = reader("pickle", tmp_path, train="train.pkl.gz", test="train.pkl.gz").load("train")
    np.testing.assert_array_equal(data.X, X)
    assert data.y.tolist() == y.tolist()


@pytest.mark.parametrize(("content", "params", "message"), [
    (FRAME, {}, "the pickle holds a table; name its target column(s) with data.target"),
    ((np.zeros((2, 1)), np.zeros(2)), {"target": "y"}, "has no columns for data.target"),
    ((np.zeros((2, 1)), np.zeros(3)), {}, "has 2 rows of X and 3 targets"),
    ({"X": 1}, {}, "the pickle holds a dict; expected a table"),
], ids=["table-without-target", "pair-with-columns", "pair-lengths", "other"])
def test_pickle_contents_that_do_not_fit(tmp_path, content, params, message):
    with gzip.open(tmp_path / "train.pkl.gz", "wb") as handle:
        pickle.dump(content, handle)
    with pytest.raises(DataError) as info:
        reader("pickle", tmp_path, train="train.pkl.gz", test="train.pkl.gz",
               **params).load("train")
    assert message in str(info.value)


# --------------------------------------------------------------------------- netCDF


@pytest.fixture
def grids(tmp_path):
    xr = pytest.importorskip("xarray")
    time = pd.date_range("2000-01-01", periods=30, freq="MS")
    coords = {"time": time, "lat": [0.0, 1.0], "lon": [10.0, 20.0]}
    rng = np.random.default_rng(0)
    attrs = {"n_burn_in": 6, "n_lookahead": 2}
    for name in ("tas", "psl", "uas"):
        ds = xr.Dataset({name: (("time", "lat", "lon"), rng.normal(size=(30, 2, 2)))},
                        coords=coords, attrs=attrs)
        ds.to_netcdf(tmp_path / f"{name}.nc", engine="h5netcdf")
    xr.merge([xr.open_dataset(tmp_path / f"{n}.nc", engine="h5netcdf").load()
              for n in ("tas", "psl", "uas")]).to_netcdf(tmp_path / "all.nc", engine="h5netcdf")
    np.save(tmp_path / "y.npy", np.arange(30.0))
    return tmp_path


def netcdf(root: Path, **params: Any) -> BaseReader:
    return reader("netcdf_time_series", root, train_target="y.npy", test_target="y.npy",
                  **params)


def test_netcdf_several_variables_of_one_file(grids):
    data = netcdf(grids, train="all.nc", test="all.nc", variables=["tas", "psl"]).load("train")
    assert sorted(data.X.ds.data_vars) == ["psl", "tas"]
    assert data.X.ds.attrs["n_burn_in"] == 6
    assert data.y.tolist() == list(np.arange(6.0, 30.0))


def test_netcdf_one_variable_per_file_merged(grids):
    r = netcdf(grids, train=["tas.nc", "psl.nc"], test=["tas.nc", "psl.nc", "uas.nc"])
    assert sorted(r.files()) == ["test_0", "test_1", "test_2", "test_target", "train_0",
                                 "train_1", "train_target"]
    assert sorted(r.load("train").X.ds.data_vars) == ["psl", "tas"]
    assert sorted(r.load("test").X.ds.data_vars) == ["psl", "tas", "uas"]


def test_netcdf_missing_variable_lists_those_present(grids):
    with pytest.raises(DataError, match=r"no variable\(s\) \['pr'\] \(data.variables\); the "
                                        r"data has \['psl', 'tas', 'uas'\]"):
        netcdf(grids, train="all.nc", test="all.nc", variables=["tas", "pr"]).load("train")
