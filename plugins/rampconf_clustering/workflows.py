"""The clusterer workflow (RAMP's ``Clusterer``): fit on all hits, predict event by event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from rampconf.workflows import BaseWorkflow

if TYPE_CHECKING:
    from rampconf.predictions import BasePrediction
    from rampconf.submission import Submission

__all__ = ["Clusterer", "predict_by_event"]


def _as_array(X: Any) -> np.ndarray:
    return X.to_numpy() if hasattr(X, "to_numpy") else np.asarray(X)


def predict_by_event(clusterer: Any, X: np.ndarray) -> np.ndarray:
    """``(event_id, cluster_id)`` per row: ``predict_single_event`` on each event's rows.

    The event id is the first column of ``X``; each event is passed without it
    (a copy), and its labels are joined back to the event ids.
    """
    events = X[:, 0]
    cluster_ids = np.empty(len(X), dtype=np.int64)
    for event in np.unique(events):
        rows = events == event
        labels = np.asarray(clusterer.predict_single_event(X[rows][:, 1:]))
        if labels.shape != (int(rows.sum()),):
            raise ValueError(f"event {event:g}: predict_single_event must return one cluster id "
                             f"per hit, i.e. shape ({int(rows.sum())},), got shape {labels.shape}")
        cluster_ids[rows] = labels
    return np.column_stack([events, cluster_ids]).astype(np.int64)


class Clusterer(BaseWorkflow):
    """``clusterer.py`` with a ``Clusterer`` class: ``fit(X, y)``, ``predict_single_event(X)``.

    ``fit`` gets the hits of the fold's training events as a NumPy array, the
    event id first (as RAMP gives it), and ``y`` the ``(n_hits, 2)`` array
    ``(event_id, cluster_id)``. ``predict_single_event`` gets one event's hits
    without the event id column and returns a cluster id per hit (negative:
    in no cluster). RAMP hep_tracking submissions run unchanged.
    """

    elements: ClassVar[dict[str, str]] = {"clusterer": "Clusterer"}

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction) -> Any:
        clusterer = submission.build("clusterer", "Clusterer", routed)
        clusterer.fit(_as_array(X), np.asarray(y))
        return clusterer

    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        return predict_by_event(model, _as_array(X))
