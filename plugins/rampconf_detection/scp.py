"""The SCP score: the L1 distance between the true and the predicted crater maps.

The maps are never drawn: each circle is a list of row runs (its pixels, as
scikit-image draws them), and the distance comes from the runs' pixel counts
and from where the runs of overlapping circles meet.
"""

from __future__ import annotations

import itertools
from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field

from rampconf.scores import UndefinedScore
from rampconf_detection.base import ThresholdParams, _ThresholdScore
from rampconf_detection.geometry import Flat, near_pairs, row_chords

__all__ = ["LOOKUP_ROWS", "SCP", "SCP_CHUNK", "SCPParams"]


#: SCP finds image rows in a table up to this many rows (16 MiB), else by bisection.
LOOKUP_ROWS = 1 << 22
#: SCP draws about this many circles at a time (whole images, at least one).
SCP_CHUNK = 2048


class SCPParams(ThresholdParams):
    """Parameters of the ``scp`` score."""

    shape: list[Annotated[int, Field(gt=0)]] = Field(
        default_factory=lambda: [224, 224], min_length=2, max_length=2,
        description="image size in pixels [n_rows, n_cols] on which the circles are drawn")


class SCP(_ThresholdScore[SCPParams]):
    """Score of circle projection: the L1 distance between the true and predicted crater maps.

    Each circle is drawn on an image of ``shape`` (pixels ``(i, j)`` with
    ``((i - row)² + (j - col)²) / radius² < 1``, clipped to the image) with a
    uniform value summing to 1 over its pixels. Per image, ``T`` is the sum of
    the true circles' maps and ``P`` that of the detections; both are cropped to
    the scoring window. The score is ``sum |T - P| / (sum T + sum P)`` over all
    images: 0 for a perfect match, 1 when nothing overlaps; undefined (NaN)
    when both maps are empty everywhere. In [0, 1], lower is better.
    """

    greater_is_better: ClassVar[bool] = False
    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score_kept(self, true: Flat, pred: Flat, kept: np.ndarray) -> float:
        pred = pred.select(kept)
        height, width = self.params.shape
        window = self.params.minipatch or [0, height, 0, width]
        rows = slice(window[0], window[1]).indices(height)[:2]
        cols = slice(window[2], window[3]).indices(width)[:2]
        # Circles without a pixel in the window play no part.
        true, pred = (flat.select(_reaches(flat.values, rows, cols)) for flat in (true, pred))
        # Images go by chunks of a few thousand circles: small arrays stay in cache.
        per_image = np.cumsum(true.counts() + pred.counts())
        bounds = np.unique(np.searchsorted(
            per_image, np.arange(0, per_image[-1] if len(per_image) else 0, SCP_CHUNK),
            side="right"))
        images = [*bounds.tolist(), true.n_images]
        # Rows are in image order: each chunk is a slice of each side.
        true_rows, pred_rows = (np.searchsorted(flat.image, images).tolist()
                                for flat in (true, pred))
        total = shared = 0.0
        for k, (first, last) in enumerate(itertools.pairwise(images)):
            t, p = slice(*true_rows[k:k + 2]), slice(*pred_rows[k:k + 2])
            circles = Flat(np.concatenate([true.values[t], pred.values[p]]),
                           np.concatenate([true.image[t], pred.image[p]]) - first,
                           last - first)
            runs = _Runs(circles.values, self.params.shape, rows, cols)
            mass = runs.weight * runs.pixels
            total += mass.sum()
            shared += _shared_mass(circles, t.stop - t.start, mass > 0, runs)
        if total == 0:
            raise UndefinedScore("no true circle and no detection in the scoring window")
        # sum |T - P| = sum T + sum P - 2 sum min(T, P)
        return float((total - 2.0 * shared) / total)


def _reaches(circles: np.ndarray, rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    """Mask of the circles whose pixel box meets the window ``rows x cols`` (half-open)."""
    radius = np.abs(circles[:, 2])
    return (np.floor(circles[:, 0] + radius) >= rows[0]) \
        & (np.ceil(circles[:, 0] - radius) < rows[1]) \
        & (np.floor(circles[:, 1] + radius) >= cols[0]) \
        & (np.ceil(circles[:, 1] - radius) < cols[1])


class _Runs:
    """Pixels of circles as row runs, with each circle's weight (1 / its pixel count).

    Attributes ``circle``, ``lo``, ``hi`` are the runs of
    :func:`~rampconf_detection.geometry.row_chords`: every row of each
    circle's box, in order (``first`` is a circle's first run, ``top`` and
    ``bottom`` its first and last rows), empty rows having ``lo > hi``. ``lo``
    and ``hi`` are clipped to the window columns; ``pixels`` counts each
    circle's pixels in the window.
    """

    def __init__(self, circles: np.ndarray, shape: list[int], rows: tuple[int, int],
                 cols: tuple[int, int]) -> None:
        self.circle, _, self.top, n_rows, lo, hi = row_chords(circles, shape)
        self.first = np.cumsum(n_rows) - n_rows
        self.bottom = self.top + n_rows - 1
        # Pixel counts of each circle's runs (contiguous): differences of a running sum.
        count = np.zeros(len(lo) + 1, dtype=np.intp)
        length = hi - lo
        length += 1
        np.cumsum(np.maximum(length, 0, out=length), out=count[1:])
        n_pixels = count[self.first + n_rows] - count[self.first]
        self.weight = np.divide(1.0, n_pixels, out=np.zeros(len(circles)), where=n_pixels > 0)
        self.lo, self.hi = np.maximum(lo, cols[0], out=lo), np.minimum(hi, cols[1] - 1, out=hi)
        np.subtract(self.hi, self.lo, out=length)
        length += 1
        np.cumsum(np.maximum(length, 0, out=length), out=count[1:])
        # Each circle's window rows: its runs from rows[0] - top to rows[1] - top.
        in_rows = [self.first + np.clip(row - self.top, 0, n_rows) for row in rows]
        self.pixels = count[in_rows[1]] - count[in_rows[0]]
        self.rows = rows

    def overlaps(self, a: np.ndarray, b: np.ndarray, with_runs: bool = True
                 ) -> tuple[np.ndarray, ...]:
        """Where the window runs of circles ``a[i]`` and ``b[i]`` share pixels, row by row.

        Returns the pair ``i``, the row, the shared columns ``[lo, hi]`` and (with
        ``with_runs``) the runs of ``a[i]`` and ``b[i]`` on that row.
        """
        start = np.maximum(np.maximum(self.top[a], self.top[b]), self.rows[0])
        stop = np.minimum(np.minimum(self.bottom[a], self.bottom[b]), self.rows[1] - 1)
        count = np.maximum(stop - start + 1, 0)
        pair = np.repeat(np.arange(len(a)), count)
        row = np.arange(len(pair)) - np.repeat(np.cumsum(count) - count - start, count)
        run_a = row + np.repeat(self.first[a] - self.top[a], count)
        run_b = row + np.repeat(self.first[b] - self.top[b], count)
        lo = np.maximum(self.lo[run_a], self.lo[run_b])
        hi = np.minimum(self.hi[run_a], self.hi[run_b])
        keep = np.flatnonzero(lo <= hi)
        if not with_runs:
            return pair[keep], row[keep], lo[keep], hi[keep]
        return pair[keep], row[keep], lo[keep], hi[keep], run_a[keep], run_b[keep]


#: Beyond any column: the first and last columns of an image row without tangled span.
_FAR = 1 << 40


def _shared_mass(circles: Flat, n_true: int, visible: np.ndarray, runs: _Runs) -> float:
    """``sum min(T, P)`` over the window pixels of all images, T and P the circle maps.

    ``circles`` holds the true circles (first ``n_true`` rows) then the
    detections, ``visible`` those with pixels in the window. Where at most one
    true circle and one detection cover a pixel, ``min(T, P)`` is the smaller
    of their weights, summed pair by pair over overlapping (true, detection)
    runs. Where two circles of the same side overlap (the *tangled* part of an
    image row, from the first to the last such overlap), the maps are rebuilt
    cell by cell instead, from the runs of the (true, detection) pairs there:
    every circle that covers a pixel of both sides is in such a pair.
    """
    reach = np.abs(circles.values[:, 2]) + 1.0
    shown = np.flatnonzero(visible)
    # One search for the pairs of both kinds; true circles come first, so a < b.
    i, j = near_pairs(circles.select(visible), reach[shown])   # i < j
    a, b = shown[i], shown[j]
    cross = (a < n_true) & (b >= n_true)
    n_window_rows = runs.rows[1] - runs.rows[0]

    # Tangled spans: columns shared by two circles of the same side.
    a_same = a[~cross]
    pair, row, span_lo, span_hi = runs.overlaps(a_same, b[~cross], with_runs=False)
    span_key = circles.image[a_same[pair]] * n_window_rows + row - runs.rows[0]
    # Rows shared by a true circle and a detection.
    t, p = a[cross], b[cross]
    pair, row, lo, hi, run_t, run_p = runs.overlaps(t, p)
    common = np.minimum(runs.weight[t], runs.weight[p])[pair]
    # (image, window row) of each shared row: the pair's first key, plus the row.
    key = (circles.image[t] * n_window_rows - runs.rows[0])[pair] + row
    if not len(span_key):
        return float(np.sum(common * (hi - lo + 1)))

    # (true, detection) pairs outside the tangled spans.
    n_keys = circles.n_images * n_window_rows
    if n_keys <= LOOKUP_ROWS:   # tables over all image rows: each tangled span's columns
        lo_of, hi_of = np.full(n_keys, _FAR), np.full(n_keys, -_FAR)
        np.minimum.at(lo_of, span_key, span_lo)
        np.maximum.at(hi_of, span_key, span_hi)
        is_tangled = hi_of > -_FAR
        tangled = np.flatnonzero(is_tangled)
        tangle_lo, tangle_hi = lo_of[tangled], hi_of[tangled]
        # Rows without span meet the empty range [_FAR, -_FAR]: no column inside.
        inside = np.minimum(hi, hi_of[key])
        inside -= np.maximum(lo, lo_of[key])
        inside += 1
        np.maximum(inside, 0, out=inside)
        found = np.flatnonzero(inside)
        span = (np.cumsum(is_tangled) - 1)[key[found]]
    else:   # spans sorted by key, found by bisection
        same = np.argsort(span_key, kind="stable")   # by (image, window row)
        span_key, span_lo, span_hi = span_key[same], span_lo[same], span_hi[same]
        first = np.flatnonzero(np.r_[True, span_key[1:] != span_key[:-1]])
        tangled = span_key[first]
        tangle_lo = np.minimum.reduceat(span_lo, first)
        tangle_hi = np.maximum.reduceat(span_hi, first)
        index = np.minimum(np.searchsorted(tangled, key), len(tangled) - 1)
        hit = tangled[index] == key
        index = np.where(hit, index, 0)
        inside = np.where(hit, np.maximum(np.minimum(hi, tangle_hi[index])
                                          - np.maximum(lo, tangle_lo[index]) + 1, 0), 0)
        found = np.flatnonzero(inside)
        span = index[found]
    shared = np.sum(common * (hi - lo + 1 - inside))

    # Tangled spans, cell by cell, where both maps may be positive: from the first to
    # the last column that a (true, detection) pair shares in the span (none: no cell).
    tangle_lo, tangle_hi = np.maximum(lo[found], tangle_lo[span]), \
        np.minimum(hi[found], tangle_hi[span])
    first_col = np.full(len(tangled), np.iinfo(np.intp).max)
    last_col = np.full(len(tangled), -1)
    np.minimum.at(first_col, span, tangle_lo)
    np.maximum.at(last_col, span, tangle_hi)
    tangle_lo, tangle_hi = first_col, last_col
    # One cell more per span keeps the spans apart.
    width = np.where(last_col >= 0, last_col - first_col + 2, 0)
    offset = np.cumsum(width) - width
    cells = int(width.sum())
    # Pairs that share pixels of a span hold every run that matters there.
    maps = []
    for pair_run in (run_t[found], run_p[found]):
        span_of = np.full(len(runs.circle), -1)   # each run once, with its span
        span_of[pair_run] = span
        run = np.flatnonzero(span_of >= 0)
        run_span = span_of[run]
        shift = offset[run_span] - tangle_lo[run_span]   # column -> cell
        start = np.maximum(runs.lo[run], tangle_lo[run_span]) + shift
        stop = np.minimum(runs.hi[run], tangle_hi[run_span]) + 1 + shift
        weight = runs.weight[runs.circle[run]]
        steps = np.bincount(np.r_[start, stop], weights=np.r_[weight, -weight],
                            minlength=cells + 1)
        maps.append(np.cumsum(steps[:cells]))
    return float(shared + np.maximum(np.minimum(*maps), 0.0).sum())
