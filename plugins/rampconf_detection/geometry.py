"""Circles: intersection over union, scoring windows, optimal matching and pixels.

A circle is a row ``(row, col, radius)``; a detection ``(confidence, row, col,
radius)``. Scores see a whole set of images at once as *flat* arrays: every
circle of every image stacked in image order, with the image index of each
circle beside it, so that filters, pair searches and IoUs are single NumPy
calls over all images. Only pairs of circles that can overlap are formed (a
sweep over circles sorted by image and row), and the optimal assignment is
split into the independent groups of overlapping pairs, most of which are
solved without calling the solver.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

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
#: only one (within :data:`TIE_MARGIN`), and only the other images are solved whole.
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
        values = np.concatenate(images) if n_images else np.empty((0, width))
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


#: :func:`near_pairs` tests the candidate pairs of this many rows at a time (in cache).
NEAR_CHUNK = 4096
#: :func:`near_pairs` finds each row's candidates in a table of about this many
#: (image, row band) cells per row of ``b`` (and bisects when it would not fit).
NEAR_CELLS = 2
#: ... as long as the rows lie within this distance of 0 (a table of bands).
NEAR_RANGE = float(1 << 24)


def near_pairs(a: Flat, reach_a: np.ndarray, b: Flat | None = None,
               reach_b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows of ``a`` and ``b`` in the same image whose boxes overlap.

    The box of a row is its centre ``(row, col)`` plus or minus its ``reach``;
    a pair is kept when ``|row_a - row_b|`` and ``|col_a - col_b|`` are both
    below ``reach_a + reach_b``. ``b`` is sorted by image and row band (rows
    cut into bands of equal height); each row of ``a`` takes as candidates the
    rows of ``b`` in the bands its box can reach (found in a table of the
    bands' first rows), so the cost follows the number of nearby pairs rather
    than the number of all pairs of an image.

    Without ``b`` (and ``reach_b``): the pairs ``i < j`` of rows of ``a`` with
    itself, from half the candidates of passing ``a`` twice.

    Returns
    -------
    i, j : ndarray
        Rows of ``a`` and ``b``, sorted by ``i`` then ``j``.
    """
    empty = np.empty(0, dtype=np.intp)
    within = b is None
    if b is None:
        b, reach_b = a, reach_a
    if reach_b is None:
        raise TypeError("near_pairs: reach_b is required with b")
    if not len(a.values) or not len(b.values):
        return empty, empty
    row_a, row_b = a.values[:, 0], b.values[:, 0]
    band = reach_a + reach_b.max() + 1.0    # a superset of the exact test below
    found = _bands(a, b, band, within)
    if found is None:
        found = _bisect(a, b, band, within)
    order, first, count = found
    # b's columns in that order, contiguous: the gathers below walk them in order.
    sorted_row, sorted_col, sorted_reach = row_b[order], b.values[order, 1], reach_b[order]
    if within:   # the queries are the sorted rows themselves
        row_q, col_q, reach_q = sorted_row, sorted_col, sorted_reach
    else:
        row_q, col_q, reach_q = row_a, a.values[:, 1], reach_a
    ends = np.cumsum(count)
    found_i, found_j = [], []
    for lo in range(0, len(row_q), NEAR_CHUNK):
        hi = min(lo + NEAR_CHUNK, len(row_q))
        n = count[lo:hi]
        base = int(ends[lo - 1]) if lo else 0
        i = np.repeat(np.arange(lo, hi), n)
        # Sorted rows of b: first[q], first[q] + 1, ... for each query q.
        j = np.arange(int(ends[hi - 1]) - base) \
            - np.repeat(ends[lo:hi] - base - n - first[lo:hi], n)
        reach = sorted_reach[j]
        reach += np.repeat(reach_q[lo:hi], n)
        gap = np.repeat(row_q[lo:hi], n)
        gap -= sorted_row[j]
        keep = np.abs(gap, out=gap) < reach
        gap = np.repeat(col_q[lo:hi], n)
        gap -= sorted_col[j]
        keep &= np.abs(gap, out=gap) < reach
        keep = np.flatnonzero(keep)
        found_i.append(i[keep])
        found_j.append(j[keep])
    i, j = np.concatenate(found_i), order[np.concatenate(found_j)]
    if within:
        i = order[i]
        i, j = np.minimum(i, j), np.maximum(i, j)
    pair_order = np.argsort(i * len(row_b) + j, kind="stable")
    return i[pair_order], j[pair_order]


def _bands(a: Flat, b: Flat, band: np.ndarray, within: bool
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`near_pairs`' candidates from a table of row bands (``None``: too large).

    Returns the order of ``b`` by image and band, and each query's first
    candidate and number of candidates in that order (the queries: the rows of
    ``a``, or with ``within`` the sorted rows of ``b``, whose candidates are the
    rows after them).
    """
    row_a, row_b = a.values[:, 0], b.values[:, 0]
    low, high = min(row_a.min(), row_b.min()), max(row_a.max(), row_b.max())
    if not (np.isfinite(band).all() and low > -NEAR_RANGE and high < NEAR_RANGE):
        return None   # far or infinite rows, infinite reach: the plain bisection
    n_images = max(a.n_images, b.n_images)
    # Bands of at least one row, about NEAR_CELLS cells of the table per row of b.
    height = max(1.0, float(high - low) * n_images / (NEAR_CELLS * len(row_b) + 1))
    n_bands = int((high - low) / height) + 1
    n_cells = n_images * n_bands
    key_b = b.image * n_bands + ((row_b - low) / height).astype(np.intp)
    order = np.argsort(key_b, kind="stable")
    start = np.zeros(n_cells + 1, dtype=np.intp)
    np.cumsum(np.bincount(key_b, minlength=n_cells), out=start[1:])
    if within:
        image_q, row_q, band = b.image[order], row_b[order], band[order]
    else:
        image_q, row_q = a.image, row_a
    # Every row of b within band of a query's row is in a band from its lowest to its
    # highest (rounding is monotonic, so the float test cannot leave them).
    cell = image_q * n_bands
    lowest = np.clip(((row_q - band) - low) / height, 0, n_bands - 1).astype(np.intp)
    highest = np.clip(((row_q + band) - low) / height, 0, n_bands - 1).astype(np.intp)
    first = start[cell + lowest]
    last = start[cell + highest + 1]
    if within:   # each pair once: from its first row in the sorted order
        first = np.maximum(first, np.arange(1, len(row_q) + 1))
    return order, first, np.maximum(last - first, 0)


def _bisect(a: Flat, b: Flat, band: np.ndarray, within: bool
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`near_pairs`' candidates by bisection of the rows sorted by image and row."""
    row_a, row_b = a.values[:, 0], b.values[:, 0]
    low = min(row_a.min(), row_b.min())
    # Images lie more than any band apart: a row's band holds rows of its image only.
    span = max(row_a.max(), row_b.max()) - low + 2 * band.max() + 1.0
    key_b = b.image * span + (row_b - low)
    order = np.argsort(key_b, kind="stable")
    key_b = key_b[order]
    if within:
        key_a, band = key_b, band[order]
    else:
        key_a = a.image * span + (row_a - low)
    first = np.searchsorted(key_b, key_a - band, side="left")
    if within:
        first = np.maximum(first, np.arange(1, len(key_a) + 1))
    count = np.maximum(np.searchsorted(key_b, key_a + band, side="right") - first, 0)
    return order, first, count


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
            parts = [tuple(x[~redo[true.image[part[0]]]] for x in part) for part in parts]
            on_image = redo[true.image[t]]
            parts += _solve_images(true, pred, t[on_image], p[on_image], iou[on_image],
                                   images, keep_zero=False)
    if not parts:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0)
    t, p, iou = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.argsort(t, kind="stable")
    return t[order], p[order], iou[order]


#: :func:`_solve_images` lays the IoU matrices of its images, padded to the largest
#: one, in arrays of at most this many cells (32 MiB), or of one image each.
SOLVE_CELLS = 1 << 22


def _solve_images(true: Flat, pred: Flat, t: np.ndarray, p: np.ndarray, iou: np.ndarray,
                  images: np.ndarray, keep_zero: bool
                  ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """One assignment per image of ``images`` (with circles on both sides), as ramp-workflow.

    ``(t, p, iou)`` are the nonzero pairs of these images (sorted by ``t``); every
    other pair of an image has IoU 0. The IoU matrices of a batch of images are
    filled at once, in a ``(images, rows, cols)`` array padded with zeros, and
    each image's top-left block is solved (``linear_sum_assignment(1 - iou)``).
    """
    if not len(images):
        return []
    k, m = true.counts(), pred.counts()
    true_start, pred_start = np.cumsum(k) - k, np.cumsum(m) - m
    image = true.image[t]
    row, col = t - true_start[image], p - pred_start[pred.image[p]]
    # Batches of consecutive images whose padded matrices hold at most SOLVE_CELLS cells.
    k_of, m_of = k[images], m[images]
    per_batch = max(1, SOLVE_CELLS // int(k_of.max() * m_of.max()))
    bounds = np.r_[np.searchsorted(image, images), len(t)]
    parts = []
    for first in range(0, len(images), per_batch):
        last = min(first + per_batch, len(images))
        sizes = list(zip(k_of[first:last].tolist(), m_of[first:last].tolist(), strict=True))
        matrix = np.zeros((last - first, int(k_of[first:last].max()),
                           int(m_of[first:last].max())))
        a, b = bounds[first], bounds[last]
        slot = np.repeat(np.arange(last - first), np.diff(bounds[first:last + 1]))
        matrix[slot, row[a:b], col[a:b]] = iou[a:b]
        found = [linear_sum_assignment(1.0 - matrix[s, :rows, :cols])
                 for s, (rows, cols) in enumerate(sizes)]
        r = np.concatenate([x[0] for x in found])
        c = np.concatenate([x[1] for x in found])
        slot = np.repeat(np.arange(last - first), np.minimum(k_of[first:last], m_of[first:last]))
        value = matrix[slot, r, c]
        if not keep_zero:
            kept = value > 0
            r, c, value, slot = r[kept], c[kept], value[kept], slot[kept]
        g = images[first:last][slot]
        parts.append((r + true_start[g], c + pred_start[g], value))
    return parts


#: Groups of overlapping pairs with at most this many assignments are solved by
#: enumerating them all at once (vectorised); larger ones by the solver.
ENUMERATED_CHOICES = 720
#: Two matchings whose summed IoUs differ by less than this may be swapped by the
#: rounding of the solver's costs ``1 - iou``: such a group's optimum is not unique.
TIE_MARGIN = 1e-9


def _n_choices(k: int, m: int) -> int:
    """Number of ways to match min(k, m) circles of a k x m group."""
    return math.perm(max(k, m), min(k, m))


Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]


def _solve_groups(t: np.ndarray, p: np.ndarray, iou: np.ndarray, n_true: int, n_pred: int,
                  find_ties: bool = True) -> tuple[list[Pairs], np.ndarray]:
    """Matched pairs of IoU > 0 from the overlapping pairs ``(t, p, iou)``.

    The pairs form connected groups (a circle in two pairs links them); the
    optimal matching is the union of each group's. A group with one true circle
    or one detection takes its largest IoU; small groups are solved by
    enumerating all their assignments at once; larger ones by the solver.

    Returns
    -------
    parts : list of (true rows, pred rows, iou)
        The matched pairs.
    tied : ndarray
        True rows of the groups whose optimal matching may not be unique (another
        one within :data:`TIE_MARGIN`, a matched IoU below it, or a group left to
        the solver): there, another solver may pick another optimal matching.
        Empty unless ``find_ties``; with it, the groups left to the solver are
        not solved (their pairs are missing from ``parts``).
    """
    empty = np.empty(0, dtype=np.intp)
    if not len(t):
        return [], empty
    # A pair whose two circles are in no other pair is a group of its own.
    t_count, p_count = np.bincount(t, minlength=n_true), np.bincount(p, minlength=n_pred)
    alone = (t_count[t] == 1) & (p_count[p] == 1)
    parts = [(t[alone], p[alone], iou[alone])]
    tied = [t[alone & (iou < TIE_MARGIN)] if find_ties else t[:0]]
    t, p, iou = t[~alone], p[~alone], iou[~alone]
    if not len(t):
        return parts, np.concatenate(tied)
    # The graph of the circles left (numbered in order): true circles, then detections.
    node_t, node_p = np.zeros(n_true, dtype=bool), np.zeros(n_pred, dtype=bool)
    node_t[t] = node_p[p] = True
    node_t, node_p = np.cumsum(node_t) - 1, np.cumsum(node_p) - 1
    n_t, n_nodes = int(node_t[-1]) + 1, int(node_t[-1] + node_p[-1]) + 2
    graph = coo_matrix((np.ones(len(t)), (node_t[t], n_t + node_p[p])), shape=(n_nodes,) * 2)
    _, label = connected_components(graph, directed=False)
    group = label[node_t[t]]
    n_rows = np.bincount(label[:n_t], minlength=label.max() + 1)
    n_cols = np.bincount(label[n_t:], minlength=label.max() + 1)
    star = (n_rows[group] == 1) | (n_cols[group] == 1)
    # A group around one circle matches it once: to its largest IoU (first on ties).
    pairs = np.flatnonzero(star)
    pairs = pairs[np.argsort(group[pairs], kind="stable")]   # by group, in order
    value = iou[pairs]
    new_group = np.r_[True, group[pairs][1:] != group[pairs][:-1]]
    starts = np.flatnonzero(new_group)
    in_group = np.cumsum(new_group) - 1
    if len(pairs):
        top = np.maximum.reduceat(value, starts)
        at_top = np.flatnonzero(value == top[in_group])
        best = at_top[np.r_[True, in_group[at_top][1:] != in_group[at_top][:-1]]]
        parts.append((t[pairs[best]], p[pairs[best]], value[best]))
        if find_ties:   # tied: the runner-up is within the margin of the best, or the best is
            value[best] = -np.inf
            close = (np.maximum.reduceat(value, starts) >= top - TIE_MARGIN) \
                | (top < TIE_MARGIN)
            tied.append(t[pairs[close[in_group]]])
    rest = np.flatnonzero(~star)
    if not len(rest):
        return parts, np.concatenate(tied)
    # Each circle's rank among the circles of its group, by number: its row or column.
    rank = np.empty(n_nodes, dtype=np.intp)
    for first, last in ((0, n_t), (n_t, n_nodes)):
        side = label[first:last]
        by_group = np.argsort(side, kind="stable")
        new_group = np.r_[True, side[by_group][1:] != side[by_group][:-1]]
        rank[first + by_group] = np.arange(len(side)) \
            - np.flatnonzero(new_group)[np.cumsum(new_group) - 1]
    g = group[rest]
    shape_key = n_rows[g] * (int(n_cols.max()) + 1) + n_cols[g]
    # Pairs by group shape, then group; a group's pairs stay in order.
    by_shape = np.argsort(shape_key * (int(g.max()) + 1) + g, kind="stable")
    rest, g, shape_key = rest[by_shape], g[by_shape], shape_key[by_shape]
    k, m = n_rows[g], n_cols[g]
    tr, pr = t[rest], p[rest]
    row, col = rank[node_t[tr]], rank[n_t + node_p[pr]]
    small = np.zeros(len(g), dtype=bool)
    starts = np.flatnonzero(np.r_[True, shape_key[1:] != shape_key[:-1], True])
    for first, last in itertools.pairwise(starts.tolist()):
        shape = (int(k[first]), int(m[first]))
        if _n_choices(*shape) <= ENUMERATED_CHOICES:
            small[first:last] = True
            sel = slice(first, last)
            t_sel, p_sel, iou_sel, tied_rows = _enumerate_groups(
                g[sel], row[sel], col[sel], tr[sel], pr[sel], iou[rest[sel]], shape, find_ties)
            parts.append((t_sel, p_sel, iou_sel))
            tied.append(tied_rows)
    big = np.flatnonzero(~small)
    bounds = np.flatnonzero(np.r_[True, g[big][1:] != g[big][:-1], True]) if len(big) \
        else np.empty(0, dtype=np.intp)
    if find_ties:   # whether the solver's optimum is unique is not known: left unsolved
        return parts, np.concatenate([*tied, tr[big]])
    for a, b in itertools.pairwise(bounds):
        edges = big[a:b]
        rows_of = np.zeros(k[edges[0]], dtype=np.intp)
        cols_of = np.zeros(m[edges[0]], dtype=np.intp)
        rows_of[row[edges]], cols_of[col[edges]] = tr[edges], pr[edges]
        matrix = np.zeros((len(rows_of), len(cols_of)))
        matrix[row[edges], col[edges]] = iou[rest[edges]]
        r, c = linear_sum_assignment(1.0 - matrix)
        keep = matrix[r, c] > 0
        parts.append((rows_of[r[keep]], cols_of[c[keep]], matrix[r, c][keep]))
    return parts, np.concatenate(tied)


def _tied_choices(matrix: np.ndarray, total: np.ndarray, best: np.ndarray,
                  choices: np.ndarray) -> np.ndarray:
    """Groups where another assignment within the margin has other pairs of IoU > 0.

    Also those whose best assignment holds an IoU below the margin (the solver
    may leave it out). ``matrix`` (groups, k, m): the IoUs; ``total`` (groups,
    choices): the summed IoU of each choice, ``best`` the chosen one.
    """
    groups = np.arange(len(best))
    rows = np.arange(choices.shape[1])
    near = total >= total[groups, best][:, None] - TIE_MARGIN
    chosen = matrix[groups[:, None], rows, choices[best]]
    tied = ((chosen > 0) & (chosen < TIE_MARGIN)).any(axis=1)
    # Only groups with another assignment within the margin can tie.
    some = np.flatnonzero(np.count_nonzero(near, axis=1) > 1)
    positive = np.where(matrix[some][:, rows, choices] > 0, choices, -1)
    differs = (positive != positive[np.arange(len(some)), best[some]][:, None, :]).any(axis=2)
    tied[some] |= (near[some] & differs).any(axis=1)
    return tied


@functools.cache
def _choices(m: int, k: int) -> np.ndarray:
    """Every way to give ``k`` rows distinct columns among ``m``, in lexicographic order."""
    choices = np.array(list(itertools.permutations(range(m), k)), dtype=np.intp)
    choices.flags.writeable = False
    return choices


def _enumerate_groups(group: np.ndarray, row: np.ndarray, col: np.ndarray, t: np.ndarray,
                      p: np.ndarray, iou: np.ndarray, shape: tuple[int, int],
                      find_ties: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best assignment of every group of one ``shape`` (k true circles, m detections).

    The pairs come sorted by ``group``. Returns the matched true rows, pred rows
    and IoUs, then the true rows of the tied groups (see :func:`_solve_groups`;
    empty unless ``find_ties``).
    """
    k, m = shape
    new_group = np.r_[True, group[1:] != group[:-1]]   # pairs come sorted by group
    index = np.cumsum(new_group) - 1
    ids = group[new_group]
    matrix = np.zeros((len(ids), k, m))
    matrix[index, row, col] = iou
    true_of = np.zeros((len(ids), k), dtype=np.intp)
    pred_of = np.zeros((len(ids), m), dtype=np.intp)
    true_of[index, row], pred_of[index, col] = t, p
    transpose = k > m
    if transpose:   # assign each detection a distinct true circle instead
        matrix, k, m = matrix.transpose(0, 2, 1), m, k
    choices = _choices(m, k)                                       # (n_choices, k)
    # The summed IoU of each choice (n_groups, n_choices), added row after row.
    total = matrix[:, 0, choices[:, 0]]
    for row_k in range(1, k):
        total += matrix[:, row_k, choices[:, row_k]]
    best = np.argmax(total, axis=1)
    chosen = choices[best]                                         # (n_groups, k)
    tied = _tied_choices(matrix, total, best, choices) if find_ties \
        else np.zeros(len(ids), dtype=bool)
    groups = np.repeat(np.arange(len(ids)), k)
    rows, cols = np.tile(np.arange(k), len(ids)), chosen.ravel()
    value = matrix[groups, rows, cols]
    if transpose:
        rows, cols = cols, rows
    keep = value > 0
    return (true_of[groups, rows][keep], pred_of[groups, cols][keep], value[keep],
            true_of[tied].ravel())


def _inside(row_term: np.ndarray, col: np.ndarray, centre: np.ndarray,
            radius: np.ndarray) -> np.ndarray:
    """Whether local column ``col`` is inside the disc, in scikit-image's float arithmetic."""
    return row_term + ((col - centre) / radius) ** 2 < 1


def rasterize(circles: np.ndarray, shape: Sequence[int]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixels of each circle as row runs ``[col_lo, col_hi]``, clipped to an image of ``shape``.

    A pixel ``(i, j)`` (integer coordinates) belongs to circle ``(r, c, rho)``
    when ``((i - r) / rho)² + ((j - c) / rho)² < 1``, evaluated exactly as
    scikit-image's ``draw.disk`` (which ramp-workflow copies): offsets are taken
    from the corner of the clipped bounding box, so boundary pixels agree bit
    for bit. Circles of radius 0 or outside the image have no pixel.

    Returns
    -------
    circle, row, col_lo, col_hi : ndarray
        One entry per non-empty run: index of the circle in ``circles``, image
        row, first and last column (inclusive).
    """
    circle, local_row, top, _, lo, hi = row_chords(circles, shape)
    keep = lo <= hi
    circle = circle[keep]
    return circle, local_row[keep] + top[circle], lo[keep], hi[keep]


def row_chords(circles: np.ndarray, shape: Sequence[int]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                          np.ndarray]:
    """The runs of :func:`rasterize`, every row of each circle's clipped box, empty ones too.

    Returns
    -------
    circle, local_row : ndarray
        Per run: index of the circle, row from the top of its box (each circle's
        rows in order, circle after circle).
    top, n_rows : ndarray
        Per circle: first image row of its box and its number of rows (0 without pixel).
    col_lo, col_hi : ndarray
        Per run: first and last column (inclusive); ``col_lo > col_hi`` when the
        row has no pixel.
    """
    height, width = int(shape[0]), int(shape[1])
    centre_r, centre_c = circles[:, 0], circles[:, 1]
    radius = np.abs(circles[:, 2])
    top = np.maximum(np.ceil(centre_r - radius), 0).astype(np.intp)
    bottom = np.minimum(np.floor(centre_r + radius), height - 1).astype(np.intp)
    left = np.maximum(np.ceil(centre_c - radius), 0).astype(np.intp)
    right = np.minimum(np.floor(centre_c + radius), width - 1).astype(np.intp)
    n_rows = np.where((radius > 0) & (right >= left), np.maximum(bottom - top + 1, 0), 0)
    circle = np.repeat(np.arange(len(circles)), n_rows)
    local_row = np.arange(len(circle)) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    # Per-circle values repeated along its rows (a sequential copy, not a gather), and
    # the arithmetic in place: the same operations, one temporary array fewer each.
    rho = np.repeat(radius, n_rows)
    row_term = local_row - np.repeat(centre_r - top, n_rows)
    row_term /= rho
    row_term *= row_term
    # Rows of the box are within rho of the centre, so row_term <= 1 up to rounding;
    # a row at exactly rho (row_term = 1) has no pixel and is settled below.
    half = np.subtract(1.0, row_term)
    np.sqrt(np.maximum(half, 0.0, out=half), out=half)
    half *= rho
    col_centre = np.repeat(centre_c - left, n_rows)   # relative to the box corner, as skimage
    start = col_centre - half
    stop = np.add(col_centre, half, out=half)
    lo_edge, hi_edge = np.ceil(start), np.floor(stop)
    # The closed form can only disagree with the float test when an end of the
    # chord falls within rounding of a pixel centre: settle those rows by the test.
    # Distance of each end to the nearest integer: 0.5 - |start - lo_edge + 0.5|.
    start -= lo_edge          # in (-1, 0]
    start += 0.5
    stop -= hi_edge           # in [0, 1)
    stop -= 0.5
    np.maximum(np.abs(start, out=start), np.abs(stop, out=stop), out=start)
    near = start > 0.5 - 1e-6
    near |= row_term >= 1
    near = np.flatnonzero(near)
    # Clipped to the box, lo in [0, last + 1] and hi in [-1, last]: empty when lo > hi.
    last = np.repeat(right - left, n_rows)
    np.maximum(lo_edge, 0, out=lo_edge)
    lo = np.minimum(lo_edge, last + 1, out=lo_edge).astype(np.intp)
    np.maximum(hi_edge, -1, out=hi_edge)
    hi = np.minimum(hi_edge, last, out=hi_edge).astype(np.intp)
    if len(near):
        lo[near], hi[near] = _settle(lo[near], hi[near], row_term[near], col_centre[near],
                                     rho[near], last[near])
    shift = np.repeat(left, n_rows)
    lo += shift
    hi += shift
    return circle, local_row, top, n_rows, lo, hi


def _settle(lo: np.ndarray, hi: np.ndarray, row_term: np.ndarray, centre: np.ndarray,
            radius: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move chord ends ``[lo, hi]`` (local columns in ``[0, last]``) onto the float test."""
    for _ in range(4):
        grow = (lo > 0) & _inside(row_term, lo - 1.0, centre, radius)
        shrink = ~grow & (lo <= hi) & ~_inside(row_term, lo.astype(float), centre, radius)
        lo = lo - grow + shrink
        grow_hi = (hi < last) & _inside(row_term, hi + 1.0, centre, radius)
        shrink_hi = ~grow_hi & (hi >= lo) & ~_inside(row_term, hi.astype(float), centre, radius)
        hi = hi + grow_hi - shrink_hi
        if not (grow.any() or shrink.any() or grow_hi.any() or shrink_hi.any()):
            break
    return lo, hi
