"""Pixels of circles: the row runs of scikit-image's ``draw.disk``, bit for bit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["rasterize", "row_chords"]


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
