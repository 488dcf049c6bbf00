"""Physics readers: a CSV whose weight column travels with the target, not with the features."""

from __future__ import annotations

import numpy as np
from pydantic import Field
from rampconf_tabular.readers import CSVFileReader, CSVFilesParams

from rampconf.errors import DataError
from rampconf.readers import Dataset, Split

__all__ = ["WeightedCSV", "WeightedCSVParams"]


class WeightedCSVParams(CSVFilesParams):
    """Parameters of the ``weighted_csv`` reader."""

    target: str = Field(description="column of the labels (the target's first column)")
    weight: str = Field("Weight", description="column of the per-sample weights, finite and "
                                              ">= 0 (the target's second column, never a "
                                              "feature)")


class WeightedCSV(CSVFileReader[WeightedCSVParams]):
    """One CSV per split whose target is a ``(label, weight)`` pair: weights are not features.

    A score that takes per-sample weights from a data column (the event
    weights of the Higgs challenge) gets them through ``y``, since scores see
    only ``y_true`` and ``y_pred``: ``y`` is the ``(n_samples, 2)`` object
    array ``(label, weight)`` of the ``target`` and ``weight`` columns, and
    ``X`` is a DataFrame of every other column but the ``ignore`` ones. The
    weight column is never a feature, so a submission's predictions cannot
    use it; at fit time a submission receives ``y`` and may use
    ``y[:, 1]`` as sample weights, or ignore it. Weights must be finite and
    non-negative.

    Pair it with the ``weighted_multiclass`` prediction type, which encodes
    ``y`` as ``(label index, weight)`` floats for the weighted scores.
    """

    def load(self, split: Split) -> Dataset:
        p = self.params
        target, weight = p.target, p.weight
        wanted = [target, weight, *p.ignore]
        frame, path = self.read_csv(split, wanted, "data.target / data.weight / data.ignore")
        try:
            weights = frame[weight].to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise DataError(f"{path}: the weight column {weight!r} is not numeric") from None
        bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
        if bad.size:
            raise DataError(f"{path}: {bad.size} weight(s) in column {weight!r} are negative, "
                            f"NaN or infinite (rows {', '.join(map(str, bad[:5]))})")
        y = np.empty((len(frame), 2), dtype=object)
        y[:, 0] = frame[target].to_numpy(dtype=object)
        y[:, 1] = weights
        X = frame.drop(columns=wanted).reset_index(drop=True)
        return Dataset(X=X, y=y)
