"""Clustering readers: a CSV of hits whose event column is a feature and part of the target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from rampconf.errors import DataError
from rampconf.plugin import StrictModel
from rampconf.plugins.tabular.readers import read_table_file
from rampconf.readers import BaseReader, Dataset, Split

__all__ = ["ClusteringCSV"]


class ClusteringCSV(BaseReader):
    """One CSV of hits per split: ``X`` all columns but the cluster's, event column first.

    The generic ``csv`` reader drops target columns from the features; here the
    event id is both: ``y`` is the ``(n_hits, 2)`` array ``(event, cluster)``
    and ``X`` is a DataFrame of every other column with the event column moved
    first (RAMP's clusterer reads the event id from the first column).
    """

    class Params(StrictModel):
        train: str  # training file, relative to data_root
        test: str  # test file, relative to data_root
        event: str = "event_id"  # column of the event id (a feature and the target's first column)
        cluster: str = "cluster_id"  # column of the true cluster id (the target's second column)
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
        event, cluster = p.event, p.cluster  # type: ignore[attr-defined]
        wanted = [event, cluster, *p.ignore]  # type: ignore[attr-defined]
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise DataError(f"{path}: missing column(s) {missing} named by the problem "
                            f"(data.event / data.cluster / data.ignore); the file has columns "
                            f"{list(frame.columns)}")
        y = frame[[event, cluster]].to_numpy()
        features = [event] + [c for c in frame.columns if c not in wanted]
        return Dataset(X=frame[features].reset_index(drop=True), y=y)
