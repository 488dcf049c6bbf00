"""Optimal matching of overlapping circles: independent groups, enumerated or solved.

The overlapping (true, detection) pairs of all images split into connected
groups (a circle in two pairs links them); the optimal one-to-one matching is
the union of each group's. Groups around one circle take its best pair, small
groups are solved by enumerating all their assignments at once (vectorised
over the groups of one shape), larger ones by the solver; whole images are
solved as ramp-workflow solves them when needed.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

if TYPE_CHECKING:
    from rampconf_detection.geometry import Flat

__all__ = ["ENUMERATED_CHOICES", "SOLVE_CELLS", "TIE_MARGIN", "Pairs", "stable_order"]


def stable_order(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` of integer keys, by radix sort where they fit.

    Keys in ``[0, 65536)`` are sorted as 16-bit integers, which NumPy sorts by
    radix in one pass over them (several times faster than its merge sort of
    random 64-bit keys); the order is the same, a stable sort being unique.
    """
    if len(key) and key.min() >= 0 and key.max() < 1 << 16:
        return np.argsort(key.astype(np.uint16), kind="stable")
    return np.argsort(key, kind="stable")


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
    # The edges come sorted by true circle: the rows of a CSR matrix as they are.
    indptr = np.zeros(n_nodes + 1, dtype=np.intp)
    np.cumsum(np.bincount(node_t[t], minlength=n_nodes), out=indptr[1:])
    graph = csr_matrix((np.ones(len(t)), n_t + node_p[p], indptr), shape=(n_nodes,) * 2)
    _, label = connected_components(graph, directed=False)
    group = label[node_t[t]]
    n_rows = np.bincount(label[:n_t], minlength=label.max() + 1)
    n_cols = np.bincount(label[n_t:], minlength=label.max() + 1)
    star = (n_rows[group] == 1) | (n_cols[group] == 1)
    # A group around one circle matches it once: to its largest IoU (first on ties).
    pairs = np.flatnonzero(star)
    pairs = pairs[stable_order(group[pairs])]   # by group, in order
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
        by_group = stable_order(side)
        new_group = np.r_[True, side[by_group][1:] != side[by_group][:-1]]
        rank[first + by_group] = np.arange(len(side)) \
            - np.flatnonzero(new_group)[np.cumsum(new_group) - 1]
    g = group[rest]
    shape_key = n_rows[g] * (int(n_cols.max()) + 1) + n_cols[g]
    # Pairs by group shape, then group; a group's pairs stay in order.
    by_shape = stable_order(g)   # then by shape: sorted by shape, then group
    by_shape = by_shape[stable_order(shape_key[by_shape])]
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
