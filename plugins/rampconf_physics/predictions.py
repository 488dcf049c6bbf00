"""Physics prediction types: class probabilities scored with per-sample weights."""

from __future__ import annotations

import numpy as np
from rampconf_tabular.predictions import Multiclass

__all__ = ["WeightedMulticlass", "split_weighted"]


def _as_pairs(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.names is not None:  # a structured array (label, weight)
        names = y.dtype.names
        pairs = np.empty((len(y), 2), dtype=object)
        pairs[:, 0], pairs[:, 1] = y[names[0]], y[names[1]]
        return pairs
    if y.ndim != 2 or y.shape[1] != 2:
        raise ValueError(f"weighted targets must be (label, weight) pairs of shape "
                         f"(n_samples, 2), got shape {y.shape}: read the data with the "
                         f"weighted_csv reader")
    return y


def split_weighted(y_true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(label indices as int, weights as float)`` of an encoded ``(n, 2)`` weighted ``y_true``."""
    pairs = _as_pairs(y_true)
    return pairs[:, 0].astype(float).astype(int), pairs[:, 1].astype(float)


class WeightedMulticlass(Multiclass):
    """Class probabilities scored with per-sample weights carried by the target.

    The engine gives scores ``y_true`` only, so a score that needs weights
    from a data column that is not a feature reads them from ``y_true``: the
    raw target is the ``(n_samples, 2)`` array ``(label, weight)`` of the
    ``weighted_csv`` reader, and ``encode_y`` returns the ``(n_samples, 2)``
    float array ``(label index, weight)`` (label index in ``labels`` order,
    as ``multiclass`` encodes it). A structured array with two fields
    ``(label, weight)`` is accepted as raw target too.

    Everything else is ``multiclass``: a prediction is a float array of shape
    ``(n_samples, n_labels)`` of probabilities whose columns follow
    ``labels``, checked the same way, bagged as the NaN-aware mean of folds.
    The labels are learnt from (or checked against) the first column; binary
    weighted scores take the second label as the positive class (the signal
    of the AMS).
    """

    def setup(self, y_train: np.ndarray) -> None:
        super().setup(_as_pairs(y_train)[:, 0])

    def encode_y(self, y: np.ndarray) -> np.ndarray:
        pairs = _as_pairs(y)
        codes = super().encode_y(pairs[:, 0])
        try:
            weights = pairs[:, 1].astype(float)
        except (TypeError, ValueError):
            raise ValueError("the weights (second target column) are not numeric") from None
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError("the weights (second target column) must be finite and >= 0")
        return np.column_stack([codes.astype(float), weights])
