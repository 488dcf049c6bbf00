"""Physics readers: a CSV whose weight column travels with the target, not with the features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from rampconf.errors import DataError
from rampconf.plugin import StrictModel
from rampconf.plugins.tabular.readers import read_table_file
from rampconf.readers import BaseReader, Dataset, Split

__all__ = ["WeightedCSV"]


class WeightedCSV(BaseReader):
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

    class Params(StrictModel):
        train: str  # training file, relative to data_root
        test: str  # test file, relative to data_root
        target: str  # column of the labels (the target's first column)
        weight: str = "Weight"  # column of the per-sample weights (the target's second column)
        ignore: list[str] = Field(default_factory=list)  # other columns that are not features
        read_options: dict[str, Any] = Field(default_factory=dict)  # keyword arguments of pandas

    def files(self) -> dict[str, Path]:
        p = self.params
        return {"train": self.data_root / p.train, "test": self.data_root / p.test}  # type: ignore[attr-defined]

    def load(self, split: Split) -> Dataset:
        p = self.params
        path = self.files()[split]
        frame = read_table_file(path, split, self.data_root,
                                lambda file: pd.read_csv(file, **p.read_options))  # type: ignore[attr-defined]
        target, weight = p.target, p.weight  # type: ignore[attr-defined]
        wanted = [target, weight, *p.ignore]  # type: ignore[attr-defined]
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise DataError(f"{path}: missing column(s) {missing} named by the problem "
                            f"(data.target / data.weight / data.ignore); the file has columns "
                            f"{list(frame.columns)}")
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
