"""Score plugins: parity with ramp-workflow 0.7.0 and the behaviour of each score.

The reference vectors come from the shared kits (``$RAMPCONF_KITS``, default
``../shared/kits`` beside the repository): fixed ``(y_true, y_pred)`` pairs with
the number each ramp-workflow score type gives them.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError
from rampconf_tabular import scores as S
from rampconf_tabular.predictions import Multiclass
from sklearn import metrics
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedShuffleSplit

from rampconf import registry
from rampconf.compat import compat_defaults, compat_mode
from rampconf.errors import ConfigError
from rampconf.plugin import make_plugin
from rampconf.scores import BaseScore, UndefinedScore

KITS = Path(os.environ.get("RAMPCONF_KITS",
                           Path(__file__).resolve().parents[2].parent / "shared" / "kits"))
REFERENCE = KITS / "reference"
CONF = Path(S.__file__).resolve().parents[2] / "conf" / "score"
CASES: list[dict[str, Any]] = json.loads(
    (REFERENCE / "score_vectors.json").read_text())["cases"]

#: Reference score name -> (registered score type, parameters beyond the case's own).
REFERENCE_NAMES: dict[str, tuple[str, dict[str, Any]]] = {
    "accuracy": ("accuracy", {}),
    "error": ("classification_error", {}),
    "nll": ("negative_log_likelihood", {}),
    "f1_above_0.7": ("f1_above", {}),
    "normalized_gini": ("normalized_gini", {}),
    "balanced_accuracy": ("balanced_accuracy", {}),
    "macro_averaged_recall": ("macro_averaged_recall", {}),
    "soft_accuracy": ("soft_accuracy", {}),
    "roc_auc": ("roc_auc", {}),
    "brier_score": ("brier_score", {}),
    "brier_skill_score": ("brier_skill_score", {}),
    "brier_score_reliability": ("brier_score_reliability", {}),
    "brier_score_resolution": ("brier_score_resolution", {}),
    "rmse": ("rmse", {}),
    "normalized_rmse": ("normalized_rmse", {}),
    "relative_rmse": ("relative_rmse", {}),
    "mare": ("mare", {}),
}
ENTRY_POINTS = {
    "accuracy": "Accuracy", "classification_error": "ClassificationError",
    "balanced_accuracy": "BalancedAccuracy", "macro_averaged_recall": "MacroAveragedRecall",
    "f1_above": "F1Above", "negative_log_likelihood": "NegativeLogLikelihood",
    "roc_auc": "ROCAUC", "normalized_gini": "NormalizedGini", "brier_score": "BrierScore",
    "brier_skill_score": "BrierSkillScore", "brier_score_reliability": "BrierScoreReliability",
    "brier_score_resolution": "BrierScoreResolution", "soft_accuracy": "SoftAccuracy",
    "rmse": "RMSE", "normalized_rmse": "NormalizedRMSE", "relative_rmse": "RelativeRMSE",
    "mare": "MARE", "sklearn": "SklearnScorer",
}


def build(score_type: str, *, name: str | None = None, **params: Any) -> BaseScore:
    """A score built the way a run builds it: registry lookup, validation, construction."""
    context = {} if name is None else {"name": name}
    return make_plugin("score", score_type, params, f"scores.{score_type}", BaseScore, **context)


def encode(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) of a reference case, labels encoded to their indices."""
    y_pred = np.asarray(case["y_pred"], dtype=float)
    if case["kind"] == "regression":
        return np.asarray(case["y_true"], dtype=float), y_pred
    index = {label: i for i, label in enumerate(case["labels"])}
    return np.array([index[label] for label in case["y_true"]]), y_pred


def reference_params() -> list[Any]:
    params, seen = [], {"multiclass": 0, "binary": 0, "regression": 0}
    for case in CASES:
        kind = case["kind"]
        if kind not in seen:
            continue
        for ref_name, expected in case["expected"].items():
            params.append(pytest.param(case, ref_name, expected,
                                       id=f"{kind}-{seen[kind]}-{ref_name}"))
        seen[kind] += 1
    return params


# --------------------------------------------------------------------------- parity


def test_reference_cases_are_all_covered() -> None:
    kinds = [case["kind"] for case in CASES]
    assert kinds.count("multiclass") == 3 and kinds.count("binary") == 3
    assert kinds.count("regression") == 3
    names = {name for case in CASES if case["kind"] in ("multiclass", "binary", "regression")
             for name in case["expected"]}
    assert names == set(REFERENCE_NAMES)


@pytest.mark.parametrize(("case", "ref_name", "expected"), reference_params())
def test_score_matches_ramp_workflow(case: dict[str, Any], ref_name: str,
                                     expected: float) -> None:
    score_type, extra = REFERENCE_NAMES[ref_name]
    with compat_mode("ramp"):  # as a run with compat=ramp (ramp-workflow's Brier bins)
        score = build(score_type, **case.get("params", {}).get(ref_name, {}), **extra)
    y_true, y_pred = encode(case)
    value = score(y_true, y_pred)
    assert isinstance(value, float)
    assert value == pytest.approx(expected, abs=1e-9, rel=0)
    assert score.minimum <= value <= score.maximum


def iris_starting_kit() -> list[dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Per fold (y_true, y_pred) of the iris starting kit for the train, valid and test steps."""
    train = pd.read_csv(KITS / "iris" / "train.csv")
    test = pd.read_csv(KITS / "iris" / "test.csv")
    labels = ["setosa", "versicolor", "virginica"]
    y_train = train["species"].map(labels.index).to_numpy()
    y_test = test["species"].map(labels.index).to_numpy()
    X_train, X_test = train.drop(columns="species"), test.drop(columns="species")
    cv = StratifiedShuffleSplit(n_splits=2, test_size=0.2, random_state=57)
    folds = []
    for fold_train, fold_valid in cv.split(X_train, y_train):
        model = RandomForestClassifier(n_estimators=1, max_leaf_nodes=2, random_state=61)
        model.fit(X_train.iloc[fold_train], y_train[fold_train])
        proba = model.predict_proba(X_train)
        folds.append({"train": (y_train[fold_train], proba[fold_train]),
                      "valid": (y_train[fold_valid], proba[fold_valid]),
                      "test": (y_test, model.predict_proba(X_test))})
    return folds


def test_iris_starting_kit_folds_match_ramp_test() -> None:
    """Probabilities that are exactly 0 and tied settle the NLL clip and the Gini sort."""
    reference = json.loads((REFERENCE / "ramp_test_scores.json").read_text())
    reference = reference["kits"]["iris"]["starting_kit"]["folds"]
    scores = {"acc": build("accuracy"), "error": build("classification_error"),
              "nll": build("negative_log_likelihood"), "f1_70": build("f1_above", threshold=0.7),
              "ngini": build("normalized_gini"), "bac": build("balanced_accuracy"),
              "mar": build("macro_averaged_recall")}
    folds = iris_starting_kit()
    assert any((y_pred[np.arange(len(y)), y] == 0).any()
               for fold in folds for y, y_pred in fold.values())
    for fold, expected in zip(folds, reference, strict=True):
        for step, (y_true, y_pred) in fold.items():
            for name, score in scores.items():
                assert score(y_true, y_pred) == pytest.approx(expected[name][step], abs=1e-12), \
                    (name, step)


def test_multiclass_combine_matches_ramp_bagging() -> None:
    (case,) = [case for case in CASES if case["kind"] == "multiclass_combine"]
    folds = [np.array(fold, dtype=float) for fold in case["fold_predictions"]]  # null -> NaN
    expected = np.array(case["combined"], dtype=float)
    assert np.isnan(folds[0]).any() and np.isnan(expected).any()
    combined = Multiclass().combine(folds)
    np.testing.assert_array_equal(np.isnan(combined), np.isnan(expected))
    np.testing.assert_allclose(combined, expected, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- plugins and YAML


@pytest.mark.parametrize("score_type", sorted(ENTRY_POINTS))
def test_entry_point_and_yaml_option(score_type: str) -> None:
    cls = registry.get("score", score_type)
    assert cls is getattr(S, ENTRY_POINTS[score_type]) and issubclass(cls, BaseScore)
    assert cls.__doc__ and cls.__doc__.strip().splitlines()[0].endswith(".")
    text = (CONF / f"{score_type}.yaml").read_text()
    option = yaml.safe_load(text)
    assert option.pop("type") == score_type
    name, precision = option.pop("name"), option.pop("precision")
    assert isinstance(name, str) and precision == cls.default_precision
    if score_type == "sklearn":
        assert option == {"scorer": "???"}  # required: the problem names the scorer
        return
    # the YAML lists every default but those left to the run's compat option
    expected = cls.Params().model_dump(mode="json")
    for key in compat_defaults(cls.Params, "ramp"):
        expected[key] = None  # null: the field's default, or the compat mode's
    assert option == expected
    assert build(score_type, **option).params == cls.Params()


@pytest.mark.parametrize(("score_type", "greater_is_better", "bounds"), [
    ("accuracy", True, (0, 1)), ("classification_error", False, (0, 1)),
    ("balanced_accuracy", True, (-1, 1)), ("macro_averaged_recall", True, (0, 1)),
    ("f1_above", True, (0, 1)), ("negative_log_likelihood", False, (0, math.inf)),
    ("roc_auc", True, (0, 1)), ("normalized_gini", True, (-1, 1)),
    ("brier_score", False, (0, 1)), ("brier_skill_score", True, (-math.inf, 1)),
    ("brier_score_reliability", False, (0, 1)), ("brier_score_resolution", True, (0, 1)),
    ("soft_accuracy", True, (0, 1)), ("rmse", False, (0, math.inf)),
    ("normalized_rmse", False, (0, math.inf)), ("relative_rmse", False, (0, math.inf)),
    ("mare", False, (0, math.inf)),
])
def test_direction_and_bounds(score_type: str, greater_is_better: bool,
                              bounds: tuple[float, float]) -> None:
    cls = registry.get("score", score_type)
    assert cls.greater_is_better is greater_is_better
    assert (cls.minimum, cls.maximum) == bounds


# --------------------------------------------------------------------------- definitions


def test_nll_is_scikit_learns_log_loss_without_renormalising() -> None:
    # Rows that do not sum to 1 are not renormalised; a row of zeros costs -log(eps).
    y_true = np.array([1, 1, 0, 2])
    y_pred = np.array([[0.2, 0.3, 0.1], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.5, 0.5]])
    eps = np.finfo(float).eps
    expected = -(np.log(0.3) + np.log(1 - eps) + np.log(eps) + np.log(0.5)) / 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "do not sum to one"
        sklearn_value = metrics.log_loss(np.eye(3)[y_true], y_pred)
    assert sklearn_value == pytest.approx(expected, rel=1e-15)
    assert build("negative_log_likelihood")(y_true, y_pred) == pytest.approx(expected, rel=1e-15)
    assert build("negative_log_likelihood")(y_true[2:3], y_pred[2:3]) == pytest.approx(
        -np.log(eps), rel=1e-15)


def test_soft_accuracy_scores_a_row_of_zeros_as_zero() -> None:
    y_true = np.array([0, 1])
    y_pred = np.array([[0.0, 0.0], [0.25, 0.75]])
    assert build("soft_accuracy")(y_true, y_pred) == pytest.approx(0.75 / 2)


UNDEFINED_CASES = {
    "roc_auc-one-label": ("roc_auc", [1, 1, 1], [[0.8, 0.2], [0.6, 0.4], [0.3, 0.7]]),
    "roc_auc-multiclass-label-absent": ("roc_auc", [0, 1, 0],
                                        [[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.4, 0.4, 0.2]]),
    "ngini-all-0": ("normalized_gini", [0, 0, 0], [[0.8, 0.2], [0.6, 0.4], [0.3, 0.7]]),
    "ngini-all-1": ("normalized_gini", [1, 1, 1], [[0.8, 0.2], [0.6, 0.4], [0.3, 0.7]]),
    "ngini-one-row": ("normalized_gini", [1], [[0.3, 0.7]]),
    "bss-one-label": ("brier_skill_score", [0, 0], [[0.8, 0.2], [0.6, 0.4]]),
    "bs_res-one-label": ("brier_score_resolution", [0, 0], [[0.8, 0.2], [0.6, 0.4]]),
    "bac-one-label-all-right": ("balanced_accuracy", [0, 0], [[0.8, 0.2], [0.6, 0.4]]),
    "n_rmse-constant-exact": ("normalized_rmse", [1.0, 1.0], [1.0, 1.0]),
    "rel_rmse-zero-exact": ("relative_rmse", [0.0, 1.0], [0.0, 1.0]),
    "mare-zero-exact": ("mare", [0.0, 1.0], [0.0, 1.0]),
}


@pytest.mark.parametrize("case", list(UNDEFINED_CASES))
def test_undefined_scores_say_why(case: str) -> None:
    score_type, y_true, y_pred = UNDEFINED_CASES[case]
    with pytest.raises(UndefinedScore) as info:
        build(score_type)(np.asarray(y_true), np.asarray(y_pred, dtype=float))
    assert len(str(info.value)) > 10


@pytest.mark.parametrize(("score_type", "y_true", "y_pred", "expected"), [
    pytest.param("normalized_rmse", [1.0, 1.0, 1.0], [1.0, 2.0, 3.0], math.inf, id="n_rmse"),
    pytest.param("relative_rmse", [0.0, 1.0], [1.0, 1.0], math.inf, id="rel_rmse"),
    pytest.param("mare", [0.0, 1.0], [1.0, 1.0], math.inf, id="mare"),
    pytest.param("balanced_accuracy", [0, 0], [[0.2, 0.8], [0.6, 0.4]], -math.inf, id="bac"),
])
def test_infinite_values_as_ramp_workflow(score_type: str, y_true: list[Any],
                                          y_pred: list[Any], expected: float) -> None:
    assert build(score_type)(np.asarray(y_true), np.asarray(y_pred, dtype=float)) == expected


def test_normalized_gini_keeps_tied_rows_in_order() -> None:
    # Column 1 ranks rows 0 and 1 (tied, kept in row order) before row 2.
    y_true = np.array([0, 1, 0])
    y_pred = np.array([[0.4, 0.6], [0.4, 0.6], [0.9, 0.1]])
    # sorted truths 0, 1, 0: cumsums 0, 1, 1 -> (2 / 1 - 2) / 3 = 0;
    # perfect order 1, 0, 0: cumsums 1, 1, 1 -> (3 / 1 - 2) / 3 = 1 / 3.
    assert build("normalized_gini")(y_true, y_pred) == 0.0
    swapped = build("normalized_gini")(y_true[[1, 0, 2]], y_pred)  # the 1 now first
    assert swapped == pytest.approx(1.0)


def test_soft_accuracy_with_identity_is_mean_true_probability() -> None:
    y_true = np.array([0, 2, 1])
    y_pred = np.array([[0.5, 0.5, 0.0], [-0.2, 0.0, 2.0], [0.2, 0.2, 0.6]])
    # clipped to [0, 1] and renormalised: row 1 becomes [0, 0, 1]
    assert build("soft_accuracy")(y_true, y_pred) == pytest.approx((0.5 + 1.0 + 0.2) / 3)
    ordinal = build("soft_accuracy", score_matrix=[[1, 0.5, 0], [0.5, 1, 0.5], [0, 0.5, 1]])
    assert ordinal(y_true, y_pred) == pytest.approx((0.75 + 1.0 + 0.6) / 3)
    assert (ordinal.minimum, ordinal.maximum) == (0.0, 1.0)
    with pytest.raises(ValueError, match="2 labels"):
        ordinal(np.array([0]), np.array([[0.5, 0.5]]))


def test_balanced_accuracy_rescales_recall_of_the_true_labels() -> None:
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.eye(3)[[0, 1, 1, 1, 2, 0]]
    recall = (0.5 + 1.0 + 0.5) / 3
    assert build("macro_averaged_recall")(y_true, y_pred) == pytest.approx(recall)
    assert build("balanced_accuracy")(y_true, y_pred) == pytest.approx((recall - 1 / 3) / (2 / 3))


def test_f1_above_threshold_defaults_to_ramp_workflows_and_problems_keep_theirs() -> None:
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.eye(3)[[0, 0, 1, 2, 2, 1]]  # per-label F1: 1, 0.5, 0.5
    assert build("f1_above")(y_true, y_pred) == pytest.approx(1 / 3)  # threshold 0.5
    option = yaml.safe_load((CONF / "f1_above.yaml").read_text())
    assert option["threshold"] == 0.5
    for problem in ("iris", "iris_kit", "titanic"):
        text = yaml.safe_load((CONF.parent / "problem" / f"{problem}.yaml").read_text())
        assert text["scores"]["f1_70"] == {"name": "f1_70", "threshold": 0.7}, problem


def test_f1_above_counts_labels_strictly_above_threshold() -> None:
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.eye(3)[[0, 0, 1, 2, 2, 1]]  # per-label F1: 1, 0.5, 0.5
    assert build("f1_above", threshold=0.5)(y_true, y_pred) == pytest.approx(1 / 3)
    assert build("f1_above", threshold=0.49)(y_true, y_pred) == pytest.approx(1.0)


def test_regression_scores_run_over_all_columns() -> None:
    y_true = np.array([[1.0, 2.0], [4.0, -8.0]])
    y_pred = np.array([[2.0, 2.0], [4.0, -4.0]])
    assert build("rmse")(y_true, y_pred) == pytest.approx(math.sqrt((1 + 16) / 4))
    assert build("normalized_rmse")(y_true, y_pred) == pytest.approx(
        math.sqrt(17 / 4) / np.std([1.0, 2.0, 4.0, -8.0]))
    assert build("relative_rmse")(y_true, y_pred) == pytest.approx(math.sqrt((1 + 0.25) / 4))
    assert build("mare")(y_true, y_pred) == pytest.approx((1 + 0.5) / 4)


# --------------------------------------------------------------------------- Brier


def brier_arrays(forecasts: list[float], outcomes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    p = np.array(forecasts)
    return np.array(outcomes), np.column_stack([1 - p, p])


def test_brier_reliability_uses_bin_midpoints_by_default() -> None:
    y_true, y_pred = brier_arrays([0.1, 0.2, 0.3, 0.6, 0.7, 0.9, 0.95, 0.6],
                                  [0, 1, 0, 1, 1, 1, 0, 0])
    # four bins of width 0.25: (count, observed frequency, midpoint)
    bins = [(2, 1 / 2, 0.125), (1, 0.0, 0.375), (3, 2 / 3, 0.625), (2, 1 / 2, 0.875)]
    correct = sum(n * (mid - freq) ** 2 for n, freq, mid in bins) / 8
    ramp = sum(n * (0.05 * 0.25 - freq) ** 2 for n, freq, _ in bins) / 8
    assert build("brier_score_reliability", bins=4)(y_true, y_pred) == pytest.approx(correct)
    ramp_value = build("brier_score_reliability", bins=4, ramp_bin_centres=True)(y_true, y_pred)
    assert ramp_value == pytest.approx(ramp)
    assert abs(ramp_value - correct) > 0.1
    edges = build("brier_score_reliability", bins=[0, 0.25, 0.5, 0.75, 1])
    assert edges(y_true, y_pred) == pytest.approx(correct)


def test_brier_decomposition_holds_when_forecasts_are_bin_midpoints() -> None:
    """BS = REL - RES + UNC exactly when every forecast equals its bin's value."""
    rng = np.random.default_rng(0)
    forecasts = rng.choice([0.05, 0.15, 0.35, 0.55, 0.75, 0.95, 1.0], size=200)
    outcomes = (rng.random(200) < forecasts).astype(int)
    y_true, y_pred = brier_arrays(list(forecasts), list(outcomes))
    climatology = outcomes.mean()
    uncertainty = climatology * (1 - climatology)
    reliability = build("brier_score_reliability")(y_true, y_pred)
    resolution = build("brier_score_resolution")(y_true, y_pred) * uncertainty
    brier = build("brier_score")(y_true, y_pred)
    assert brier == pytest.approx(reliability - resolution + uncertainty, abs=1e-12)
    assert build("brier_skill_score")(y_true, y_pred) == pytest.approx(1 - brier / uncertainty)
    ramp = build("brier_score_reliability", ramp_bin_centres=True)(y_true, y_pred)
    assert ramp != pytest.approx(reliability)


def test_binary_scores_refuse_multiclass_probabilities() -> None:
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        build("brier_score")(np.array([0, 1]), np.full((2, 3), 1 / 3))


def test_roc_auc_multiclass_is_macro_one_vs_rest() -> None:
    case = next(case for case in CASES if case["kind"] == "multiclass")
    y_true, y_pred = encode(case)
    expected = np.mean([metrics.roc_auc_score(y_true == j, y_pred[:, j]) for j in range(3)])
    assert build("roc_auc")(y_true, y_pred) == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------- scikit-learn


def test_sklearn_r2_on_regression() -> None:
    case = next(case for case in CASES if case["kind"] == "regression")
    y_true, y_pred = encode(case)
    score = build("sklearn", scorer="r2")
    assert score.greater_is_better is True
    assert score(y_true, y_pred) == pytest.approx(metrics.r2_score(y_true, y_pred), abs=1e-15)


def test_sklearn_f1_macro_on_argmax_labels() -> None:
    case = next(case for case in CASES if case["kind"] == "multiclass")
    y_true, y_pred = encode(case)
    expected = metrics.f1_score(y_true, y_pred.argmax(axis=1), average="macro")
    assert build("sklearn", scorer="f1_macro")(y_true, y_pred) == pytest.approx(expected)


def test_sklearn_neg_scorer_reports_positive_loss() -> None:
    case = next(case for case in CASES if case["kind"] == "regression")
    y_true, y_pred = encode(case)
    score = build("sklearn", scorer="neg_mean_absolute_error")
    value = score(y_true, y_pred)
    assert value > 0
    assert value == pytest.approx(metrics.mean_absolute_error(y_true, y_pred))
    assert score.greater_is_better is False and score.minimum == 0.0
    assert S.SklearnScorer.greater_is_better is True  # the class attribute is untouched
    assert score.name == "mean_absolute_error"
    assert build("sklearn", scorer="r2", name="R²").name == "R²"


def test_sklearn_probability_scorers() -> None:
    binary = next(case for case in CASES if case["kind"] == "binary")
    y_true, y_pred = encode(binary)
    auc = build("sklearn", scorer="roc_auc")(y_true, y_pred)
    assert auc == pytest.approx(binary["expected"]["roc_auc"], abs=1e-12)
    multiclass = next(case for case in CASES if case["kind"] == "multiclass")
    y_true, y_pred = encode(multiclass)
    log_loss = build("sklearn", scorer="neg_log_loss")
    assert log_loss(y_true, y_pred) == pytest.approx(multiclass["expected"]["nll"], abs=1e-12)
    # labels=range(k) is passed, so a fold where a label never occurs still scores
    keep = y_true != 2
    assert log_loss(y_true[keep], y_pred[keep]) == pytest.approx(
        metrics.log_loss(y_true[keep], y_pred[keep], labels=[0, 1, 2]))


def test_sklearn_binary_scorers_get_the_positive_column() -> None:
    binary = next(case for case in CASES if case["kind"] == "binary")
    y_true, y_pred = encode(binary)
    expected = {
        "average_precision": metrics.average_precision_score(y_true, y_pred[:, 1]),
        "neg_brier_score": metrics.brier_score_loss(y_true, y_pred[:, 1]),
        "f1": metrics.f1_score(y_true, y_pred.argmax(axis=1)),
    }
    for scorer, value in expected.items():
        assert build("sklearn", scorer=scorer)(y_true, y_pred) == pytest.approx(value), scorer


def test_sklearn_probability_scorer_on_regression_says_what_it_needs() -> None:
    case = next(case for case in CASES if case["kind"] == "regression")
    y_true, y_pred = encode(case)
    with pytest.raises(ValueError, match=r"'roc_auc' needs class probabilities .*got y_true"):
        build("sklearn", scorer="roc_auc")(y_true, y_pred)


def test_sklearn_unknown_scorer_lists_close_names() -> None:
    with pytest.raises(ValidationError, match="f1_macro") as error:
        S.SklearnScorer.Params(scorer="f1_marco")
    assert "scorer" in str(error.value) and "unknown scikit-learn scorer" in str(error.value)
    with pytest.raises(ConfigError, match=r"scores\.sklearn\.scorer: .*f1_macro"):
        build("sklearn", scorer="f1_marco")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(("score_type", "params", "field"), [
    ("f1_above", {"threshold": 1.5}, "threshold"),
    ("f1_above", {"threshold": -0.1}, "threshold"),
    ("soft_accuracy", {"score_matrix": [[1, 0], [0, 1], [0, 0]]}, "score_matrix"),
    ("soft_accuracy", {"score_matrix": [[1, 0.5], [0.5]]}, "score_matrix"),
    ("soft_accuracy", {"score_matrix": [[1, float("nan")], [0, 1]]}, "score_matrix"),
    ("brier_score_reliability", {"bins": 0}, "bins"),
    ("brier_score_resolution", {"bins": [0.0, 0.5, 0.5, 1.0]}, "bins"),
    ("brier_score_reliability", {"ramp_bin_centers": True}, "ramp_bin_centers"),
])
def test_params_validation_names_the_field(score_type: str, params: dict[str, Any],
                                           field: str) -> None:
    cls = registry.get("score", score_type)
    with pytest.raises(ValidationError) as error:
        cls.Params(**params)
    assert error.value.errors()[0]["loc"][0] == field
    with pytest.raises(ConfigError, match=rf"^scores\.{score_type}\.{field}"):
        build(score_type, **params)


# --------------------------------------------------------------------------- fast paths


def _score_inputs(seed: int) -> list[np.ndarray]:
    """Values with ties, bin edges, values outside the edges and a NaN among them."""
    rng = np.random.default_rng(seed)
    return [rng.random(200), np.round(rng.random(300), 1), rng.integers(0, 3, 50).astype(float),
            np.r_[rng.random(40), [0.0, 0.1, 0.3, 0.7, 1.0, 1.1, -0.1, 1.2]],
            np.array([0.4]), np.array([0.2, np.nan, 0.5]), np.array([])]


@pytest.mark.parametrize("seed", range(5))
def test_average_ranks_are_scipys(seed: int) -> None:
    from scipy.stats import rankdata

    for values in _score_inputs(seed):
        np.testing.assert_array_equal(S._average_ranks(values), rankdata(values))


@pytest.mark.parametrize("seed", range(5))
def test_histogram_counts_are_numpys(seed: int) -> None:
    for values in _score_inputs(seed):
        for edges in (S.RAMP_BRIER_EDGES, np.linspace(0.0, 1.0, 7), np.array([0.1, 0.3, 1.0])):
            np.testing.assert_array_equal(S._histogram(values, edges),
                                          np.histogram(values, edges)[0])
