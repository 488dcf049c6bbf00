"""Numbers computed by ramp-workflow 0.7.0 on cases its kits do not reach (issue 8, items 1-5).

``tests/fixtures/ramp_edge_cases.json`` holds the inputs and ramp-workflow's
outputs, written by ``tests/fixtures/make_ramp_edge_cases.py`` (run in an
environment with ramp-workflow 0.7.0; it calls ramp-workflow's own ``combine``
and ``score_function``). The live runs of ``ramp-test`` on whole kits are in
``tests/integration/test_ramp_edge_cases.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rampconf_tabular.predictions import Multiclass

from rampconf.compat import compat_mode
from rampconf.plugin import make_plugin
from rampconf.predictions import BasePrediction
from rampconf.scores import BaseScore, UndefinedScore

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "ramp_edge_cases.json")
                     .read_text())
WINDOW = FIXTURE["window"]


def expected_value(value: Any) -> float:
    """ramp-workflow's number as a float: null is NaN, "inf" / "-inf" infinite."""
    if value is None:
        return math.nan
    return float(value)


def recorded(score: BaseScore, y_true: Any, y_pred: Any) -> float:
    """The value a run records: NaN when the score is undefined."""
    try:
        return score(y_true, y_pred)
    except UndefinedScore:
        return math.nan


def same(ours: float, theirs: float) -> bool:
    if math.isnan(theirs) or math.isinf(theirs):
        return (math.isnan(ours) and math.isnan(theirs)) or ours == theirs
    return math.isclose(ours, theirs, rel_tol=0, abs_tol=1e-12)


def multiclass(labels: list[Any]) -> Multiclass:
    prediction = make_plugin("prediction", "multiclass", {"labels": labels}, "p", BasePrediction)
    assert isinstance(prediction, Multiclass)
    prediction.setup(np.asarray(labels))
    return prediction


def score(name: str, **params: Any) -> BaseScore:
    with compat_mode("ramp"):
        return make_plugin("score", name, params, f"problem.scores.{name}", BaseScore)


# --------------------------------------------------------------------------- item 1


@pytest.mark.parametrize("case", FIXTURE["multiclass_combine"], ids=["binary", "three-labels"])
def test_multiclass_bagging_as_ramp_workflow(case):
    prediction = multiclass(case["labels"])
    folds = [np.array(fold, dtype=float) for fold in case["folds"]]  # null -> NaN
    combined = prediction.combine(folds)
    expected = np.array(case["combined"], dtype=float)
    np.testing.assert_allclose(combined, expected, rtol=0, atol=1e-15)
    y_true = prediction.encode_y(np.asarray(case["y_true"]))
    assert score("negative_log_likelihood")(y_true, combined) == pytest.approx(
        case["bagged_nll"], abs=1e-12)
    assert score("accuracy")(y_true, combined) == case["bagged_accuracy"]


# --------------------------------------------------------------------------- item 2


@pytest.mark.parametrize("case", FIXTURE["probabilities"], ids=lambda c: c["case"])
def test_probabilities_as_ramp_workflow(case):
    prediction = multiclass(case["labels"])
    y_true = prediction.encode_y(np.asarray(case["y_true"]))
    y_pred = np.array(case["y_pred"])
    ramp_raises = any(isinstance(v, dict) for v in case["expected"].values())
    if ramp_raises:  # ramp-workflow fails the fold when it scores these; we refuse them at once
        with pytest.raises(ValueError, match=r"probabilities must be in \[0, 1\]: row 0 holds"):
            prediction.check_y_pred(y_pred, y_true)
        return
    checked = prediction.check_y_pred(y_pred, y_true)
    soft = score("soft_accuracy", score_matrix=[[1, 0.5, 0], [0.3, 1, 0.3], [0, 0.5, 1]])
    ours = {"nll": score("negative_log_likelihood"), "soft_accuracy": soft,
            "accuracy": score("accuracy")}
    for name, expected in case["expected"].items():
        assert ours[name](y_true, checked) == pytest.approx(expected, abs=1e-12), name


# --------------------------------------------------------------------------- item 3


@pytest.mark.parametrize("case", FIXTURE["undefined"], ids=lambda c: c["case"])
def test_undefined_scores_as_ramp_workflow(case):
    if case["kind"] == "classification":
        prediction = multiclass(case["labels"])
        y_true = prediction.encode_y(np.asarray(case["y_true"]))
    else:
        y_true = np.asarray(case["y_true"], dtype=float)
    y_pred = np.asarray(case["y_pred"], dtype=float)
    for name, expected in case["expected"].items():
        value = recorded(score(name), y_true, y_pred)
        if isinstance(expected, dict):  # ramp-workflow raises (Brier skill with one label)
            assert name == "brier_skill_score" and math.isnan(value)
            continue
        assert same(value, expected_value(expected)), (name, value, expected)


# --------------------------------------------------------------------------- item 5


DETECTION_SCORES = {
    "ospa": ("ospa", {}),
    "prec(0)": ("detection_precision", {"iou_threshold": 0.0}),
    "prec(0.5)": ("detection_precision", {"iou_threshold": 0.5}),
    "rec(0)": ("detection_recall", {"iou_threshold": 0.0}),
    "rec(0.5)": ("detection_recall", {"iou_threshold": 0.5}),
    "madc": ("mad_center", {}),
    "madr": ("mad_radius", {}),
}


def detection_scores(**extra: Any) -> dict[str, BaseScore]:
    return {name: score(kind, minipatch=WINDOW, **params, **extra)
            for name, (kind, params) in DETECTION_SCORES.items()}


def differing_cases(scores: dict[str, BaseScore]) -> list[int]:
    """Indices of the fixture's cases where a score differs from ramp-workflow's."""
    return [i for i, case in enumerate(FIXTURE["detection_ties"])
            if any(not same(recorded(scores[name], case["y_true"], case["y_pred"]),
                            expected_value(expected))
                   for name, expected in case["expected"].items())]


def test_detection_matching_ties_as_ramp_workflow():
    scores = detection_scores()
    assert {s.params.ties for s in scores.values()} == {"ramp"}  # compat=ramp
    assert differing_cases(scores) == []


def test_the_default_tie_breaking_picks_other_optimal_matchings():
    """The tied images (the first seven cases) score otherwise with ``ties: grouped``."""
    assert differing_cases(detection_scores(ties="grouped")) == list(range(7))
