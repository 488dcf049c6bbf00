"""Tabular readers: CSV (plain, compressed) on the shared kits, Parquet, scikit-learn data sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rampconf.errors import ConfigError, DataError
from rampconf.plugin import make_plugin
from rampconf.readers import BaseReader, Dataset, take_rows

SKLEARN_SIZES = {"iris": 150, "wine": 178, "breast_cancer": 569, "diabetes": 442, "digits": 1797}
CLASSIFICATION = ["iris", "wine", "breast_cancer", "digits"]


def reader(name: str, data_root: Path, **params: Any) -> BaseReader:
    return make_plugin("reader", name, params, "problem.data", BaseReader, data_root=data_root)


# --------------------------------------------------------------------------- CSV


@pytest.fixture(scope="module")
def titanic(kits: Path) -> BaseReader:
    return reader("csv", kits, train="titanic/train.csv", test="titanic/test.csv",
                  target="Survived", ignore=["PassengerId"])


def test_csv_titanic_train(titanic):
    titanic.check_files()
    data = titanic.load("train")
    assert isinstance(data, Dataset)
    assert isinstance(data.X, pd.DataFrame)
    assert "Survived" not in data.X.columns
    assert "PassengerId" not in data.X.columns
    assert {"Pclass", "Name", "Sex", "Age", "Fare"} <= set(data.X.columns)
    assert len(data) == len(data.y) == len(data.X) == 356
    assert data.y.ndim == 1
    assert set(np.unique(data.y).tolist()) == {0, 1}
    assert data.groups is None


def test_csv_titanic_test(titanic):
    data = titanic.load("test")
    assert len(data.y) == len(data.X) == 89
    assert "Survived" not in data.X.columns and "PassengerId" not in data.X.columns


def test_csv_files_are_under_data_root(titanic, kits):
    assert titanic.files() == {"train": kits / "titanic/train.csv",
                               "test": kits / "titanic/test.csv"}
    assert titanic.extra_files() == {}


def test_csv_bz2_compressed(kits):
    r = reader("csv", kits, train="air_passengers/train.csv.bz2",
               test="air_passengers/test.csv.bz2", target="log_PAX",
               extra_files=["air_passengers/external_data.csv"])
    r.check_files()
    data = r.load("train")
    assert len(data.y) == len(data.X) == 8902
    assert data.y.dtype.kind == "f"
    assert "log_PAX" not in data.X.columns
    assert "DateOfDeparture" in data.X.columns
    assert r.extra_files() == {"external_data.csv": kits / "air_passengers/external_data.csv"}


def test_csv_read_options_passed_to_pandas(tmp_path):
    (tmp_path / "train.csv").write_text("a;b;y\n1;2;0\n3;4;1\n")
    (tmp_path / "test.csv").write_text("a;b;y\n5;6;1\n")
    r = reader("csv", tmp_path, train="train.csv", test="test.csv", target="y",
               read_options={"sep": ";"})
    data = r.load("train")
    assert list(data.X.columns) == ["a", "b"]
    assert data.y.tolist() == [0, 1]


def test_csv_tables_of_unchanged_files_are_reused_as_copies(tmp_path, monkeypatch):
    import os

    from rampconf_tabular import readers

    monkeypatch.setattr(readers, "_tables", readers.OrderedDict())
    parsed: list[str] = []
    original = readers.read_csv_file

    def counting(path, options):
        parsed.append(Path(path).name)
        return original(path, options)

    monkeypatch.setattr(readers, "read_csv_file", counting)
    (tmp_path / "train.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
    (tmp_path / "test.csv").write_text("a,b,y\n5,6,1\n")
    r = reader("csv", tmp_path, train="train.csv", test="test.csv", target="y")
    first = r.load("train")
    first.X.loc[0, "a"] = 99  # a run changing its data in place
    second = reader("csv", tmp_path, train="train.csv", test="test.csv", target="y").load("train")
    assert parsed == ["train.csv"]  # parsed once
    assert second.X["a"].tolist() == [1, 3] and second.y.tolist() == [0, 1]
    # other reader parameters: parsed again
    reader("csv", tmp_path, train="train.csv", test="test.csv", target="b").load("train")
    assert parsed == ["train.csv", "train.csv"]
    # the file changed in place (same inode, size and times): parsed again
    stat = os.stat(tmp_path / "train.csv")
    (tmp_path / "train.csv").write_text("a,b,y\n7,2,0\n8,4,1\n")
    os.utime(tmp_path / "train.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(tmp_path / "train.csv").st_size == stat.st_size
    assert r.load("train").X["a"].tolist() == [7, 8]
    assert parsed == ["train.csv"] * 3


def test_large_tables_and_subclasses_are_parsed_for_every_run(tmp_path, monkeypatch):
    from rampconf_tabular import readers

    monkeypatch.setattr(readers, "_tables", readers.OrderedDict())
    (tmp_path / "train.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
    (tmp_path / "test.csv").write_text("a,b,y\n5,6,1\n")

    class Reader(readers.CSVReader[readers.TableFilesParams]):  # may read more than its file
        pass

    params = readers.TableFilesParams(train="train.csv", test="test.csv", target="y")
    Reader(params, data_root=tmp_path).load("train")
    assert not readers._tables
    monkeypatch.setattr(readers, "REUSE_TABLES_UP_TO", 10)
    reader("csv", tmp_path, train="train.csv", test="test.csv", target="y").load("train")
    assert not readers._tables
    monkeypatch.setattr(readers, "REUSE_TABLES_UP_TO", 1 << 20)
    monkeypatch.setattr(readers, "TABLES_KEPT", 1)
    r = reader("csv", tmp_path, train="train.csv", test="test.csv", target="y")
    r.load("train")
    r.load("test")
    assert [key[2] for key in readers._tables] == [str(tmp_path / "test.csv")]  # the last one


# --------------------------------------------------------------------------- Parquet


@pytest.fixture
def parquet_root(tmp_path: Path) -> Path:
    frame = pd.DataFrame({
        "x1": np.arange(8, dtype=float),
        "x2": list("abcdefgh"),
        "site": ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"],
        "y1": np.linspace(0, 1, 8),
        "y2": np.linspace(1, 2, 8),
        "row_id": np.arange(100, 108),
    })
    frame.iloc[:6].to_parquet(tmp_path / "train.parquet")
    frame.iloc[6:].to_parquet(tmp_path / "test.parquet")
    return tmp_path


def test_parquet_groups_returned_and_dropped(parquet_root):
    r = reader("parquet", parquet_root, train="train.parquet", test="test.parquet", target="y1",
               ignore=["row_id"], groups="site")
    r.check_files()
    data = r.load("train")
    assert list(data.X.columns) == ["x1", "x2", "y2"]
    assert data.groups is not None
    assert data.groups.tolist() == ["s1", "s1", "s2", "s2", "s3", "s3"]
    assert data.y.shape == (6,)
    assert np.allclose(data.y, np.linspace(0, 1, 8)[:6])
    test = r.load("test")
    assert test.groups.tolist() == ["s4", "s4"]
    assert len(test) == 2


def test_parquet_multi_column_target_gives_2d_y(parquet_root):
    r = reader("parquet", parquet_root, train="train.parquet", test="test.parquet",
               target=["y1", "y2"])
    data = r.load("train")
    assert data.y.shape == (6, 2)
    assert np.allclose(data.y[:, 1], np.linspace(1, 2, 8)[:6])
    assert list(data.X.columns) == ["x1", "x2", "site", "row_id"]
    assert data.groups is None


def test_single_column_target_list_gives_2d_y(parquet_root):
    r = reader("parquet", parquet_root, train="train.parquet", test="test.parquet",
               target=["y1"])
    assert r.load("test").y.shape == (2, 1)


def test_take_rows_of_a_dataframe_array_and_list(parquet_root):
    data = reader("parquet", parquet_root, train="train.parquet", test="test.parquet",
                  target="y1").load("train")
    rows = np.array([4, 1])
    assert take_rows(data.X, rows)["x1"].tolist() == [4.0, 1.0]
    assert take_rows(np.arange(10) * 2, rows).tolist() == [8, 2]
    assert take_rows(list("abcdef"), rows) == ["e", "b"]


# --------------------------------------------------------------------------- errors


def test_check_files_names_role_and_full_path(kits):
    r = reader("csv", kits, train="titanic/train.csv", test="titanic/no_such_test.csv",
               target="Survived")
    with pytest.raises(DataError) as info:
        r.check_files()
    message = str(info.value)
    assert f"test: {kits / 'titanic' / 'no_such_test.csv'}" in message
    assert "train:" not in message
    assert str(kits) in message


def test_check_files_lists_every_missing_file(tmp_path):
    r = reader("csv", tmp_path, train="a.csv", test="b.csv", target="y",
               extra_files=["sub/ext.csv"])
    with pytest.raises(DataError) as info:
        r.check_files()
    message = str(info.value)
    for role, name in [("train", "a.csv"), ("test", "b.csv"), ("ext.csv", "sub/ext.csv")]:
        assert f"{role}: {tmp_path / name}" in message


def test_load_missing_file_names_split_and_path(tmp_path):
    r = reader("csv", tmp_path, train="a.csv", test="b.csv", target="y")
    with pytest.raises(DataError, match=r"^data\.train: file .*a\.csv not found"):
        r.load("train")


def test_missing_target_column_names_it_and_lists_columns(kits):
    r = reader("csv", kits, train="titanic/train.csv", test="titanic/test.csv",
               target="survived", ignore=["PassengerId"])
    with pytest.raises(DataError) as info:
        r.load("train")
    message = str(info.value)
    assert message.startswith(str(kits / "titanic" / "train.csv"))
    assert "['survived']" in message
    assert "'Survived'" in message and "'PassengerId'" in message and "'Embarked'" in message


def test_missing_groups_column_named(parquet_root):
    r = reader("parquet", parquet_root, train="train.parquet", test="test.parquet", target="y1",
               groups="region")
    with pytest.raises(DataError, match=r"missing column\(s\) \['region'\]"):
        r.load("train")


def test_unreadable_file_is_a_data_error(tmp_path):
    (tmp_path / "train.parquet").write_text("not parquet at all")
    r = reader("parquet", tmp_path, train="train.parquet", test="test.parquet", target="y")
    with pytest.raises(DataError, match=r"train\.parquet: could not read the train data"):
        r.load("train")


def test_reader_requires_files_and_target(tmp_path):
    with pytest.raises(ConfigError) as info:
        reader("csv", tmp_path)
    assert sorted(info.value.lines) == [
        "problem.data.target: required key is missing",
        "problem.data.test: required key is missing",
        "problem.data.train: required key is missing",
    ]


# --------------------------------------------------------------------------- scikit-learn


@pytest.mark.parametrize("dataset", list(SKLEARN_SIZES))
def test_sklearn_sizes_add_up(dataset, tmp_path):
    r = reader("sklearn", tmp_path, dataset=dataset, test_size=0.25)
    r.check_files()
    train, test = r.load("train"), r.load("test")
    assert len(train) + len(test) == SKLEARN_SIZES[dataset]
    assert len(train.X) == len(train) and len(test.X) == len(test)
    assert abs(len(test) - 0.25 * SKLEARN_SIZES[dataset]) <= 1
    assert list(train.X.index) == list(range(len(train)))
    assert list(test.X.index) == list(range(len(test)))


@pytest.mark.parametrize("dataset", list(SKLEARN_SIZES))
def test_sklearn_same_random_state_same_split(dataset, tmp_path):
    a = reader("sklearn", tmp_path, dataset=dataset, random_state=3).load("test")
    b = reader("sklearn", tmp_path, dataset=dataset, random_state=3).load("test")
    c = reader("sklearn", tmp_path, dataset=dataset, random_state=4).load("test")
    assert a.X.equals(b.X)
    assert np.array_equal(a.y, b.y)
    assert not a.X.equals(c.X)


def test_sklearn_iris_targets_are_class_names(tmp_path):
    r = reader("sklearn", tmp_path, dataset="iris")
    y = np.concatenate([r.load("train").y, r.load("test").y])
    assert sorted(set(y.tolist())) == ["setosa", "versicolor", "virginica"]


def test_sklearn_diabetes_targets_are_real(tmp_path):
    y = reader("sklearn", tmp_path, dataset="diabetes").load("train").y
    assert y.dtype.kind == "f"
    assert len(np.unique(y)) > 100


@pytest.mark.parametrize("dataset", CLASSIFICATION)
def test_sklearn_split_is_stratified(dataset, tmp_path):
    r = reader("sklearn", tmp_path, dataset=dataset, test_size=0.3)
    train, test = r.load("train"), r.load("test")
    y = np.concatenate([train.y, test.y])
    labels, counts = np.unique(y, return_counts=True)
    for part in (train, test):
        got = dict(zip(*np.unique(part.y, return_counts=True), strict=True))
        for label, count in zip(labels, counts, strict=True):
            assert abs(got[label] - count / len(y) * len(part)) <= 1, (label, got)


@pytest.mark.parametrize("dataset", ["nope", "mnist", "Iris"])
def test_sklearn_bad_dataset_rejected(dataset, tmp_path):
    with pytest.raises(ConfigError) as info:
        reader("sklearn", tmp_path, dataset=dataset)
    line = info.value.lines[0]
    assert line.startswith("problem.data.dataset: input should be 'iris', 'wine', "
                           "'breast_cancer', 'diabetes' or 'digits'")
    assert line.endswith(f"got {dataset!r}")


@pytest.mark.parametrize("test_size", [0, 1, 1.5], ids=["zero", "one", "above-one"])
def test_sklearn_test_size_is_a_share(test_size, tmp_path):
    with pytest.raises(ConfigError, match=r"^problem\.data\.test_size: "):
        reader("sklearn", tmp_path, dataset="iris", test_size=test_size)


# --------------------------------------------------------------------------- header checks


@pytest.mark.parametrize(("name", "options", "header"), [
    ("csv", {}, "Age,Fare,Age,y"),
    ("csv", {"sep": ";"}, "Age;Fare;Age;y"),
    ("typed_csv", {}, "Age,Fare,Age,y"),
], ids=["csv", "csv-sep", "typed-csv"])
def test_csv_header_naming_a_column_twice_is_refused(tmp_path, name, options, header):
    sep = options.get("sep", ",")
    (tmp_path / "train.csv").write_text(f"{header}\n" + sep.join(["1", "2", "3", "0"]) + "\n")
    (tmp_path / "test.csv").write_text("Age,Fare,Age2,y\n1,2,3,0\n")
    r = reader(name, tmp_path, train="train.csv", test="test.csv", target="y",
               read_options=options)
    with pytest.raises(DataError) as info:
        r.load("train")
    assert str(info.value) == (
        f"{tmp_path / 'train.csv'}: the header (row 0) names column 'Age' twice (columns 0 and "
        "2, counted from 0); pandas would read the second as Age.1: give every column its own "
        "name")


def test_csv_header_with_names_given_is_not_checked(tmp_path):
    (tmp_path / "train.csv").write_text("a,a,y\n1,2,0\n3,4,1\n")
    (tmp_path / "test.csv").write_text("a,a,y\n1,2,0\n")
    r = reader("csv", tmp_path, train="train.csv", test="test.csv", target="y",
               read_options={"names": ["a", "b", "y"], "header": 0})
    assert list(r.load("train").X.columns) == ["a", "b"]


def test_reader_describes_files_and_target_columns(tmp_path):
    r = reader("csv", tmp_path, train="train.csv", test="t/test.csv", target=["y1", "y2"])
    assert r.describe("test") == str(tmp_path / "t/test.csv")
    assert r.describe_target("train", 1) == f"{tmp_path / 'train.csv'}, column 'y2'"
    assert r.describe_target("train") == f"{tmp_path / 'train.csv'}, column 'y1'"
    sk = reader("sklearn", tmp_path, dataset="iris")
    assert sk.describe_target("test", None) == "the test data"


def test_head_rows_keeps_the_first_rows_of_every_part():
    from rampconf.readers import head_rows

    data = Dataset(X=pd.DataFrame({"a": range(10)}, index=range(100, 110)), y=np.arange(10) * 2,
                   groups=np.arange(10) % 3, weights=np.linspace(0, 1, 10))
    head = head_rows(data, 4)
    assert head.X.index.tolist() == [100, 101, 102, 103]
    assert head.y.tolist() == [0, 2, 4, 6]
    assert head.groups.tolist() == [0, 1, 2, 0]
    assert head.weights.tolist() == data.weights[:4].tolist()
    assert head_rows(data, 50) is data
    images = np.arange(24).reshape(6, 2, 2)
    assert np.shares_memory(head_rows(Dataset(images, np.arange(6)), 2).X, images)
