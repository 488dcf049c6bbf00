"""Object-detection score types: the circle scores of RAMP's Mars craters challenge.

Every score reproduces ramp-workflow 0.7.0 number for number (checked against
``reference/score_vectors.json`` of the shared kits). Conventions:

* ``y_true``: one element per image, a ``(k, 3)`` array of ``(row, col, radius)``;
  ``y_pred``: one element per image, a ``(m, 4)`` array of ``(confidence, row,
  col, radius)``. Lists of tuples are accepted too; an image may have none.
* A detection counts when its confidence is *strictly* above ``conf_threshold``
  (every score but ``AveragePrecision``, which ranks all detections).
* ``minipatch = [row_min, row_max, col_min, col_max]`` is the scoring window: a
  circle is in it when its centre is in ``[row_min, row_max) x [col_min, col_max)``.
  Circles outside it still take part in the matching where RAMP lets them (see
  each score). ``None`` scores the whole image.
* Matching is one-to-one per image, maximising the summed IoU
  (``scipy.optimize.linear_sum_assignment``). The IoU is the exact one by
  default (the area of the lens of two circles, ``iou_formula: exact``);
  ``iou_formula: ramp`` is ramp-workflow's formula, which inflates partial
  overlaps (see :data:`~rampconf_detection.geometry.IoUFormula`). When IoUs tie
  exactly, ``ties: ramp`` picks the same optimal matching as ramp-workflow
  (:data:`~rampconf_detection.geometry.TieBreak`). ``compat=ramp`` selects both.
* The scores of one set of predictions share their pairs of overlapping circles
  and their matchings (:mod:`rampconf_detection.shared`): the eleven scores of
  the Mars craters kit compute three matchings, not nine.
* A ratio whose denominator is empty (no detection for precision, no true
  circle for recall, no match for the MADs, ...) is undefined, as in RAMP:
  recorded as NaN with the reason
  (:class:`~rampconf.scores.UndefinedScore`).
"""

from __future__ import annotations

import abc
import itertools
from typing import Annotated, Any, ClassVar, TypeVar

import numpy as np
from pydantic import AfterValidator, Field

from rampconf.compat import compat_default
from rampconf.plugin import StrictModel
from rampconf.scores import BaseScore, UndefinedScore
from rampconf_detection.geometry import (
    Flat,
    IoUFormula,
    TieBreak,
    flatten,
    in_window,
    near_pairs,
    row_chords,
)
from rampconf_detection.shared import shared

__all__ = [
    "OSPA",
    "SCP",
    "AveragePrecision",
    "AveragePrecisionParams",
    "DetectionPrecision",
    "DetectionRecall",
    "IoUParams",
    "MADCenter",
    "MADRadius",
    "OSPAParams",
    "SCPParams",
    "ThresholdParams",
]


#: SCP finds image rows in a table up to this many rows (16 MiB), else by bisection.
LOOKUP_ROWS = 1 << 22
#: SCP draws about this many circles at a time (whole images, at least one).
SCP_CHUNK = 2048


def _check_minipatch(window: list[int]) -> list[int]:
    row_min, row_max, col_min, col_max = window
    if min(window) < 0 or row_min > row_max or col_min > col_max:
        raise ValueError("[row_min, row_max, col_min, col_max] needs 0 <= row_min <= row_max "
                         "and 0 <= col_min <= col_max")
    return window


Minipatch = Annotated[list[int], Field(min_length=4, max_length=4),
                      AfterValidator(_check_minipatch)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


IOU_FORMULA = ("circle IoU: exact (the true lens area) or ramp (ramp-workflow 0.7.0's "
               "formula, which inflates partial overlaps)")
TIES = ("optimal matching used when IoUs tie exactly: grouped (each group of overlapping "
        "circles solved alone) or ramp (each image's whole IoU matrix, as ramp-workflow)")
#: ``compat=ramp``: ramp-workflow's IoU formula and tie-breaking.
RAMP_IOU = compat_default(ramp="ramp")


class ThresholdParams(StrictModel):
    """Confidence threshold and scoring window."""

    conf_threshold: Fraction = Field(0.5, description="detections count when their confidence "
                                                      "is above this value")
    minipatch: Minipatch | None = Field(
        None, description="scoring window [row_min, row_max, col_min, col_max] of the circle "
                          "centres; null: the whole image")


class IoUParams(ThresholdParams):
    """Parameters of the matching scores: threshold, window, IoU threshold and formula."""

    iou_threshold: Fraction = Field(
        0.5, description="IoU threshold of a matched pair: precision and recall count pairs "
                         "above it, the mean deviations pairs at least at it")
    iou_formula: IoUFormula = Field("exact", description=IOU_FORMULA,
                                    json_schema_extra=RAMP_IOU)
    ties: TieBreak = Field("grouped", description=TIES, json_schema_extra=RAMP_IOU)


def _ratio(numerator: float, denominator: float, nothing: str) -> float:
    if not denominator:
        raise UndefinedScore(nothing)
    return float(numerator / denominator)


_ParamsT = TypeVar("_ParamsT", bound=StrictModel)
_ThresholdT = TypeVar("_ThresholdT", bound=ThresholdParams)


class DetectionScore(BaseScore[_ParamsT]):
    """Base of the detection scores: reads the per-image circles into flat arrays.

    Lifecycle as :class:`~rampconf.scores.BaseScore`; :meth:`split` gives the
    circles of ``score``'s arguments as flat arrays.
    """

    default_precision: ClassVar[int] = 3

    def split(self, y_true: Any, y_pred: Any) -> tuple[Flat, Flat, np.ndarray]:
        """``(true circles, predicted circles, confidences)``, flat over images."""
        true, pred = flatten(y_true, 3), flatten(y_pred, 4)
        if true.n_images != pred.n_images:
            raise ValueError(f"y_true has {true.n_images} images but y_pred has "
                             f"{pred.n_images}")
        circles = Flat(pred.values[:, 1:], pred.image, pred.n_images)
        return true, circles, pred.values[:, 0]



class _ThresholdScore(DetectionScore[_ThresholdT]):
    """A detection score of the detections above the confidence threshold.

    Subclasses implement :meth:`score_kept`, called by :meth:`score` with the
    true circles, all detections and the mask of those whose confidence is
    above ``conf_threshold``.
    """

    def score(self, y_true: Any, y_pred: Any) -> float:
        true, pred, confidence = self.split(y_true, y_pred)
        return self.score_kept(true, pred, confidence > self.params.conf_threshold)

    @abc.abstractmethod
    def score_kept(self, true: Flat, pred: Flat, kept: np.ndarray) -> float:
        """The score of the detections ``pred.select(kept)`` against ``true``."""


class AveragePrecisionParams(StrictModel):
    """Parameters of the ``average_precision`` score."""

    iou_threshold: Fraction = Field(0.5, description="a hit needs an IoU strictly above this "
                                                     "value")
    iou_formula: IoUFormula = Field("exact", description=IOU_FORMULA,
                                    json_schema_extra=RAMP_IOU)


class AveragePrecision(DetectionScore[AveragePrecisionParams]):
    """Average precision: the area under the precision-recall curve of the ranked detections.

    All detections of all images are ranked by decreasing confidence (the order
    of ``argsort(confidence)[::-1]``). Walking down the ranking, a detection is a
    hit when the true circle of its image with the highest IoU has IoU above
    ``iou_threshold`` and no earlier hit took it (greedy, not an optimal
    matching). Precision and recall after each detection give the curve; the
    score is the exact (all-point interpolated, VOC 2010+) area
    ``sum((r[i+1] - r[i]) * max(p[i+1:]))`` with sentinels ``(0, 0)`` and ``(1, 0)``.
    No confidence threshold and no scoring window. 0 without any detection,
    undefined (NaN) without any true circle. In [0, 1], greater is better.
    """

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score(self, y_true: Any, y_pred: Any) -> float:
        true, pred, confidence = self.split(y_true, y_pred)
        if len(confidence) == 0:
            return 0.0
        if len(true.values) == 0:
            raise UndefinedScore("no true circle in any image")
        # Nearby (true, detection) pairs, sorted by true circle: every other true circle
        # has IoU 0 with the detection.
        t, p, iou = shared(true, pred, self.params.iou_formula).pairs()
        best_iou = np.zeros(len(confidence))
        best_true = np.full(len(confidence), -1, dtype=np.intp)
        if len(p):
            np.maximum.at(best_iou, p, iou)
            # The first true circle that reaches the maximum, as np.argmax: the lowest.
            at_max = np.flatnonzero(iou == best_iou[p])
            lowest = np.full(len(confidence), len(true.values), dtype=np.intp)
            np.minimum.at(lowest, p[at_max], t[at_max])
            reached = lowest < len(true.values)
            best_true[reached] = lowest[reached]
        order = np.argsort(confidence)[::-1]
        hit = best_iou[order] > self.params.iou_threshold
        candidates = np.flatnonzero(hit)
        # The first candidate (in ranking order) of each true circle is a hit.
        claimed = best_true[order][candidates]
        first_claim = np.full(len(true.values), len(candidates), dtype=np.intp)
        np.minimum.at(first_claim, claimed, np.arange(len(candidates)))
        is_tp = np.zeros(len(order), dtype=bool)
        is_tp[candidates[first_claim[first_claim < len(candidates)]]] = True
        n_tp = np.cumsum(is_tp)
        precision = n_tp / np.arange(1, len(order) + 1)
        recall = n_tp / len(true.values)
        return average_precision(precision, recall)


def average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """Area under the precision envelope ``max(p[i:])`` as a step function of recall."""
    rec = np.concatenate(([0.0], recall, [1.0]))
    pre = np.concatenate(([0.0], precision, [0.0]))
    envelope = np.maximum.accumulate(pre[::-1])[::-1]
    steps = np.flatnonzero(rec[1:] != rec[:-1])
    return float(np.sum((rec[steps + 1] - rec[steps]) * envelope[steps + 1]))


class OSPAParams(ThresholdParams):
    """Parameters of the ``ospa`` score."""

    iou_formula: IoUFormula = Field("exact", description=IOU_FORMULA,
                                    json_schema_extra=RAMP_IOU)
    ties: TieBreak = Field("grouped", description=TIES, json_schema_extra=RAMP_IOU)


class OSPA(_ThresholdScore[OSPAParams]):
    """Optimal subpattern assignment distance with the IoU as similarity (RAMP's variant).

    The true circles and the detections of each image are matched optimally,
    all of them whatever their position. Each matched circle whose centre is in
    the scoring window contributes the IoU of its pair (a pair with both ends
    in the window counts twice); the score is ``1 - sum / n`` where ``n`` counts
    the true circles and detections in the window. Nothing in the window of any
    image gives 1 (RAMP's value). In [0, 1], lower is better.
    """

    greater_is_better: ClassVar[bool] = False
    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score_kept(self, true: Flat, pred: Flat, kept: np.ndarray) -> float:
        true_in = in_window(true.values, self.params.minipatch)
        pred_in = in_window(pred.values[kept], self.params.minipatch)
        n_total = int(true_in.sum() + pred_in.sum())
        if n_total == 0:
            return 1.0
        # Pairs of IoU 0 add nothing.
        t, p, iou = shared(true, pred, self.params.iou_formula).match(
            np.ones(len(true.values), dtype=bool), kept, keep_zero=False, ties=self.params.ties)
        similarity = np.sum(iou * true_in[t]) + np.sum(iou * pred_in[p])
        return float(1.0 - similarity / n_total)


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


class _Matched(_ThresholdScore[IoUParams]):
    """Base of the scores on the optimal matching of true circles and detections."""

    #: Which side the scoring window filters *before* the matching: "pred" or "true".
    window_side: ClassVar[str] = "true"

    def score_kept(self, true: Flat, pred: Flat, kept: np.ndarray) -> float:
        true_kept = np.ones(len(true.values), dtype=bool)
        if self.window_side == "pred":
            kept = kept & in_window(pred.values, self.params.minipatch)
        else:
            true_kept = in_window(true.values, self.params.minipatch)
        t, p, iou = shared(true, pred, self.params.iou_formula).match(
            true_kept, kept, keep_zero=self.counts_zero_iou(), ties=self.params.ties)
        # Rows of the kept circles, not copies of them.
        true_rows, pred_rows = np.flatnonzero(true_kept), np.flatnonzero(kept)
        return self.score_matches(true.values, pred.values, true_rows[t], pred_rows[p], iou,
                                  len(true_rows), len(pred_rows))

    @abc.abstractmethod
    def score_matches(self, true: np.ndarray, pred: np.ndarray, t: np.ndarray,
                      p: np.ndarray, iou: np.ndarray, n_true: int, n_pred: int) -> float:
        """The score of the matched pairs ``(true[t], pred[p])`` with IoU ``iou``.

        ``n_true`` true circles and ``n_pred`` detections were kept for the matching.
        """

    def counts_zero_iou(self) -> bool:
        """Whether matched pairs of IoU 0 can count (else the matching may omit them)."""
        return False


class DetectionPrecision(_Matched):
    """Precision: the fraction of detections that match a true circle.

    Detections outside the scoring window are dropped, then matched optimally to
    *all* true circles of their image; a matched pair is correct when its IoU is
    above ``iou_threshold``. The score is the number of correct pairs over the
    number of detections in the window (undefined without any). In [0, 1],
    greater is better.
    """

    window_side: ClassVar[str] = "pred"
    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score_matches(self, true: np.ndarray, pred: np.ndarray, t: np.ndarray,
                      p: np.ndarray, iou: np.ndarray, n_true: int, n_pred: int) -> float:
        return _ratio(int(np.count_nonzero(iou > self.params.iou_threshold)), n_pred,
                      "no detection above the confidence threshold in the scoring window")


class DetectionRecall(_Matched):
    """Recall: the fraction of true circles that a detection matches.

    True circles outside the scoring window are dropped, then matched optimally
    to *all* detections of their image; a matched pair is correct when its IoU
    is above ``iou_threshold``. The score is the number of correct pairs over
    the number of true circles in the window (undefined without any). In [0, 1],
    greater is better.
    """

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score_matches(self, true: np.ndarray, pred: np.ndarray, t: np.ndarray,
                      p: np.ndarray, iou: np.ndarray, n_true: int, n_pred: int) -> float:
        return _ratio(int(np.count_nonzero(iou > self.params.iou_threshold)), n_true,
                      "no true circle in the scoring window")


class _MeanDeviation(_Matched):
    """Mean of a per-pair deviation over matched pairs with IoU at least the threshold."""

    greater_is_better: ClassVar[bool] = False
    minimum: ClassVar[float] = 0.0

    def counts_zero_iou(self) -> bool:
        return self.params.iou_threshold <= 0

    @abc.abstractmethod
    def deviation(self, true: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """Per matched pair (rows of ``true`` and ``pred``), the deviation to average."""

    def score_matches(self, true: np.ndarray, pred: np.ndarray, t: np.ndarray,
                      p: np.ndarray, iou: np.ndarray, n_true: int, n_pred: int) -> float:
        close = iou >= self.params.iou_threshold
        if not close.any():
            raise UndefinedScore(f"no detection matches a true circle with IoU >= "
                                 f"{self.params.iou_threshold:g}")
        return float(np.abs(self.deviation(true[t[close]], pred[p[close]])).mean())


class MADCenter(_MeanDeviation):
    """Mean absolute deviation of the centre, relative to the true radius.

    True circles outside the scoring window are dropped, then matched optimally
    to all detections of their image; over the pairs with IoU at least
    ``iou_threshold``, the mean of ``|centre_pred - centre_true| / radius_true``
    (Euclidean distance). Undefined (NaN) without such a pair. In [0, inf), lower is
    better.
    """

    def deviation(self, true: np.ndarray, pred: np.ndarray) -> np.ndarray:
        distance = np.sqrt((pred[:, 0] - true[:, 0]) ** 2 + (pred[:, 1] - true[:, 1]) ** 2)
        return distance / true[:, 2]


class MADRadius(_MeanDeviation):
    """Mean absolute deviation of the radius, relative to the true radius.

    True circles outside the scoring window are dropped, then matched optimally
    to all detections of their image; over the pairs with IoU at least
    ``iou_threshold``, the mean of ``|radius_pred - radius_true| / radius_true``.
    Undefined (NaN) without such a pair. In [0, inf), lower is better.
    """

    def deviation(self, true: np.ndarray, pred: np.ndarray) -> np.ndarray:
        return (pred[:, 2] - true[:, 2]) / true[:, 2]
