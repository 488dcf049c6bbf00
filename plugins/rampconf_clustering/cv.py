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

__all__ = ["EventShuffleSplit", "event_rows"]


def event_rows(events: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Indices (increasing) of the rows whose event is one of ``chosen``."""
    return np.flatnonzero(np.isin(events, chosen))


class EventShuffleSplit(BaseCV):
    """Random splits of the unique event ids (RAMP's hep_tracking CV); events are never cut.

    The sorted unique event ids (the first column of the targets) are split
    by scikit-learn's ``ShuffleSplit``; every row of an event goes to the side
    of its event.
    """

    class Params(StrictModel):
        n_splits: int = Field(1, ge=1)  # number of folds
        test_size: float | int | None = Field(0.5, gt=0)  # valid share (or number) of events
        train_size: float | int | None = Field(None, gt=0)  # training share (or number) of events
        random_state: int | None = 42  # seed of the splits

    def split(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        p = self.params
        events = np.asarray(y)[:, 0]
        unique = np.unique(events)
        splitter = model_selection.ShuffleSplit(
            p.n_splits, test_size=p.test_size, train_size=p.train_size,  # type: ignore[attr-defined]
            random_state=p.random_state)  # type: ignore[attr-defined]
        for train_events, valid_events in splitter.split(unique):
            yield event_rows(events, unique[train_events]), event_rows(events, unique[valid_events])
