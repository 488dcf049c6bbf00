"""Work shared by the detection scores of one set of predictions: pairs and matchings.

A run computes every score of its problem on the same true circles and
detections, one score after the other (the Mars craters problem has eleven).
Several of them need the same pairs of overlapping circles with their IoUs, and
the same optimal matchings (the three precisions match the detections of the
window, the three recalls and both mean deviations the true circles of the
window): the first score computes them, the next ones reuse them.

Inputs are compared by content, bit for bit (a copy of their values is kept, not
the arrays), so a changed input is never served another input's results; each
thread keeps the work of its last :data:`KEPT` inputs (until it scores others).
"""

from __future__ import annotations

import threading

import numpy as np

from rampconf_detection.geometry import Flat, IoUFormula, TieBreak, match_pairs, pair_iou

__all__ = ["KEPT", "Shared", "clear", "shared"]

#: Number of (true circles, detections, IoU formula) inputs each thread keeps: a
#: run scores one set of predictions with all its scores, then the next.
KEPT = 1

Match = tuple[np.ndarray, np.ndarray, np.ndarray]


class Shared:
    """Pairs and matchings of one set of true circles and detections (see the module).

    Parameters
    ----------
    true, pred : Flat
        True circles and detections ``(row, col, radius)`` of every image.
    formula : {"exact", "ramp"}
        Circle IoU.
    """

    def __init__(self, true: Flat, pred: Flat, formula: IoUFormula) -> None:
        self.true, self.pred, self.formula = true, pred, formula
        self._pairs: Match | None = None
        self._matches: dict[tuple[bytes, bytes, bool, str], Match] = {}

    def pairs(self) -> Match:
        """:func:`~rampconf_detection.geometry.pair_iou` of all true circles and detections."""
        if self._pairs is None:
            self._pairs = pair_iou(self.true, self.pred, self.formula)
            for array in self._pairs:
                array.flags.writeable = False
        return self._pairs

    def match(self, true_kept: np.ndarray, pred_kept: np.ndarray, *, keep_zero: bool,
              ties: TieBreak) -> Match:
        """:func:`~rampconf_detection.geometry.match_images` of the kept rows (masks).

        Returns rows of ``true.select(true_kept)`` and ``pred.select(pred_kept)``:
        the same arrays as matching those subsets from scratch, as their pairs
        are the pairs of both kept circles, with the same IoUs.
        """
        key = (np.packbits(true_kept).tobytes(), np.packbits(pred_kept).tobytes(), keep_zero,
               ties)
        if key not in self._matches:
            t, p, iou = self.pairs()
            kept = true_kept[t] & pred_kept[p]
            true_row, pred_row = np.cumsum(true_kept) - 1, np.cumsum(pred_kept) - 1
            match = match_pairs(self.true.select(true_kept), self.pred.select(pred_kept),
                                true_row[t[kept]], pred_row[p[kept]], iou[kept],
                                keep_zero=keep_zero, ties=ties)
            for array in match:   # shared by the scores: none may change it
                array.flags.writeable = False
            self._matches[key] = match
        return self._matches[key]


class _Kept(threading.local):
    def __init__(self) -> None:
        self.entries: list[tuple[tuple[object, ...], tuple[np.ndarray, ...], Shared]] = []


_KEPT = _Kept()


def _key(true: Flat, pred: Flat, formula: IoUFormula) -> tuple[object, ...]:
    return (formula, true.n_images, true.values.shape, pred.values.shape,
            true.values.dtype, pred.values.dtype, _geometry(true.values),
            _geometry(pred.values))


def _whole(values: np.ndarray) -> np.ndarray:
    """The C-contiguous array that ``values`` views (some of its columns), else ``values``.

    Comparing the whole array (with the view's place in it, in the key) is
    comparing the view, in one pass over contiguous memory.
    """
    base = values.base
    if values.flags.c_contiguous or not isinstance(base, np.ndarray) or base.ndim != 2 \
            or not base.flags.c_contiguous or base.dtype != values.dtype \
            or base.shape[0] != values.shape[0]:
        return values
    return base


def _geometry(values: np.ndarray) -> tuple[object, ...]:
    """Where ``values`` lies in :func:`_whole` of it: offset, shape and strides."""
    whole = _whole(values)
    if whole is values:
        return ()
    offset = values.__array_interface__["data"][0] - whole.__array_interface__["data"][0]
    return offset, whole.shape, values.strides


def _arrays(true: Flat, pred: Flat) -> tuple[np.ndarray, ...]:
    return _whole(true.values), true.image, _whole(pred.values), pred.image


def _bits(array: np.ndarray) -> np.ndarray:
    """The array's values as integers of the same size (a view): compared bit for bit."""
    if array.dtype.kind == "f":   # NaN equals its own bits, 0.0 differs from -0.0
        return array.view(np.dtype(f"u{array.dtype.itemsize}"))
    return array


def _same(kept: tuple[np.ndarray, ...], arrays: tuple[np.ndarray, ...]) -> bool:
    return all(a.shape == b.shape and a.dtype == b.dtype and np.array_equal(_bits(a), _bits(b))
               for a, b in zip(kept, arrays, strict=True))


def shared(true: Flat, pred: Flat, formula: IoUFormula) -> Shared:
    """The :class:`Shared` work of these inputs: kept from an earlier score, or new.

    The inputs are compared with copies of the kept inputs' values, bit for bit
    (no copy of the new inputs is made, strided or not).
    """
    key, arrays = _key(true, pred, formula), _arrays(true, pred)
    for kept_key, kept, work in _KEPT.entries:
        if kept_key == key and _same(kept, arrays):
            return work
    work = Shared(true, pred, formula)
    copies = tuple(np.array(a, copy=True) for a in arrays)
    _KEPT.entries = [(key, copies, work), *_KEPT.entries][:KEPT]
    return work


def clear() -> None:
    """Forget the kept work of this thread (e.g. to time each score from scratch)."""
    _KEPT.entries = []
