"""Prediction types: label encoding, checks of submitted predictions, CV bagging, saving."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rampconf_tabular.predictions import Multiclass, Regression

from rampconf.errors import ConfigError
from rampconf.plugin import make_plugin
from rampconf.predictions import BasePrediction, LabelIndex, TargetError
from rampconf.workflows import predict_with


def prediction(name: str, **params: Any) -> BasePrediction:
    return make_plugin("prediction", name, params, "problem.prediction", BasePrediction)


def multiclass(y_train, labels=None) -> Multiclass:
    p = prediction("multiclass", **({"labels": labels} if labels is not None else {}))
    assert isinstance(p, Multiclass)
    p.setup(np.asarray(y_train))
    return p


# --------------------------------------------------------------------------- multiclass labels


@pytest.mark.parametrize(("y_train", "labels"), [
    (["virginica", "setosa", "versicolor", "setosa"], ["setosa", "versicolor", "virginica"]),
    ([3, 1, 2, 1, 3], [1, 2, 3]),
    ([1.5, 0.5, 0.5], [0.5, 1.5]),
], ids=["strings", "ints", "floats"])
def test_setup_infers_sorted_labels(y_train, labels):
    p = multiclass(y_train)
    assert p.labels == labels
    assert all(type(a) is type(b) for a, b in zip(p.labels, labels, strict=True))


def test_setup_keeps_given_label_order():
    p = multiclass(["a", "b", "c"], labels=["c", "a", "b"])
    assert p.labels == ["c", "a", "b"]
    assert p.encode_y(np.array(["a", "b", "c", "c"])).tolist() == [1, 2, 0, 0]


def test_multiclass_predicts_probabilities():
    assert Multiclass.predict_method == "predict_proba"
    assert Regression.predict_method == "predict"


@pytest.mark.parametrize(("labels", "y", "codes"), [
    (["setosa", "versicolor", "virginica"], ["virginica", "setosa", "versicolor"], [2, 0, 1]),
    ([0, 1], [1, 0, 0, 1], [1, 0, 0, 1]),
    ([0, 1], ["1", "0", "0"], [1, 0, 0]),
    (["0", "1"], [1, 0, 1], [1, 0, 1]),
    ([1, 2, 3], [3.0, 1.0], [2, 0]),
    ([10, 20], np.array([20, 10], dtype=np.int32), [1, 0]),
    (["no", "yes"], np.array(["yes", "no"], dtype=object), [1, 0]),
], ids=["strings", "ints", "int-labels-string-data", "string-labels-int-data",
        "int-labels-float-data", "numpy-int32", "object-array"])
def test_encode_y_maps_labels_to_indices(labels, y, codes):
    p = multiclass(y, labels=labels)
    encoded = p.encode_y(np.asarray(y))
    assert encoded.dtype.kind == "i"
    assert encoded.tolist() == codes


def test_encode_y_unknown_label_named():
    p = multiclass(["a", "b"], labels=["a", "b"])
    with pytest.raises(ValueError, match=r"targets hold labels \['zebra'\] that are not among "
                                         r"the problem's labels \['a', 'b'\]"):
        p.encode_y(np.array(["a", "zebra", "b", "zebra"]))


def test_encode_y_lists_at_most_five_unknown_labels():
    p = multiclass([0, 1], labels=[0, 1])
    with pytest.raises(ValueError) as info:
        p.encode_y(np.arange(2, 12))
    assert "['10', '11', '2', '3', '4']" in str(info.value)


def test_encode_y_error_names_the_first_bad_row():
    p = multiclass([1, 2], labels=[1, 2])
    with pytest.raises(TargetError) as info:
        p.encode_y(np.array([1.0, 2.0, 1.0, 7.0, 2.0, 9.0]))
    assert (info.value.row, info.value.column, info.value.n_bad) == (3, None, 2)
    assert "['7.0', '9.0']" in str(info.value)


@pytest.mark.parametrize("labels", [[0, 0, 1], [1, 2, 1.0], ["1", 1], ["a", "b", "a"]],
                         ids=["ints", "int-and-float", "text-and-int", "strings"])
def test_labels_given_twice_are_a_config_error(labels):
    with pytest.raises(ConfigError, match=r"^problem\.prediction\.labels: value error, label "
                                          r".* is given twice \(positions \d and \d\)"):
        prediction("multiclass", labels=labels)


def test_label_index_compares_values():
    index = LabelIndex([1, 2, "c"])
    values = [1.0, np.int64(2), np.float32(1.0), "1", "c", 3, "2.0", np.nan]
    assert index.positions(values).tolist() == [0, 1, 0, 0, 2, -1, -1, -1]


class _Fitted:
    """A fitted model with ``classes_`` that predicts fixed probabilities."""

    def __init__(self, classes: list[Any]) -> None:
        self.classes_ = np.asarray(classes)

    def predict_proba(self, X):
        return np.tile(np.arange(1, len(self.classes_) + 1, dtype=float), (len(X), 1))


@pytest.mark.parametrize(("classes", "expected"), [
    ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
    ([3.0, 1.0, 2.0], [2.0, 3.0, 1.0]),
    (["1", "2", "3"], [1.0, 2.0, 3.0]),
], ids=["floats", "floats-other-order", "text"])
def test_predict_with_places_classes_by_value(classes, expected):
    """Targets read as floats train a model with classes 1.0, ...; labels [1, 2, 3] take them."""
    p = multiclass([1, 2, 3], labels=[1, 2, 3])
    proba = predict_with(_Fitted(classes), np.zeros((2, 1)), p, "the estimator")
    assert np.asarray(proba).tolist() == [expected, expected]


def test_predict_with_unknown_class_is_refused():
    p = multiclass([1, 2], labels=[1, 2])
    with pytest.raises(ValueError, match=r"the estimator predicts classes \[5\.0\] that are "
                                         r"not among the problem's labels \[1, 2\]"):
        predict_with(_Fitted([1.0, 5.0]), np.zeros((2, 1)), p, "the estimator")


@pytest.mark.parametrize("labels", [["a"], []], ids=["one", "none"])
def test_multiclass_needs_two_labels(labels):
    with pytest.raises(ConfigError, match=r"^problem\.prediction\.labels: list should have at "
                                          r"least 2 items"):
        prediction("multiclass", labels=labels)


# --------------------------------------------------------------------------- multiclass checks


@pytest.fixture
def iris() -> Multiclass:
    return multiclass(["setosa", "versicolor", "virginica"])


def test_check_y_pred_accepts_and_returns_floats(iris):
    y_true = np.array([0, 1, 2, 1])
    proba = [[1, 0, 0], [0, 1, 0], [0.2, 0.3, 0.5], [0, 1, 0]]
    checked = iris.check_y_pred(proba, y_true)
    assert isinstance(checked, np.ndarray)
    assert checked.dtype == float
    assert checked.shape == (4, 3)


@pytest.mark.parametrize("shape", [(4, 2), (3, 3), (4,), (4, 3, 1)],
                         ids=["too-few-labels", "too-few-rows", "1-d", "3-d"])
def test_check_y_pred_wrong_shape(iris, shape):
    with pytest.raises(ValueError) as info:
        iris.check_y_pred(np.full(shape, 0.5), np.zeros(4, dtype=int))
    assert str(info.value) == (
        "expected class probabilities of shape (4, 3) (samples, labels "
        f"['setosa', 'versicolor', 'virginica']), got shape {shape}")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_check_y_pred_non_finite(iris, bad):
    proba = np.full((4, 3), 1 / 3)
    proba[2, 1] = bad
    with pytest.raises(ValueError) as info:
        iris.check_y_pred(proba, np.zeros(4, dtype=int))
    assert "NaN or infinite values in 1 row of the predicted probabilities (row 2)" \
        in str(info.value)


def test_check_y_pred_non_finite_lists_first_five_rows(iris):
    proba = np.full((10, 3), np.nan)
    with pytest.raises(ValueError) as info:
        iris.check_y_pred(proba, np.zeros(10, dtype=int))
    assert "in 10 rows of the predicted probabilities (rows 0, 1, 2, 3, 4, ...)" in str(info.value)


@pytest.mark.parametrize(("row", "column", "value"), [
    (1, 2, -0.25), (3, 0, 1.5), (0, 1, 1.0000001)], ids=["negative", "above-1", "just-above-1"])
def test_check_y_pred_refuses_values_outside_0_1(iris, row, column, value):
    proba = np.full((4, 3), 1 / 3)
    proba[row, column] = value
    with pytest.raises(ValueError) as info:
        iris.check_y_pred(proba, np.zeros(4, dtype=int))
    label = ["setosa", "versicolor", "virginica"][column]
    assert str(info.value) == (f"probabilities must be in [0, 1]: row {row} holds {value!r} "
                               f"for label {label!r}")


def test_check_y_pred_counts_the_rows_outside_0_1(iris):
    with pytest.raises(ValueError, match=r"row 0 holds 3\.0 for label 'setosa' \(4 rows in all\)"):
        iris.check_y_pred(np.full((4, 3), 3.0), np.zeros(4, dtype=int))


def test_check_y_pred_accepts_rows_that_do_not_sum_to_1(iris):
    proba = np.array([[0.0, 0.0, 0.0], [0.2, 0.2, 0.2], [1.0, 1.0, 1.0]])
    assert iris.check_y_pred(proba, np.zeros(3, dtype=int)).tolist() == proba.tolist()


def test_multiclass_to_columns_named_by_label(iris):
    proba = np.array([[0.1, 0.2, 0.7], [1.0, 0.0, 0.0]])
    columns = iris.to_columns(proba)
    assert list(columns) == ["proba_setosa", "proba_versicolor", "proba_virginica"]
    assert columns["proba_virginica"].tolist() == [0.7, 0.0]


def test_multiclass_to_columns_with_int_labels():
    p = multiclass([0, 1])
    assert list(p.to_columns(np.zeros((2, 2)))) == ["proba_0", "proba_1"]


# --------------------------------------------------------------------------- bagging


def test_empty_holds_no_prediction(iris):
    empty = iris.empty(5, like=np.zeros((2, 3)))
    assert empty.shape == (5, 3)
    assert not iris.has_prediction(empty).any()


def test_has_prediction_marks_rows_with_values(iris):
    y = np.full((4, 3), np.nan)
    y[1] = [0.2, 0.3, 0.5]
    y[3, 0] = 1.0  # a row with one value holds a prediction
    assert iris.has_prediction(y).tolist() == [False, True, False, True]


def test_has_prediction_1d():
    p = prediction("regression")
    assert p.has_prediction(np.array([1.0, np.nan, 0.0])).tolist() == [True, False, True]


def test_combine_is_nan_aware_mean(iris):
    a = np.array([[0.2, 0.8], [np.nan, np.nan], [1.0, 0.0], [np.nan, np.nan]])
    b = np.array([[0.4, 0.6], [0.5, 0.5], [np.nan, np.nan], [np.nan, np.nan]])
    combined = iris.combine([a, b])
    assert combined.shape == (4, 2)
    assert np.allclose(combined[:3], [[0.3, 0.7], [0.5, 0.5], [1.0, 0.0]])
    assert np.isnan(combined[3]).all()
    assert iris.has_prediction(combined).tolist() == [True, True, True, False]


def test_multiclass_combine_clips_and_renormalises_each_fold_first(iris):
    # ramp-workflow: clip to [1e-15, 1 - 1e-15], divide each row by its sum, then NaN-mean.
    hard = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.2], [np.nan, np.nan]])
    soft = np.array([[0.5, 0.5], [np.nan, np.nan], [0.1, 0.3], [np.nan, np.nan]])
    one = iris.combine([hard])
    assert one[0].tolist() == [1 - 1e-15, 1e-15] and one[1].tolist() == [1e-15, 1 - 1e-15]
    assert one[2].tolist() == [0.5, 0.5]  # a row that does not sum to 1
    assert np.isnan(one[3]).all()
    two = iris.combine([hard, soft])
    assert two[0].tolist() == pytest.approx([0.75, 0.25], abs=1e-15)
    assert two[1].tolist() == [1e-15, 1 - 1e-15]
    assert two[2].tolist() == pytest.approx([0.5 * (0.5 + 0.25), 0.5 * (0.5 + 0.75)])
    # a hard wrong answer costs -log(1e-15) = 34.54 once bagged, not -log(eps) = 36.04
    nll = -np.log(one[1, 0])
    assert nll == pytest.approx(-np.log(1e-15), rel=1e-12)


def test_combine_single_prediction_unchanged():
    p = prediction("regression")
    y = np.array([1.0, np.nan, 3.0])
    combined = p.combine([y])
    assert np.array_equal(combined, y, equal_nan=True)


def test_combine_1d_regression():
    p = prediction("regression")
    combined = p.combine([np.array([1.0, 2.0, np.nan]), np.array([3.0, np.nan, np.nan]),
                          np.array([5.0, 4.0, np.nan])])
    assert combined[:2].tolist() == [3.0, 3.0]
    assert np.isnan(combined[2])


# --------------------------------------------------------------------------- regression


def test_regression_has_no_parameters():
    with pytest.raises(ConfigError, match=r"problem\.prediction\.labels: unknown key"):
        prediction("regression", labels=[0, 1])


def test_regression_encode_y_is_float():
    p = prediction("regression")
    encoded = p.encode_y(np.array([1, 2, 3]))
    assert encoded.dtype == float
    assert encoded.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(("y", "row", "column"), [
    ([1.0, np.nan, 2.0, np.inf], 1, None),
    ([1.0, 2.0, -np.inf], 2, None),
    ([[1.0, 2.0], [3.0, np.nan]], 1, 1),
], ids=["nan", "minus-inf", "second-column"])
def test_regression_encode_y_refuses_non_finite_targets(y, row, column):
    with pytest.raises(TargetError, match="regression targets must be finite") as info:
        prediction("regression").encode_y(np.array(y))
    assert (info.value.row, info.value.column) == (row, column)


def test_regression_encode_y_refuses_text():
    with pytest.raises(TargetError, match="regression targets must be numbers, got 'x'") as info:
        prediction("regression").encode_y(np.array([1.0, 2.0, "x"], dtype=object))
    assert info.value.row == 2


def test_regression_1d():
    p = prediction("regression")
    y_true = np.array([1.0, 2.0, 3.0])
    checked = p.check_y_pred([1, 2, 2.5], y_true)
    assert checked.dtype == float
    assert checked.shape == (3,)


def test_regression_n_by_1_accepted_for_1d_target():
    p = prediction("regression")
    checked = p.check_y_pred(np.array([[1.0], [2.0], [3.0]]), np.zeros(3))
    assert checked.shape == (3,)
    assert checked.tolist() == [1.0, 2.0, 3.0]


def test_regression_2d():
    p = prediction("regression")
    y_true = np.zeros((4, 2))
    checked = p.check_y_pred(np.ones((4, 2)), y_true)
    assert checked.shape == (4, 2)
    assert list(p.to_columns(checked)) == ["y_pred_0", "y_pred_1"]


@pytest.mark.parametrize(("y_true_shape", "y_pred_shape"), [
    ((3,), (4,)),
    ((3,), (3, 2)),
    ((3, 2), (3,)),
    ((3, 2), (3, 1)),
    ((3, 2), (2, 3)),
], ids=["rows", "two-columns-for-1d", "1d-for-two-columns", "one-column-for-two",
        "transposed"])
def test_regression_wrong_shape(y_true_shape, y_pred_shape):
    p = prediction("regression")
    with pytest.raises(ValueError) as info:
        p.check_y_pred(np.zeros(y_pred_shape), np.zeros(y_true_shape))
    assert str(info.value) == (f"expected predictions of shape {y_true_shape}, "
                               f"got shape {y_pred_shape}")


@pytest.mark.parametrize("y_true_shape", [(3,), (3, 2)], ids=["1d", "2d"])
def test_regression_nan(y_true_shape):
    p = prediction("regression")
    y_pred = np.ones(y_true_shape)
    y_pred[1] = np.nan
    with pytest.raises(ValueError) as info:
        p.check_y_pred(y_pred, np.zeros(y_true_shape))
    assert "NaN or infinite values in 1 row of the predictions (row 1)" in str(info.value)


def test_regression_non_numeric():
    p = prediction("regression")
    with pytest.raises(ValueError, match=r"^expected real-valued predictions, got list: "):
        p.check_y_pred(["a", "b"], np.zeros(2))


def test_regression_to_columns_1d():
    p = prediction("regression")
    columns = p.to_columns(np.array([1.0, 2.0]))
    assert list(columns) == ["y_pred"]
    assert columns["y_pred"].tolist() == [1.0, 2.0]
