"""Clustering predictions: an ``(event_id, cluster_id)`` pair per hit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from rampconf.compat import compat_default
from rampconf.plugin import StrictModel
from rampconf.predictions import BasePrediction

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Clustering", "ClusteringParams"]

EXPECTED = "an (n_hits, 2) array of (event_id, cluster_id)"


class ClusteringParams(StrictModel):
    """Parameters of the ``clustering`` prediction type."""

    bagging: Literal["first", "mean"] = Field(
        "first", description="how folds are bagged: first (each hit keeps the first fold's "
                             "prediction) or mean (the NaN-mean of the ids, ramp-workflow's, "
                             "meaningful with one fold only)",
        json_schema_extra=compat_default(ramp="mean"))


class Clustering(BasePrediction[ClusteringParams]):
    """Supervised clustering of hits into clusters (tracks), event by event.

    ``y_true`` and a prediction are ``(n_hits, 2)`` arrays ``(event_id,
    cluster_id)``; a negative predicted cluster id means "in no cluster".
    Predictions are kept as floats so that a hit without a prediction (outside
    a fold's valid set) is NaN; ids are integers.

    Bagging: cluster ids of different folds name different clusters, so they
    cannot be averaged. Each hit keeps the prediction of the first fold that
    predicts it. ramp-workflow takes the NaN-mean of the ids (``bagging:
    mean``), which is the same with one fold (the hep_tracking kit's CV) and
    meaningless with more.
    """

    predict_method: ClassVar[Literal["predict", "predict_proba"]] = "predict"

    def encode_y(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[1] != 2:
            raise ValueError(f"clustering targets must be {EXPECTED}, got shape {y.shape}")
        return y.astype(np.int64)

    def check_y_pred(self, y_pred: Any, y_true: np.ndarray) -> np.ndarray:
        try:
            array = np.asarray(y_pred, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"expected {EXPECTED}, got {type(y_pred).__name__} "
                             f"{str(y_pred)[:60]}") from None
        n = len(y_true)
        if array.shape != (n, 2):
            raise ValueError(f"expected {EXPECTED} for {n} hits, i.e. shape ({n}, 2), "
                             f"got shape {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError("the prediction holds NaN or infinite values")
        if not np.array_equal(array, np.round(array)):
            raise ValueError("event and cluster ids must be integers")
        wrong = np.flatnonzero(array[:, 0] != np.asarray(y_true)[:, 0])
        if len(wrong):
            raise ValueError(f"column 0 must repeat each hit's event id; {len(wrong)} hit(s) "
                             f"differ, first hit {wrong[0]}: {array[wrong[0], 0]:g} instead of "
                             f"{np.asarray(y_true)[wrong[0], 0]:g}")
        return array

    def empty(self, n_samples: int, like: np.ndarray) -> np.ndarray:
        return np.full((n_samples, 2), np.nan)

    def combine(self, y_preds: Sequence[np.ndarray]) -> np.ndarray:
        """Per hit, the prediction of the first fold that holds one (NaN if none does)."""
        if self.params.bagging == "mean":
            return super().combine(y_preds)
        combined = np.array(y_preds[0], dtype=float, copy=True)
        for y_pred in y_preds[1:]:
            todo = ~self.has_prediction(combined)
            combined[todo] = y_pred[todo]
        return combined

    def to_columns(self, y_pred: np.ndarray) -> dict[str, np.ndarray]:
        return {"event_id": y_pred[:, 0], "cluster_id": y_pred[:, 1]}
