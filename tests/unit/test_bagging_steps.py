"""CV bagging built up fold by fold, as a run adds each fold while the next one runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rampconf.plugin import make_plugin
from rampconf.predictions import BasePrediction
from rampconf.scores import BaseScore
from rampconf.scoring import Bagging, Scoring


def score(name: str) -> BaseScore:
    return make_plugin("score", name, {}, f"problem.scores.{name}", BaseScore, name=name)


@dataclass
class Fold:
    valid_idx: np.ndarray
    y_pred_train: np.ndarray
    y_pred_test: np.ndarray


def make_case() -> tuple[Any, list[Fold], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    prediction = make_plugin("prediction", "multiclass", {}, "problem.prediction",
                             BasePrediction)
    y_train = np.array([0, 1, 2] * 6)
    y_test = np.zeros(5, dtype=int)  # one label only: the ROC AUC is undefined on it
    prediction.setup(y_train)
    folds = []
    for k in range(4):
        valid = np.arange(k, len(y_train), 4)
        folds.append(Fold(valid, rng.dirichlet(np.ones(3), len(y_train)),
                          rng.dirichlet(np.ones(3), len(y_test))))
    return prediction, folds, y_train, y_test


def scoring_of(y_train: np.ndarray, y_test: np.ndarray) -> Scoring:
    scores = [score("accuracy"), score("roc_auc"), score("negative_log_likelihood")]
    return Scoring(scores, y_train, y_test)


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (an undefined score)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)


def test_each_added_fold_gives_the_step_bagging_its_folds_at_once_gives():
    prediction, folds, y_train, y_test = make_case()
    bagging = Bagging(scoring_of(y_train, y_test), prediction)
    for k, fold in enumerate(folds, start=1):
        bagging.add(fold)
        curve, bagged = scoring_of(y_train, y_test).bag(prediction, folds[:k])
        assert _same(bagging.curve, curve)
        np.testing.assert_array_equal(bagging.bagged["valid"], bagged["valid"])
        np.testing.assert_array_equal(bagging.bagged["test"], bagged["test"])


def test_undefined_scores_name_the_folds_first_then_the_bagging_as_before():
    """A run scores a fold, then adds it to the bagging; its warnings read as when the
    bagging came after every fold."""
    prediction, folds, y_train, y_test = make_case()
    interleaved = scoring_of(y_train, y_test)
    bagging = Bagging(interleaved, prediction)
    for k, fold in enumerate(folds):
        interleaved.fold(k, np.setdiff1d(np.arange(len(y_train)), fold.valid_idx),
                         fold.valid_idx, fold.y_pred_train, fold.y_pred_test)
        bagging.add(fold)
    bagging.record_undefined()
    after = scoring_of(y_train, y_test)
    for k, fold in enumerate(folds):
        after.fold(k, np.setdiff1d(np.arange(len(y_train)), fold.valid_idx),
                   fold.valid_idx, fold.y_pred_train, fold.y_pred_test)
    after.bag(prediction, folds)
    records = interleaved.undefined_records()
    assert records == after.undefined_records()
    assert records[0]["where"][:2] == ["fold 0 test", "fold 1 test"]
    assert records[0]["where"][-1] == "bagged over 4 folds test"
