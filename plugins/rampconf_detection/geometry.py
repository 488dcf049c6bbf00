"""Circles: intersection over union, scoring windows, optimal matching and pixels.

A circle is a row ``(row, col, radius)``; a detection ``(confidence, row, col,
radius)``. Scores see a whole set of images at once as *flat* arrays: every
circle of every image stacked in image order, with the image index of each
circle beside it, so that filters, pair searches and IoUs are single NumPy
calls over all images. Only pairs of circles that can overlap are formed (a
search by image and row band, :mod:`~rampconf_detection.pairs`), and the
optimal assignment is split into the independent groups of overlapping pairs,
most of which are solved without calling the solver
(:mod:`~rampconf_detection.matching`); the pixels of circles are row runs
(:mod:`~rampconf_detection.pixels`). This module re-exports their public names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np

from rampconf_detection.matching import _solve_groups, _solve_images
from rampconf_detection.pairs import near_pairs
from rampconf_detection.pixels import rasterize, row_chords

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "Flat",
    "IoUFormula",
    "TieBreak",
    "as_circles",
    "circle_intersection_area",
    "circle_iou",
    "flatten",
    "in_window",
    "iou_matrix",
    "match_images",
    "match_pairs",
    "near_pairs",
    "pair_iou",
    "rasterize",
    "row_chords",
]

#: ``"exact"``: the area of the lens of two circles. ``"ramp"``: ramp-workflow
#: 0.7.0's formula, which *adds* the triangle term of the lens area instead of
#: subtracting it, so partial overlaps get a larger IoU (up to slightly above 1
#: for nearly coincident circles); identical, nested, tangent and disjoint
#: circles get the exact value. Its reference numbers need ``"ramp"``.
IoUFormula = Literal["exact", "ramp"]
#: Which of several equally optimal matchings of an image is used (they differ
#: only when IoUs tie exactly, e.g. a detection with integer coordinates midway
#: between two true circles). ``"grouped"``: the overlapping pairs are split
#: into independent groups, each solved alone (fast on large images).
#: ``"ramp"``: the matching of the solver on the image's whole IoU matrix, as
#: ramp-workflow; the groups are still solved alone where their optimum is the
#: only one (within :data:`~rampconf_detection.matching.TIE_MARGIN`), and only
#: the other images are solved whole.
TieBreak = Literal["grouped", "ramp"]


def as_circles(y: Any, width: int) -> np.ndarray:
    """One image's circles as a float array of shape ``(k, width)``.

    Accepts an array, a list of tuples, an empty list or ``None`` (no circle).

    Raises
    ------
    ValueError
        The rows do not have ``width`` values.
    """
    if isinstance(y, np.ndarray) and y.dtype == np.float64 and y.ndim == 2 \
            and y.shape[1] == width:
        return y
    if y is None or len(y) == 0:
        return np.empty((0, width))
    array = np.asarray(y, dtype=float)
    if array.ndim == 1 and array.size == width:
        array = array.reshape(1, width)
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(f"expected rows of {width} values per circle, got shape {array.shape}")
    return array


class Flat(NamedTuple):
    """The circles of a set of images, stacked in image order.

    Attributes
    ----------
    values : ndarray of shape (n, width)
        One row per circle (or detection).
    image : ndarray of shape (n,), int
        Index of the image of each row (non-decreasing).
    n_images : int
        Number of images, including those without any circle.
    """

    values: np.ndarray
    image: np.ndarray
    n_images: int

    def select(self, mask: np.ndarray) -> Flat:
        """The rows where ``mask`` holds (images are kept)."""
        return Flat(self.values[mask], self.image[mask], self.n_images)

    def counts(self) -> np.ndarray:
        """Number of rows of each image."""
        return np.bincount(self.image, minlength=self.n_images)


def flatten(images: Sequence[Any], width: int) -> Flat:
    """Stack the per-image circles of ``images`` (see :func:`as_circles`)."""
    n_images = len(images)
    counts: Any
    try:   # the common case: one (k, width) array per image
        counts = np.fromiter(map(len, images), dtype=np.intp, count=n_images)
        # A list of an object array's elements is concatenated faster than the array.
        parts = images.tolist() if isinstance(images, np.ndarray) and images.dtype == object \
            and images.ndim == 1 else images
        values = np.concatenate(parts) if n_images else np.empty((0, width))
        if values.shape != (int(counts.sum()), width):
            raise ValueError
    except (TypeError, ValueError):
        values = np.empty((0, 0))
    if values.shape[1:] != (width,):
        counts = [0 if y is None else len(y) for y in images]
        # Lists of tuples: one conversion for all images rather than one per image.
        rows = [row for y in images if y is not None for row in y]
        try:
            values = np.asarray(rows, dtype=float) if rows else np.empty((0, width))
        except ValueError:
            values = np.empty((0, 0))
        if values.shape != (sum(counts), width):
            arrays = [as_circles(y, width) for y in images]
            counts = [len(a) for a in arrays]
            values = np.concatenate(arrays) if arrays else np.empty((0, width))
    return Flat(values.astype(float, copy=False), np.repeat(np.arange(n_images), counts),
                n_images)


def in_window(circles: np.ndarray, minipatch: Sequence[int] | None) -> np.ndarray:
    """Mask of the circles whose *centre* lies in ``[row_min, row_max) x [col_min, col_max)``.

    ``circles`` holds ``(row, col, ...)`` rows; no window (``None``) keeps all.
    """
    if minipatch is None:
        return np.ones(len(circles), dtype=bool)
    row_min, row_max, col_min, col_max = minipatch
    rows, cols = circles[:, 0], circles[:, 1]
    return (rows >= row_min) & (rows < row_max) & (cols >= col_min) & (cols < col_max)


def circle_intersection_area(d: Any, r1: Any, r2: Any,
                             formula: IoUFormula = "exact") -> np.ndarray:
    """Area of the intersection of two circles, from centre distance and radii (broadcast).

    Nested circles (``d <= |r1 - r2|``) share the smaller disc, circles with
    ``d >= r1 + r2`` or a zero radius nothing; otherwise the lens area
    ``r1² acos(u1) + r2² acos(u2) - ½ sqrt((-d+r1+r2)(d+r1-r2)(d-r1+r2)(d+r1+r2))``
    with ``u1 = (d² + r1² - r2²) / (2 d r1)`` (``+ ½ sqrt(...)`` with
    ``formula="ramp"``, see :data:`IoUFormula`).
    """
    d, r1, r2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (d, r1, r2)))
    area = np.zeros(d.shape)
    nested = (d == 0) | (d <= np.abs(r2 - r1))
    area[nested] = np.minimum(r1[nested], r2[nested]) ** 2 * np.pi
    lens = ~nested & (d < r1 + r2) & (r1 != 0) & (r2 != 0)
    # Only partly overlapping pairs (few of all pairs) need the trigonometry.
    d, r1, r2 = d[lens], r1[lens], r2[lens]
    r1_sq, r2_sq = r1 * r1, r2 * r2
    # Same operation order as ramp-workflow, so that IoUs agree to the last bits.
    u1 = np.clip((d * d + r1_sq - r2_sq) / (2 * d * r1), -1.0, 1.0)
    u2 = np.clip((d * d + r2_sq - r1_sq) / (2 * d * r2), -1.0, 1.0)
    kite = 0.5 * np.sqrt(np.maximum(
        (-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2), 0.0))
    sign = 1.0 if formula == "ramp" else -1.0
    area[lens] = r1_sq * np.arccos(u1) + r2_sq * np.arccos(u2) + sign * kite
    return area


def circle_iou(a: Any, b: Any, formula: IoUFormula = "exact") -> np.ndarray:
    """Intersection over union of circles ``a`` and ``b`` (``(..., 3)`` arrays, broadcast).

    Two circles of zero area have IoU 0.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return _iou(a[..., 0], a[..., 1], a[..., 2], b[..., 0], b[..., 1], b[..., 2], formula)


def _iou(row1: np.ndarray, col1: np.ndarray, r1: np.ndarray, row2: np.ndarray,
         col2: np.ndarray, r2: np.ndarray, formula: IoUFormula) -> np.ndarray:
    row1, col1, r1, row2, col2, r2 = np.broadcast_arrays(row1, col1, r1, row2, col2, r2)
    d = np.hypot(row2 - row1, col2 - col1)
    iou = np.zeros(d.shape)
    # Circles that do not reach each other share nothing (nor do nested zero
    # radii): only the others, usually few of all pairs, need the areas.
    touch = d < r1 + r2
    d, r1, r2 = d[touch], r1[touch], r2[touch]
    inter = circle_intersection_area(d, r1, r2, formula)
    union = np.pi * (r1 * r1 + r2 * r2) - inter
    iou[touch] = np.divide(inter, union, out=np.zeros(inter.shape), where=inter > 0)
    return iou


def iou_matrix(true: Any, pred: Any, formula: IoUFormula = "exact") -> np.ndarray:
    """IoU of every pair: ``(k, 3)`` and ``(m, 3)`` circles -> ``(k, m)``."""
    true, pred = as_circles(true, 3), as_circles(pred, 3)
    return circle_iou(true[:, None, :], pred[None, :, :], formula)


#: :func:`pair_iou` computes the IoUs of this many pairs at a time.
IOU_CHUNK = 8192


def pair_iou(true: Flat, pred: Flat, formula: IoUFormula = "exact"
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IoU of the (true, pred) pairs of the same image that may overlap, all images at once.

    Every other pair of the same image has IoU 0.

    Returns
    -------
    t, p, iou : ndarray
        Rows of ``true.values`` and ``pred.values`` (sorted by ``t`` then ``p``)
        and their IoU (possibly 0).
    """
    t, p = near_pairs(true, np.abs(true.values[:, 2]), pred, np.abs(pred.values[:, 2]))
    a, b = np.ascontiguousarray(true.values.T), np.ascontiguousarray(pred.values.T)
    iou = np.empty(len(t))
    for first in range(0, len(t), IOU_CHUNK):   # a few thousand pairs at a time, in cache
        x, y = t[first:first + IOU_CHUNK], p[first:first + IOU_CHUNK]
        iou[first:first + IOU_CHUNK] = _iou(a[0][x], a[1][x], a[2][x], b[0][y], b[1][y],
                                            b[2][y], formula)
    return t, p, iou


def match_images(true: Flat, pred: Flat, formula: IoUFormula = "exact", *,
                 keep_zero: bool = True, ties: TieBreak = "grouped"
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Optimal one-to-one matching of true and predicted circles, image by image.

    Each image's assignment maximises the summed IoU
    (``linear_sum_assignment(1 - iou)`` on the image's IoU matrix, as
    ramp-workflow), so it pairs ``min(k_i, m_i)`` circles, some with IoU 0.

    Parameters
    ----------
    keep_zero : bool, default True
        Also return the matched pairs of IoU 0 (then every image with circles on
        both sides is solved whole). Without them, the overlapping pairs split
        into connected groups, solved separately: a group with one true circle
        or one detection is its best pair, only larger groups need the solver.
    ties : {"grouped", "ramp"}, default "grouped"
        Which optimal matching to return when several are (exact ties of the
        IoU, see :data:`TieBreak`): ``"ramp"`` gives the matching of the
        solver on every image's whole IoU matrix, as ramp-workflow, even
        without ``keep_zero`` (the groups' matching where it is the only
        optimal one, else the image solved whole).

    Returns
    -------
    true_index, pred_index, iou : ndarray
        Matched rows of ``true.values`` and ``pred.values`` and their IoU, by
        increasing true row.
    """
    return match_pairs(true, pred, *pair_iou(true, pred, formula), keep_zero=keep_zero,
                       ties=ties)


def match_pairs(true: Flat, pred: Flat, t: np.ndarray, p: np.ndarray, iou: np.ndarray, *,
                keep_zero: bool = True, ties: TieBreak = "grouped"
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`match_images` from the pairs ``(t, p, iou)`` that :func:`pair_iou` gives."""
    if keep_zero:
        k, m = true.counts(), pred.counts()
        parts = _solve_images(true, pred, t, p, iou, np.flatnonzero((k > 0) & (m > 0)),
                              keep_zero=True)
    else:
        positive = iou > 0
        t, p, iou = t[positive], p[positive], iou[positive]
        parts, tied = _solve_groups(t, p, iou, len(true.values), len(pred.values),
                                    find_ties=ties == "ramp")
        if ties == "ramp" and len(tied):
            # The groups' optimum is the whole image's unless it is not unique: the
            # images of such groups are solved whole, as ramp-workflow solves them.
            images = np.unique(true.image[tied])
            redo = np.zeros(true.n_images, dtype=bool)
            redo[images] = True
            solved = [np.concatenate(x) for x in zip(*parts, strict=True)]
            elsewhere = ~redo[true.image[solved[0]]]
            parts = [tuple(x[elsewhere] for x in solved)]
            on_image = redo[true.image[t]]
            parts += _solve_images(true, pred, t[on_image], p[on_image], iou[on_image],
                                   images, keep_zero=False)
    if not parts:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0)
    t, p, iou = (np.concatenate(x) for x in zip(*parts, strict=True))
    # By true row: each true circle is matched once at most, so its place is its rank.
    place = np.full(len(true.values), -1, dtype=np.intp)
    place[t] = np.arange(len(t))
    order = place[place >= 0]
    if len(order) != len(t):   # not so (cannot happen): sort
        order = np.argsort(t, kind="stable")
    return t[order], p[order], iou[order]
