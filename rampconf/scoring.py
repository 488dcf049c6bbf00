"""Scoring a run's predictions: folds, bagging curve and retrain, in the main process.

A :class:`Scoring` holds the encoded targets (and per-sample weights) of the
training and test sets and computes every score of the problem on the rows
each step needs. A score that raises :class:`~rampconf.scores.UndefinedScore`
is recorded as NaN; :attr:`Scoring.undefined` keeps where and why, so that a
run reports it once per score and reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rampconf.scores import UndefinedScore

if TYPE_CHECKING:
    from rampconf.predictions import BasePrediction
    from rampconf.scores import BaseScore

__all__ = ["Bagging", "Scoring", "mean_std", "undefined_warnings"]

#: How many places a warning names before it says "and N more".
SHOWN_PLACES = 4


class Scoring:
    """The scores of one run against its training and test targets.

    Parameters
    ----------
    scores
        The problem's scores, the official first.
    y_train, y_test
        Targets encoded by the prediction type.
    weights_train, weights_test
        Per-sample weights of the data (None when the data has none); scores
        that need weights get those of the rows they score.
    """

    def __init__(self, scores: list[BaseScore], y_train: np.ndarray, y_test: np.ndarray,
                 weights_train: np.ndarray | None = None,
                 weights_test: np.ndarray | None = None) -> None:
        self.scores = scores
        self.y_train, self.y_test = y_train, y_test
        self.weights_train, self.weights_test = weights_train, weights_test
        #: (score name, reason) -> places where it was undefined, in order.
        self.undefined: dict[tuple[str, str], list[str]] = {}

    def rows(self, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray | None,
             where: str, undefined: dict[tuple[str, str], list[str]] | None = None
             ) -> dict[str, float]:
        """Every score of ``y_pred`` against ``y_true``; NaN where a score is undefined
        (recorded in ``undefined``, by default :attr:`undefined`)."""
        undefined = self.undefined if undefined is None else undefined
        values = {}
        for score in self.scores:
            try:
                value = score(y_true, y_pred, weights)
                reason = None if value == value else "the score gave NaN without saying why"
            except UndefinedScore as exc:
                value, reason = float("nan"), str(exc)
            values[score.name] = value
            if reason is not None:
                undefined.setdefault((score.name, reason), []).append(where)
        return values

    def _train_rows(self, idx: np.ndarray | slice) -> np.ndarray | None:
        return None if self.weights_train is None else self.weights_train[idx]

    def fold(self, fold: int, train_idx: np.ndarray, valid_idx: np.ndarray,
             y_pred_train: np.ndarray, y_pred_test: np.ndarray) -> dict[str, dict[str, float]]:
        """Scores of one fold by step: its training rows, its valid rows, the test set."""
        return {
            "train": self.rows(self.y_train[train_idx], y_pred_train[train_idx],
                               self._train_rows(train_idx), f"fold {fold} train"),
            "valid": self.rows(self.y_train[valid_idx], y_pred_train[valid_idx],
                               self._train_rows(valid_idx), f"fold {fold} valid"),
            "test": self.rows(self.y_test, y_pred_test, self.weights_test, f"fold {fold} test"),
        }

    def retrain(self, y_pred_train: np.ndarray, y_pred_test: np.ndarray
                ) -> dict[str, dict[str, float]]:
        """Scores of the model retrained on all training data."""
        return {"train": self.rows(self.y_train, y_pred_train, self.weights_train,
                                   "retrain train"),
                "test": self.rows(self.y_test, y_pred_test, self.weights_test, "retrain test")}

    def bag(self, prediction: BasePrediction, folds: list[Any]
            ) -> tuple[list[dict[str, dict[str, float]]], dict[str, np.ndarray]]:
        """CV bagging as RAMP does it, with the curve over the number of folds.

        For ``k = 1..K`` the first ``k`` folds' predictions are combined by the
        prediction type: valid predictions (each fold's valid rows, nothing
        elsewhere) are scored on the rows that hold a prediction after
        combining; test predictions on the whole test set. ``folds`` are the
        successful fold results (``valid_idx``, ``y_pred_train``,
        ``y_pred_test``). Returns the curve (one ``{step: {score: value}}`` per
        ``k``) and the bagged predictions with all folds. :class:`Bagging`
        computes the same steps one fold at a time, as folds end.
        """
        bagging = Bagging(self, prediction)
        for result in folds:
            bagging.add(result)
        bagging.record_undefined()
        return bagging.curve, bagging.bagged

    def undefined_records(self) -> list[dict[str, Any]]:
        """The undefined scores as data: ``{"score", "reason", "where": [...]}`` each."""
        return [{"score": name, "reason": reason, "where": where}
                for (name, reason), where in self.undefined.items()]


class Bagging:
    """:meth:`Scoring.bag`, built up as folds end: :meth:`add` computes step ``k`` of the curve
    from the ``k`` folds added so far (a run adds each successful fold while the next runs).

    Undefined scores are kept apart until :meth:`record_undefined`, so that the
    scoring's warnings name the folds' places first, then the bagging's.
    """

    def __init__(self, scoring: Scoring, prediction: BasePrediction) -> None:
        self.scoring, self.prediction = scoring, prediction
        self.curve: list[dict[str, dict[str, float]]] = []
        self.bagged: dict[str, np.ndarray] = {}
        self.undefined: dict[tuple[str, str], list[str]] = {}
        self._valid: list[np.ndarray] = []
        self._test: list[np.ndarray] = []

    def record_undefined(self) -> None:
        """Add the bagging's undefined scores to the scoring's (once, at the end)."""
        for key, places in self.undefined.items():
            self.scoring.undefined.setdefault(key, []).extend(places)
        self.undefined = {}

    def add(self, result: Any) -> None:
        """Add a successful fold (``valid_idx``, ``y_pred_train``, ``y_pred_test``)."""
        scoring, prediction = self.scoring, self.prediction
        valid = prediction.empty(len(scoring.y_train), like=result.y_pred_train)
        valid[result.valid_idx] = result.y_pred_train[result.valid_idx]
        self._valid.append(valid)
        self._test.append(result.y_pred_test)
        combined_valid = prediction.combine(self._valid)
        combined_test = prediction.combine(self._test)
        rows = prediction.has_prediction(combined_valid)
        k = len(self._valid)
        label = f"bagged over {k} fold{'s' if k > 1 else ''}"
        self.curve.append({
            "valid": scoring.rows(scoring.y_train[rows], combined_valid[rows],
                                  scoring._train_rows(rows), f"{label} valid", self.undefined),
            "test": scoring.rows(scoring.y_test, combined_test, scoring.weights_test,
                                 f"{label} test", self.undefined),
        })
        self.bagged = {"valid": combined_valid, "test": combined_test}


def undefined_warnings(records: list[dict[str, Any]]) -> list[str]:
    """One line per undefined score and reason: ``ngini is undefined (NaN) in ...: why``."""
    lines = []
    for record in records:
        where = record["where"]
        places = ", ".join(where[:SHOWN_PLACES])
        if len(where) > SHOWN_PLACES:
            places += f" and {len(where) - SHOWN_PLACES} more"
        lines.append(f"{record['score']} is undefined (NaN) in {places}: {record['reason']}")
    return lines


def mean_std(fold_scores: dict[int, dict[str, dict[str, float]]]
             ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Mean and (population) standard deviation over folds: step -> score -> value."""
    mean: dict[str, dict[str, float]] = {}
    std: dict[str, dict[str, float]] = {}
    if not fold_scores:
        return mean, std
    first = next(iter(fold_scores.values()))
    for step, values in first.items():
        mean[step], std[step] = {}, {}
        for name in values:
            column = np.array([fold_scores[f][step][name] for f in sorted(fold_scores)])
            mean[step][name] = float(np.mean(column))
            std[step][name] = float(np.std(column))  # population std, as RAMP
    return mean, std
