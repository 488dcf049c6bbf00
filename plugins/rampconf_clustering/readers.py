"""Clustering readers: a CSV of hits whose event column is a feature and part of the target."""

from __future__ import annotations

from pydantic import Field
from rampconf_tabular.readers import CSVFileReader, CSVFilesParams

from rampconf.readers import Dataset, Split

__all__ = ["ClusteringCSV", "ClusteringCSVParams"]


class ClusteringCSVParams(CSVFilesParams):
    """Parameters of the ``clustering_csv`` reader."""

    event: str = Field("event_id", description="column of the event id: a feature (the first "
                                               "column of X) and the target's first column")
    cluster: str = Field("cluster_id", description="column of the true cluster id: the "
                                                   "target's second column")


class ClusteringCSV(CSVFileReader[ClusteringCSVParams]):
    """One CSV of hits per split: ``X`` all columns but the cluster's, event column first.

    The generic ``csv`` reader drops target columns from the features; here the
    event id is both: ``y`` is the ``(n_hits, 2)`` array ``(event, cluster)``
    and ``X`` is a DataFrame of every other column with the event column moved
    first (RAMP's clusterer reads the event id from the first column).
    """

    def load(self, split: Split) -> Dataset:
        p = self.params
        event, cluster = p.event, p.cluster
        wanted = [event, cluster, *p.ignore]
        frame, _ = self.read_csv(split, wanted, "data.event / data.cluster / data.ignore")
        y = frame[[event, cluster]].to_numpy()
        features = [event] + [c for c in frame.columns if c not in wanted]
        return Dataset(X=frame[features].reset_index(drop=True), y=y)
