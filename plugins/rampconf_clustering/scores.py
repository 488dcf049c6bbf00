"""Clustering scores: the share of hits in correctly reconstructed clusters, event by event."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from rampconf.scores import BaseScore

__all__ = ["ClusteringEfficiency", "clustering_efficiency"]


def _event_good_hits(true_ids: np.ndarray, pred_ids: np.ndarray) -> int:
    """Hits of one event that sit in the predicted cluster matched to their true cluster.

    Each true cluster is matched to the predicted cluster (non-negative id)
    that holds most of its hits, the smallest id on ties; a true cluster whose
    hits are all unassigned (negative ids) is matched to nothing. When several
    true clusters are matched to the same predicted cluster, only the largest
    overlap counts.
    """
    assigned = pred_ids >= 0
    if not assigned.any():
        return 0
    pairs, counts = np.unique(np.column_stack([true_ids[assigned], pred_ids[assigned]]),
                              axis=0, return_counts=True)
    # Per true cluster: the largest count, then the smallest predicted id.
    order = np.lexsort((pairs[:, 1], -counts, pairs[:, 0]))
    pairs, counts = pairs[order], counts[order]
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = pairs[1:, 0] != pairs[:-1, 0]
    matched_pred, overlap = pairs[first, 1], counts[first]
    # Per predicted cluster: the largest overlap among the true clusters matched to it.
    best: dict[int, int] = {}
    for pred, count in zip(matched_pred.tolist(), overlap.tolist(), strict=True):
        best[pred] = max(best.get(pred, 0), count)
    return int(sum(best.values()))


def clustering_efficiency(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean over events (of ``y_true``) of the share of the event's hits correctly clustered.

    ``y_true`` and ``y_pred`` are ``(n_hits, 2)`` arrays ``(event_id, cluster_id)``;
    the events are those of ``y_true``'s first column, cluster ids are compared
    as integers (a negative predicted id means "in no cluster").
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 2 or y_true.shape[1] != 2 or y_pred.shape != y_true.shape:
        raise ValueError(f"expected y_true and y_pred of shape (n_hits, 2), got "
                         f"{y_true.shape} and {y_pred.shape}")
    events = y_true[:, 0]
    true_ids = y_true[:, 1].astype(np.int64)
    pred_ids = y_pred[:, 1].astype(np.int64)
    unique_events = np.unique(events)
    total = 0.0
    for event in unique_events:
        rows = events == event
        total += _event_good_hits(true_ids[rows], pred_ids[rows]) / int(rows.sum())
    return total / len(unique_events)


class ClusteringEfficiency(BaseScore):
    """Clustering efficiency (RAMP's ``ClusteringEfficiency``), between 0 and 1.

    Per event, each true cluster is matched to the predicted cluster holding
    most of its hits (smallest id on ties; negative ids are unassigned); a
    predicted cluster matched by several true clusters counts once, with its
    largest overlap. The event's score is the number of matched hits over
    its number of hits; the score is the mean over events.
    """

    greater_is_better: ClassVar[bool] = True
    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0
    default_precision: ClassVar[int] = 3

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return clustering_efficiency(y_true, y_pred)
