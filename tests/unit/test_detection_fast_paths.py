"""The fast paths of the detection plugin against plain references, on awkward inputs.

Each fast path (candidate pairs from a table of row bands, chord ends settled
only near integers, the best IoU and first claims of average precision by
``ufunc.at``, the shared work keyed by a column view's whole array, flatten
of an object array, stable orders by radix sort) is compared with a plain,
one-item-at-a-time computation on empty images, identical and touching
circles, integer and half-integer coordinates and ties.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import pytest
from rampconf_detection import pairs, shared
from rampconf_detection.geometry import Flat, as_circles, circle_iou, flatten, row_chords
from rampconf_detection.matching import stable_order

from rampconf.plugin import make_plugin
from rampconf.scores import BaseScore


def awkward_circles(rng: np.random.Generator, n_images: int, scale: float) -> Flat:
    """Circles on a coarse grid (ties, identical and touching boxes), some images empty."""
    images = []
    for image in range(n_images):
        k = 0 if image % 4 == 1 else int(rng.integers(1, 9))
        centre = rng.integers(-2, 12, (k, 2)) * scale / 4
        radius = rng.integers(0, 5, k) * scale / 8
        circles = np.column_stack([centre, radius])
        if k > 1 and image % 3 == 0:
            circles[-1] = circles[0]   # an identical circle
        images.append(circles)
    return flatten(images, 3)


def plain_pairs(a: Flat, reach_a: np.ndarray, b: Flat, reach_b: np.ndarray,
                within: bool) -> list[tuple[int, int]]:
    return [(i, j) for i in range(len(a.values)) for j in range(len(b.values))
            if a.image[i] == b.image[j] and (not within or i < j)
            and abs(a.values[i, 0] - b.values[j, 0]) < reach_a[i] + reach_b[j]
            and abs(a.values[i, 1] - b.values[j, 1]) < reach_a[i] + reach_b[j]]


@pytest.mark.parametrize("cells", [1, 2, 1000])
@pytest.mark.parametrize("scale", [1.0, 10.0, 1e9])   # 1e9: far rows, bisection
def test_near_pairs_from_row_bands_are_the_plain_pairs(monkeypatch: pytest.MonkeyPatch,
                                                       cells: int, scale: float) -> None:
    monkeypatch.setattr(pairs, "NEAR_CELLS", cells)   # bands of one row or of many
    rng = np.random.default_rng(int(scale) % 97 + cells)
    for _ in range(5):
        a, b = awkward_circles(rng, 9, scale), awkward_circles(rng, 9, scale)
        reach_a, reach_b = a.values[:, 2], b.values[:, 2] + scale / 8
        for got, expected in [
                (pairs.near_pairs(a, reach_a, b, reach_b), plain_pairs(a, reach_a, b, reach_b,
                                                                       False)),
                (pairs.near_pairs(a, reach_a), plain_pairs(a, reach_a, a, reach_a, True)),
                (pairs.near_pairs(b, reach_b), plain_pairs(b, reach_b, b, reach_b, True))]:
            assert list(zip(*(x.tolist() for x in got), strict=True)) == expected


def test_near_pairs_bands_and_bisection_agree_and_infinite_reach_bisects() -> None:
    rng = np.random.default_rng(3)
    a, b = awkward_circles(rng, 30, 10.0), awkward_circles(rng, 30, 10.0)
    reach_a, reach_b = a.values[:, 2] + 0.5, b.values[:, 2]
    band = reach_a + reach_b.max() + 1.0
    from_bands = pairs._bands(a, b, band, False)
    assert from_bands is not None
    order, first, count = from_bands
    candidates = {(q, int(order[j])) for q in range(len(first))
                  for j in range(first[q], first[q] + count[q])}
    # Every plain pair is a candidate of the table (a superset of them).
    assert set(plain_pairs(a, reach_a, b, reach_b, False)) <= candidates
    assert pairs._bands(a, b, np.full(len(a.values), np.inf), False) is None


def plain_chords(circle: np.ndarray, shape: tuple[int, int]) -> dict[int, list[int]]:
    """scikit-image's float test, pixel by pixel, offsets from the clipped box's corner."""
    r, c, rho = circle
    top, left = max(math.ceil(r - rho), 0), max(math.ceil(c - rho), 0)
    bottom = min(math.floor(r + rho), shape[0] - 1)
    right = min(math.floor(c + rho), shape[1] - 1)
    rows: dict[int, list[int]] = {}
    for i in range(top, bottom + 1):
        for j in range(left, right + 1):
            if (((i - top) - (r - top)) / rho) ** 2 + (((j - left) - (c - left)) / rho) ** 2 < 1:
                rows.setdefault(i, []).append(j)
    return rows


def test_row_chords_settle_the_chord_ends_that_fall_near_a_pixel() -> None:
    """Centres and radii at integers, halves and within 1e-9 of them: ends on pixels."""
    rng = np.random.default_rng(11)
    shape = (40, 36)
    nudge = [0.0, 1e-9, -1e-9, 0.5, 0.5 + 1e-12, 1 / 3, 2.0 ** -30]
    circles = np.column_stack([rng.integers(-3, 42, 300) + rng.choice(nudge, 300),
                               rng.integers(-3, 38, 300) + rng.choice(nudge, 300),
                               rng.integers(1, 9, 300) + rng.choice(nudge, 300)])
    circles = np.vstack([circles, [[10.0, 10.0, 5.0], [7.0, 3.0, 5.0], [0.5, 0.5, 0.5]]])
    circle, local_row, top, _, lo, hi = row_chords(circles, shape)
    for k in range(len(circles)):
        mine = circle == k
        full = lo[mine] <= hi[mine]
        got = {int(top[k] + row): list(range(first, last + 1)) for row, first, last
               in zip(local_row[mine][full], lo[mine][full], hi[mine][full], strict=True)}
        assert got == plain_chords(circles[k], shape), circles[k]


def plain_average_precision(y_true: list[np.ndarray], y_pred: list[np.ndarray]) -> float:
    """Greedy hits in confidence order (argsort, reversed), one detection at a time."""
    detections = [(image, d) for image, p in enumerate(y_pred) for d in p]
    confidence = np.array([d[0] for _, d in detections])
    claimed, hits = set(), []
    for index in np.argsort(confidence)[::-1]:
        image, d = detections[index]
        ious = [float(circle_iou(t, d[1:], "ramp")) for t in y_true[image]]
        best = int(np.argmax(ious)) if ious else -1
        hit = best >= 0 and ious[best] > 0.5 and (image, best) not in claimed
        if hit:
            claimed.add((image, best))
        hits.append(hit)
    n_tp = np.cumsum(hits)
    precision = n_tp / np.arange(1, len(hits) + 1)
    recall = n_tp / sum(len(t) for t in y_true)
    rec = np.concatenate(([0.0], recall, [1.0]))
    pre = np.concatenate(([0.0], precision, [0.0]))
    envelope = np.maximum.accumulate(pre[::-1])[::-1]
    steps = np.flatnonzero(rec[1:] != rec[:-1])
    return float(np.sum((rec[steps + 1] - rec[steps]) * envelope[steps + 1]))


def as_objects(images: list[np.ndarray]) -> np.ndarray:
    array = np.empty(len(images), dtype=object)
    array[:] = images
    return array


def test_average_precision_takes_the_first_true_circle_and_the_first_claim() -> None:
    """Identical true circles (IoU ties), several detections of one circle, equal confidences."""
    rng = np.random.default_rng(4)
    y_true, y_pred = [], []
    for image in range(40):
        k = 0 if image % 5 == 0 else int(rng.integers(1, 6))
        true = np.column_stack([rng.integers(5, 30, (k, 2)), rng.integers(2, 6, k)]) * 1.0
        if k > 1:
            true[1] = true[0]                    # the same circle twice: IoUs tie
        found = true[rng.random(k) < 0.8]
        circles = np.vstack([found, found[:2], found[:1] + 0.5]) if len(found) else found
        confidence = rng.choice([0.25, 0.5, 0.75], len(circles))
        y_true.append(true)
        y_pred.append(np.column_stack([confidence, circles]).reshape(-1, 4))
    # A detection midway between two true circles (equal IoUs) ranked before one that
    # only the first reaches: greedy, the first true circle is taken, the second missed.
    y_true.append(np.array([[10.0, 10.0, 10.0], [10.0, 14.0, 10.0]]))
    y_pred.append(np.array([[0.9, 10.0, 12.0, 10.0], [0.8, 10.0, 8.0, 10.0]]))
    shared.clear()
    score = make_plugin("score", "average_precision", {"iou_formula": "ramp"}, "t", BaseScore)
    value = score(as_objects(y_true), as_objects(y_pred))
    assert value == pytest.approx(plain_average_precision(y_true, y_pred), abs=1e-15)


def test_shared_work_is_kept_for_bit_identical_inputs_only() -> None:
    """Same bits in other arrays: kept; -0.0 for 0.0, or other columns of the array: not."""
    values = np.array([[0.9, 0.0, 10.0, 5.0], [0.8, 20.0, 20.0, 4.0], [0.7, 20.0, 20.0, 4.0]])
    true = flatten([np.array([[0.0, 10.0, 5.0]]), np.array([[20.0, 20.0, 4.0]])], 3)
    image = np.array([0, 1, 1])

    def work(pred: np.ndarray, true: Flat = true) -> shared.Shared:
        return shared.shared(true, Flat(pred, image, 2), "ramp")

    shared.clear()
    first = work(values[:, 1:])
    assert work(values.copy()[:, 1:]) is first                 # equal bits, other arrays
    negative = values.copy()
    negative[0, 1] = -0.0                                      # equal values, other bits
    assert work(negative[:, 1:]) is not first
    shared.clear()
    first = work(values[:, 1:])
    assert work(values[:, 1:]) is first
    assert work(values[:, :3]) is not first                    # the same array, other columns
    nan = values.copy()
    nan[:, 0] = np.nan                                         # NaN confidences, same bits
    shared.clear()
    first = work(nan[:, 1:])
    assert work(nan.copy()[:, 1:]) is first


@pytest.mark.parametrize("images", [
    pytest.param([np.array([[1.0, 2, 3]]), None, np.empty((0, 3))], id="none"),
    pytest.param([np.array([[1.0, 2, 3], [4, 5, 6]]), [(7, 8, 9)], []], id="list-inside"),
    pytest.param([np.arange(6).reshape(2, 3), np.array([[1.5, 2, 3]])], id="int-array"),
    pytest.param([np.array([1.0, 2, 3]), np.empty((0, 3))], id="1d-row"),
])
def test_flatten_of_an_object_array_is_the_plain_stack(images: list[Any]) -> None:
    array = as_objects(images)
    flat = flatten(cast(Any, array), 3)
    expected = [as_circles(y, 3) for y in images]
    assert flat.values.dtype == np.float64 and flat.n_images == len(images)
    np.testing.assert_array_equal(flat.values, np.concatenate(expected))
    assert flat.image.tolist() == [i for i, y in enumerate(expected) for _ in range(len(y))]


@pytest.mark.parametrize("high", [1, 7, 1 << 16, 1 << 40])   # radix sort below 1 << 16
def test_stable_order_is_numpys_stable_argsort(high: int) -> None:
    rng = np.random.default_rng(high % 1000)
    for size in (0, 1, 5, 3000):
        key = rng.integers(0, high, size)
        np.testing.assert_array_equal(stable_order(key), np.argsort(key, kind="stable"))
