"""Clustering CV schemes: folds made of whole events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field
from sklearn import model_selection

from rampconf.cv import BaseCV
from rampconf.plugin import StrictModel

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["EventShuffleSplit", "EventShuffleSplitParams", "event_rows"]


def event_rows(events: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Indices (increasing) of the rows whose event is one of ``chosen``."""
    return np.flatnonzero(np.isin(events, chosen))


class EventShuffleSplitParams(StrictModel):
    """Parameters of the ``event_shuffle_split`` scheme."""

    n_splits: int = Field(1, ge=1, description="number of folds")
    test_size: float | int | None = Field(
        0.5, gt=0, description="valid share of the events (a float) or number of valid events "
                               "(an int); null: the complement of train_size")
    train_size: float | int | None = Field(
        None, gt=0, description="training share (a float) or number (an int) of the events; "
                                "null: the complement of test_size")
    random_state: int | None = Field(42, description="seed of the splits")


class EventShuffleSplit(BaseCV[EventShuffleSplitParams]):
    """Random splits of the unique event ids (RAMP's hep_tracking CV); events are never cut.

    The sorted unique event ids (the first column of the targets) are split
    by scikit-learn's ``ShuffleSplit``; every row of an event goes to the side
    of its event.
    """

    def split(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        p = self.params
        events = np.asarray(y)[:, 0]
        unique = np.unique(events)
        splitter = model_selection.ShuffleSplit(
            p.n_splits, test_size=p.test_size, train_size=p.train_size,
            random_state=p.random_state)
        for train_events, valid_events in splitter.split(unique):
            yield event_rows(events, unique[train_events]), event_rows(events, unique[valid_events])
