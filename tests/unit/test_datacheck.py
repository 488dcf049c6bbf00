"""Checks of the data before any fold runs: same features in both splits, usable targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rampconf.datacheck import check_data, check_features, check_targets
from rampconf.errors import DataError
from rampconf.plugin import make_plugin
from rampconf.predictions import BasePrediction
from rampconf.readers import BaseReader, Dataset


def csv_reader(root: Path, target: str | list[str] = "y") -> BaseReader:
    return make_plugin("reader", "csv", {"train": "train.csv", "test": "test.csv",
                                         "target": target}, "problem.data", BaseReader,
                       data_root=root)


def prediction(name: str, **params: Any) -> BasePrediction:
    return make_plugin("prediction", name, params, "problem.prediction", BasePrediction)


def frame(**columns: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_test_set_missing_a_column_is_named(tmp_path):
    train = Dataset(frame(a=[1, 2], b=[3, 4]), np.array([0, 1]))
    test = Dataset(frame(a=[5]), np.array([1]))
    with pytest.raises(DataError) as info:
        check_features(csv_reader(tmp_path), train, test)
    assert str(info.value).startswith(
        f"{tmp_path / 'test.csv'}: the test data lacks the feature column(s) ['b'] "
        f"({tmp_path / 'train.csv'} has 2 feature columns, the test data 1)")


def test_test_set_with_an_extra_column_is_named(tmp_path):
    train = Dataset(frame(a=[1, 2]), np.array([0, 1]))
    test = Dataset(frame(a=[5], c=[6]), np.array([1]))
    with pytest.raises(DataError, match=r"has column\(s\) \['c'\] that the training data does "
                                        r"not"):
        check_features(csv_reader(tmp_path), train, test)


def test_arrays_of_other_sample_shapes_are_refused(tmp_path):
    train = Dataset(np.zeros((4, 8, 8)), np.zeros(4))
    test = Dataset(np.zeros((2, 8, 9)), np.zeros(2))
    with pytest.raises(DataError, match=r"each test sample has shape \(8, 9\), each training "
                                        r"sample \(8, 8\)"):
        check_features(csv_reader(tmp_path), train, test)


def test_same_columns_in_another_order_pass(tmp_path):
    train = Dataset(frame(a=[1], b=[2]), np.array([0]))
    check_features(csv_reader(tmp_path), train, Dataset(frame(b=[3], a=[4]), np.array([0])))


@pytest.mark.parametrize(("name", "params", "y_test", "expected"), [
    ("multiclass", {"labels": [1, 2]}, [1.0, 2.0, 3.0],
     "test.csv, column 'y', row 2: targets hold labels ['3.0'] that are not among the "
     "problem's labels [1, 2]"),
    ("regression", {}, [0.5, np.inf], "test.csv, column 'y', row 1: regression targets must "
                                      "be finite, got inf"),
], ids=["label", "inf"])
def test_bad_targets_name_file_column_and_row(tmp_path, name, params, y_test, expected):
    train = Dataset(frame(a=[1, 2]), np.array([1.0, 2.0]))
    test = Dataset(frame(a=[1] * len(y_test)), np.array(y_test))
    with pytest.raises(DataError) as info:
        check_targets(csv_reader(tmp_path), prediction(name, **params), train, test)
    assert str(info.value).startswith(f"{tmp_path / expected}")


def test_bad_training_target_of_a_second_column(tmp_path):
    train = Dataset(frame(a=[1, 2]), np.array([[1.0, 2.0], [0.0, np.nan]]))
    test = Dataset(frame(a=[1]), np.array([[1.0, 2.0]]))
    with pytest.raises(DataError) as info:
        check_data(csv_reader(tmp_path, ["y1", "y2"]), prediction("regression"), train, test)
    assert str(info.value).startswith(f"{tmp_path / 'train.csv'}, column 'y2', row 1: ")


def test_good_data_passes_and_sets_up_the_labels(tmp_path):
    p = prediction("multiclass")
    train = Dataset(frame(a=[1, 2, 3]), np.array(["b", "a", "b"]))
    check_data(csv_reader(tmp_path), p, train, Dataset(frame(a=[4]), np.array(["a"])))
    assert p.labels == ["a", "b"]  # type: ignore[attr-defined]
