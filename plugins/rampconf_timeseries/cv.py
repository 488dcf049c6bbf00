"""Time-series CV: RAMP's expanding-window block CV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from rampconf.cv import BaseCV
from rampconf.plugin import StrictModel

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["TimeSeriesBlocks", "TimeSeriesBlocksParams", "time_series_blocks"]


def time_series_blocks(n: int, n_splits: int, block_fraction: float, period: int
                       ) -> list[tuple[np.ndarray, np.ndarray]]:
    """RAMP's block arithmetic on ``n`` rows (in time order).

    Validation block ``b = floor(n * block_fraction / n_splits / period) * period``,
    common training block ``n - n_splits * b``; fold ``i`` trains on
    ``[0, common + i * b)`` and validates on ``[common + i * b, n)``.
    """
    b = int(n * block_fraction / n_splits / period) * period
    if b <= 0:
        raise ValueError(f"{n} rows are too few for {n_splits} blocks of a multiple of "
                         f"{period} rows with block_fraction={block_fraction}: the validation "
                         "block would be empty")
    common = n - n_splits * b
    return [(np.arange(0, common + i * b), np.arange(common + i * b, n))
            for i in range(n_splits)]


class TimeSeriesBlocksParams(StrictModel):
    """Parameters of the ``time_series_blocks`` scheme."""

    n_splits: int = Field(8, ge=1, description="number of folds (RAMP's n_cv)")
    block_fraction: float = Field(0.5, gt=0, lt=1, description="share of the series in the "
                                                              "validation blocks")
    period: int = Field(12, ge=1, description="block lengths are multiples of this many rows "
                                              "(e.g. 12 months), so blocks start in phase")


class TimeSeriesBlocks(BaseCV[TimeSeriesBlocksParams]):
    """Expanding-window block CV (RAMP's ``TimeSeries``): train on the past, validate on the rest.

    Every fold trains on a prefix of the series (a common block plus ``i``
    validation blocks) and validates on everything after it; block lengths
    are multiples of ``period`` so blocks start at the same phase (month).
    """

    def split(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        p = self.params
        yield from time_series_blocks(len(y), p.n_splits, p.block_fraction, p.period)
