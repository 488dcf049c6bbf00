"""Physics readers: a CSV whose weight column gives per-sample weights, never a feature."""

from __future__ import annotations

import numpy as np
from pydantic import Field
from rampconf_tabular.readers import CSVFileReader, CSVFilesParams

from rampconf.errors import DataError
from rampconf.readers import Dataset, Split

__all__ = ["WeightedCSV", "WeightedCSVParams"]


class WeightedCSVParams(CSVFilesParams):
    """Parameters of the ``weighted_csv`` reader."""

    target: str = Field(description="column of the labels (the target)")
    weight: str = Field("Weight", description="column of the per-sample weights, finite and "
                                              ">= 0 (never a feature, never in the target)")


class WeightedCSV(CSVFileReader[WeightedCSVParams]):
    """One CSV per split with a column of per-sample weights that is neither feature nor target.

    ``y`` is the ``target`` column (the labels), ``X`` a DataFrame of every
    other column but the ``ignore`` ones and the weights, and the weights
    (finite, non-negative) are the data set's per-sample weights
    (``Dataset.weights``): the engine gives them to the scores that need them
    (the event weights of the Higgs challenge's AMS), and to ``fit`` as
    ``sample_weight`` only when the workflow says so. A submission's
    predictions can never use them.
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
        X = frame.drop(columns=wanted).reset_index(drop=True)
        return Dataset(X=X, y=frame[target].to_numpy(), weights=weights)
