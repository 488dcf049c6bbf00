"""The joined_csv reader (joins, variable-length array cells, errors) and the light_curves data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rampconf_functional.data import CLASSES, LightCurves
from rampconf_functional.readers import JoinedCSV
from rampconf_tabular.arrays import parse_array_string

from rampconf import registry
from rampconf.errors import DataError
from rampconf.plugin import make_plugin
from rampconf.readers import BaseReader


def _reader(root: Path, **params) -> JoinedCSV:
    base = {"train": ["meta.csv", "curves.csv"], "test": ["meta.csv", "curves.csv"],
            "index": "id", "target": "label", "array_columns": ["t", "m"]}
    base.update(params)
    return make_plugin("reader", "joined_csv", base, "data", BaseReader,
                       data_root=root)  # type: ignore[return-value]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "meta.csv").write_text("id,label,err\n3,a,0.1\n1,b,0.2\n2,a,0.3\n9,b,0.4\n")
    (tmp_path / "curves.csv").write_text(
        'id,t,m\n1,"[0.0, 1.0]","[5.0, 6.0]"\n2,"[]","[]"\n'
        '3,"[0.5, 1.5, 2.5]","[1.0, 2.0, 3.0]"\n7,"[1.0]","[1.0]"\n')
    return tmp_path


def test_registered():
    assert registry.get("reader", "joined_csv") is JoinedCSV
    assert registry.get("dataset", "light_curves") is LightCurves


def test_join_keeps_the_order_of_the_first_file_and_only_common_ids(files):
    data = _reader(files).load("train")
    assert data.X["id"].tolist() == [3, 1, 2]
    assert list(data.X.columns) == ["id", "err", "t", "m"]
    assert data.y.tolist() == ["a", "b", "a"]
    assert data.X["err"].tolist() == [0.1, 0.2, 0.3]
    assert data.X.index.tolist() == [0, 1, 2]


def test_array_cells_are_numpy_arrays_of_any_length(files):
    X = _reader(files, ignore=["id"]).load("test").X
    assert list(X.columns) == ["err", "t", "m"]
    lengths = [len(v) for v in X["t"]]
    assert lengths == [3, 2, 0]
    for column in ("t", "m"):
        assert all(isinstance(v, np.ndarray) and v.dtype == float for v in X[column])
    np.testing.assert_array_equal(X["m"].iloc[0], [1.0, 2.0, 3.0])


def test_compressed_files_and_separator(tmp_path):
    with gzip.open(tmp_path / "meta.csv.gz", "wt") as f:
        f.write("id,label\nx,a\ny,b\n")
    (tmp_path / "curves.csv").write_text("id;t;m\ny;1 2 3;4 5 6\nx;7;8\n")
    reader = _reader(tmp_path, train=["meta.csv.gz", "curves.csv"], sep=" ",
                     read_options={"sep": ";"})
    with pytest.raises(DataError):  # meta.csv.gz is not ';'-separated: no index column
        reader.load("train")
    (tmp_path / "meta.csv").write_text("id;label\nx;a\ny;b\n")
    X = _reader(tmp_path, sep=" ", read_options={"sep": ";"}).load("train").X
    assert X["id"].tolist() == ["x", "y"]
    np.testing.assert_array_equal(X["t"].iloc[0], [7.0])  # one value, still an array
    np.testing.assert_array_equal(X["m"].iloc[1], [4.0, 5.0, 6.0])


def test_a_single_file_is_accepted(files):
    reader = _reader(files, train="curves.csv", test=["curves.csv"], target="m",
                     array_columns=["t"])
    assert len(reader.load("train")) == 4
    assert set(reader.files()) == {"train", "test"}


def test_files_lists_every_file(files):
    roles = _reader(files).files()
    assert roles == {"train": files / "meta.csv", "train[1]": files / "curves.csv",
                     "test": files / "meta.csv", "test[1]": files / "curves.csv"}


def test_missing_index_column_names_the_file(files):
    (files / "curves.csv").write_text('key,t,m\n1,"[1]","[2]"\n')
    with pytest.raises(DataError, match=r"curves\.csv: index column 'id'"):
        _reader(files).load("train")


@pytest.mark.parametrize("cell", ['"[1.0, oops]"', '"[1.0, 2.0"', ""])
def test_bad_cell_names_file_column_and_row(files, cell):
    (files / "curves.csv").write_text(f'id,t,m\n1,"[1]","[2]"\n2,"[3]",{cell}\n')
    with pytest.raises(DataError) as info:
        _reader(files).load("train")
    message = str(info.value)
    assert "curves.csv" in message and "column 'm'" in message and "row 1" in message
    assert "id=2" in message


def test_other_errors(files):
    with pytest.raises(DataError, match="repeated"):
        (files / "curves.csv").write_text('id,t,m\n1,"[1]","[2]"\n1,"[3]","[4]"\n')
        _reader(files).load("train")
    (files / "curves.csv").write_text('id,t,err\n1,"[1]",0.5\n')
    with pytest.raises(DataError, match="also in an earlier file"):
        _reader(files, array_columns=["t"]).load("train")
    with pytest.raises(DataError, match=r"array column\(s\) \['m'\]"):
        _reader(files, array_columns=["m"]).load("train")
    (files / "curves.csv").write_text('id,t,m\n100,"[1]","[2]"\n')
    with pytest.raises(DataError, match="no 'id' value is in every file"):
        _reader(files).load("train")
    with pytest.raises(DataError, match="not found"):
        _reader(files, train=["meta.csv", "nope.csv"]).load("train")


def test_parse_array_cell():
    np.testing.assert_array_equal(parse_array_string("[1, 2.5e1, nan]"), [1, 25, np.nan])
    np.testing.assert_array_equal(parse_array_string("1|2", sep="|"), [1, 2])
    assert parse_array_string(" [ ] ").shape == (0,)
    with pytest.raises(ValueError, match="missing"):
        parse_array_string(float("nan"))


def test_generator_is_seeded_and_joinable(tmp_path):
    paths = LightCurves(tmp_path / "a").generate(20, 8, seed=3)
    again = LightCurves(tmp_path / "b").generate(20, 8, seed=3)
    other = LightCurves(tmp_path / "c").generate(20, 8, seed=4)
    assert [p.name for p in paths] == list(LightCurves.files)
    for first, second in zip(paths, again, strict=True):
        assert first.read_bytes() == second.read_bytes()
    assert paths[1].read_bytes() != other[1].read_bytes()
    assert not list((tmp_path / "a").rglob("*.part"))
    LightCurves(tmp_path / "a").check()
    meta = pd.read_csv(paths[0])
    assert sorted(meta["class"].unique()) == list(CLASSES)
    test_ids = set(pd.read_csv(paths[2])["id"])
    assert not test_ids & set(meta["id"])
    reader = make_plugin("reader", "joined_csv", {
        "train": ["light_curves/train_meta.csv", "light_curves/train_curves.csv"],
        "test": ["light_curves/test_meta.csv", "light_curves/test_curves.csv"],
        "index": "id", "target": "class", "ignore": ["id"],
        "array_columns": ["times", "magnitudes"]}, "data", BaseReader,
        data_root=tmp_path / "a")
    data = reader.load("train")
    assert len(data) == 20 and list(data.X.columns) == ["mean_error", "times", "magnitudes"]
    lengths = {len(t) for t in data.X["times"]}
    assert len(lengths) > 1 and min(lengths) >= 30 and max(lengths) <= 120
    pairs = zip(data.X["times"], data.X["magnitudes"], strict=True)
    assert all(len(t) == len(m) for t, m in pairs)
    assert all(np.all(np.diff(t) >= 0) for t in data.X["times"])


def test_generator_rejects_too_few_stars_and_check_reports_missing(tmp_path):
    with pytest.raises(DataError, match=">= 4"):
        LightCurves(tmp_path).generate(2, 10)
    with pytest.raises(DataError, match="rampconf-data light_curves generate"):
        LightCurves(tmp_path).check()
