"""Pairs of nearby circles: a search by image and row band over flat arrays of circles."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rampconf_detection.geometry import Flat

__all__ = ["NEAR_CELLS", "NEAR_CHUNK", "NEAR_RANGE", "near_pairs"]


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
