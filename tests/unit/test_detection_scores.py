"""Detection scores, circle geometry and detection bagging.

Parity with ramp-workflow 0.7.0 comes from the ``detection`` cases of the shared
kits' ``reference/score_vectors.json`` (``$RAMPCONF_KITS``, default
``../shared/kits`` beside the repository): the Mars craters training labels
with three sets of detections, the eleven scores of the Mars craters kit, and
the bagging of each set of detections with a shifted copy of itself.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from pydantic import ValidationError
from rampconf_detection import geometry, matching, pairs
from rampconf_detection import scores as D
from rampconf_detection import scp as S
from rampconf_detection.combine import combine_detections
from rampconf_detection.geometry import (
    as_circles,
    circle_intersection_area,
    circle_iou,
    flatten,
    iou_matrix,
    match_images,
    near_pairs,
    rasterize,
    row_chords,
)
from scipy.optimize import linear_sum_assignment

from rampconf import registry
from rampconf.compat import compat_defaults, compat_mode
from rampconf.errors import ConfigError
from rampconf.plugin import make_plugin
from rampconf.predictions import BasePrediction
from rampconf.resources import packaged_conf_dir
from rampconf.scores import BaseScore, UndefinedScore

KITS = Path(os.environ.get("RAMPCONF_KITS",
                           Path(__file__).resolve().parents[2].parent / "shared" / "kits"))
CASES: list[dict[str, Any]] = [
    case for case in json.loads((KITS / "reference" / "score_vectors.json").read_text())["cases"]
    if case["kind"] == "detection"]
CONF = packaged_conf_dir() / "score"

#: Registered type, class, direction and bounds of each detection score.
SCORE_TYPES: dict[str, tuple[str, bool, tuple[float, float]]] = {
    "average_precision": ("AveragePrecision", True, (0, 1)),
    "ospa": ("OSPA", False, (0, 1)),
    "scp": ("SCP", False, (0, 1)),
    "detection_precision": ("DetectionPrecision", True, (0, 1)),
    "detection_recall": ("DetectionRecall", True, (0, 1)),
    "mad_center": ("MADCenter", False, (0, math.inf)),
    "mad_radius": ("MADRadius", False, (0, math.inf)),
}
WINDOW = [28, 196, 28, 196]


def build(score_type: str, **params: Any) -> BaseScore:
    """A score built the way a run builds it: registry lookup, validation, construction."""
    return make_plugin("score", score_type, params, f"scores.{score_type}", BaseScore)


def ramp_build(score_type: str, **params: Any) -> BaseScore:
    """A score built as a run with ``compat=ramp`` builds it (ramp-workflow's circle IoU, ...)."""
    with compat_mode("ramp"):
        return build(score_type, **params)


def mars_scores(minipatch: list[int] | None = WINDOW,
                shape: tuple[int, int] = (224, 224)) -> dict[str, BaseScore]:
    """The eleven scores of the Mars craters kit, by their RAMP names, under compat=ramp."""
    with compat_mode("ramp"):
        return _mars_scores(minipatch, shape)


def _mars_scores(minipatch: list[int] | None, shape: tuple[int, int]) -> dict[str, BaseScore]:
    window = {"minipatch": minipatch}
    return {
        "ap": ramp_build("average_precision"),
        "ospa": build("ospa", **window),
        "scp": build("scp", shape=list(shape), minipatch=minipatch),
        **{f"prec({t})": build("detection_precision", iou_threshold=t, **window)
           for t in (0, 0.5, 0.9)},
        **{f"rec({t})": build("detection_recall", iou_threshold=t, **window)
           for t in (0, 0.5, 0.9)},
        "madc": build("mad_center", **window),
        "madr": build("mad_radius", **window),
    }


def objects(images: list[Any], width: int) -> np.ndarray:
    """Object array of per-image float arrays, as the detection prediction type holds them."""
    array = np.empty(len(images), dtype=object)
    array[:] = [as_circles(image, width) for image in images]
    return array


def reference_params() -> list[Any]:
    return [pytest.param(case, name, expected, id=f"detection-{i}-{name}")
            for i, case in enumerate(CASES) for name, expected in case["expected"].items()]


# --------------------------------------------------------------------------- parity


def test_reference_cases_are_all_covered() -> None:
    assert len(CASES) == 3
    assert all(set(case["expected"]) == set(mars_scores()) for case in CASES)


@pytest.mark.parametrize(("case", "name", "expected"), reference_params())
def test_score_matches_ramp_workflow(case: dict[str, Any], name: str, expected: float) -> None:
    score = mars_scores(case["minipatch"], tuple(case["shape"]))[name]
    value = score(objects(case["y_true"], 3), objects(case["y_pred"], 4))
    assert isinstance(value, float)
    assert value == pytest.approx(expected, abs=1e-9, rel=0)
    assert score.minimum <= value <= score.maximum
    # Lists of tuples, as a submission returns them, give the same number.
    as_lists = score([[tuple(c) for c in image] for image in case["y_true"]],
                     [[tuple(d) for d in image] for image in case["y_pred"]])
    assert as_lists == pytest.approx(value, abs=1e-12, rel=0)


@pytest.mark.parametrize("case", [pytest.param(case, id=f"detection-{i}-combine")
                                  for i, case in enumerate(CASES)])
def test_combine_with_shifted_copy_matches_ramp_bagging(case: dict[str, Any]) -> None:
    """Bagging detections with a copy whose row and col are shifted by ``shift``."""
    d_row, d_col = case["combine_with_shifted_copy"]["shift"]
    y_pred = objects(case["y_pred"], 4)
    shifted = objects([image + np.array([0.0, d_row, d_col, 0.0]) for image in y_pred], 4)
    with compat_mode("ramp"):
        prediction = make_plugin("prediction", "detection", {}, "p", BasePrediction)
    combined = prediction.combine([y_pred, shifted])
    expected = case["combine_with_shifted_copy"]["combined"]
    assert len(combined) == len(expected)
    for got, want in zip(combined, expected, strict=True):
        np.testing.assert_allclose(got, as_circles(want, 4), rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- circle IoU

RNG = np.random.default_rng(20261128)


def lens_area_by_quadrature(a: np.ndarray, b: np.ndarray, n: int = 200_001) -> float:
    """Intersection area as the integral over rows of the overlap of both circles' chords."""
    rows = np.linspace(max(a[0] - a[2], b[0] - b[2]), min(a[0] + a[2], b[0] + b[2]), n)
    if rows[-1] <= rows[0]:
        return 0.0
    half_a = np.sqrt(np.maximum(a[2] ** 2 - (rows - a[0]) ** 2, 0))
    half_b = np.sqrt(np.maximum(b[2] ** 2 - (rows - b[0]) ** 2, 0))
    overlap = np.maximum(np.minimum(a[1] + half_a, b[1] + half_b)
                         - np.maximum(a[1] - half_a, b[1] - half_b), 0)
    return float(np.trapezoid(overlap, rows))


@pytest.mark.parametrize("formula", ["exact", "ramp"])
def test_iou_of_identical_disjoint_tangent_and_nested_circles(formula: str) -> None:
    circle = [10.0, 20.0, 4.0]
    assert circle_iou(circle, circle, formula) == 1.0
    assert circle_iou(circle, [10.0, 40.0, 4.0], formula) == 0.0
    assert circle_iou(circle, [10.0, 28.0, 4.0], formula) == 0.0     # tangent
    inner = [11.0, 21.0, 2.0]                                        # inside, off-centre
    assert circle_iou(circle, inner, formula) == pytest.approx(4.0 / 16.0, rel=1e-15)
    assert circle_iou(circle, [10.0, 20.0, 0.0], formula) == 0.0
    assert circle_iou([1.0, 1.0, 0.0], [1.0, 1.0, 0.0], formula) == 0.0


def test_exact_iou_of_partial_overlaps_matches_numerical_integration() -> None:
    for _ in range(40):
        a = np.r_[RNG.uniform(0, 10, 2), RNG.uniform(1, 6)]
        b = np.r_[a[:2] + RNG.uniform(-6, 6, 2), RNG.uniform(1, 6)]
        area = lens_area_by_quadrature(a, b)
        union = math.pi * (a[2] ** 2 + b[2] ** 2) - area
        assert circle_iou(a, b) == pytest.approx(area / union, abs=1e-3)


def test_ramp_iou_adds_the_triangle_term_that_the_lens_area_subtracts() -> None:
    """ramp-workflow 0.7.0's lens area: ``+ ½ sqrt(...)``; its numbers need it."""
    d, r1, r2 = 3.0, 2.0, 2.5
    kite = 0.5 * math.sqrt((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
    exact = circle_intersection_area(d, r1, r2)
    assert circle_intersection_area(d, r1, r2, "ramp") == pytest.approx(exact + 2 * kite)
    a, b = np.array([0.0, 0.0, r1]), np.array([0.0, d, r2])
    assert exact == pytest.approx(lens_area_by_quadrature(a, b), abs=1e-6)


def test_iou_matrix_is_symmetric_and_equals_pairwise_iou() -> None:
    true = np.column_stack([RNG.uniform(0, 30, (12, 2)), RNG.uniform(1, 8, 12)])
    pred = np.column_stack([RNG.uniform(0, 30, (9, 2)), RNG.uniform(1, 8, 9)])
    for formula in ("exact", "ramp"):
        matrix = iou_matrix(true, pred, formula)
        assert matrix.shape == (12, 9) and (matrix >= 0).all() and (matrix <= 1 + 1e-12).all()
        np.testing.assert_allclose(matrix, iou_matrix(pred, true, formula).T, rtol=1e-13)
        loop = [[circle_iou(t, p, formula) for p in pred] for t in true]
        np.testing.assert_allclose(matrix, loop, rtol=1e-13)
    assert iou_matrix(np.empty((0, 3)), pred).shape == (0, 9)


def as_object_array(images: list[Any]) -> np.ndarray:
    array = np.empty(len(images), dtype=object)
    array[:] = images
    return array


@pytest.mark.parametrize("images", [
    [np.ones((2, 3)), np.empty((0, 3)), np.arange(3.0).reshape(1, 3)],
    [[(1, 2, 3)], [], [(4, 5, 6), (7, 8, 9)]],
    [None, [(1, 2, 3)], None],
    [np.array([1.0, 2, 3]), np.ones((2, 3))],              # one circle as a flat row
    [], [[], []],
    [np.ones((2, 3), dtype=np.float32), np.ones((1, 3), dtype=int)],
    as_object_array([np.ones((2, 3)), np.full((1, 3), 2.0)]),
], ids=["arrays", "tuples", "none", "flat-row", "no-image", "empty", "dtypes", "object-array"])
def test_flatten_stacks_the_circles_of_each_image(images: Any) -> None:
    flat = flatten(images, 3)
    arrays = [as_circles(y, 3) for y in images]
    expected = np.concatenate(arrays) if arrays else np.empty((0, 3))
    assert flat.values.dtype == np.float64 and flat.n_images == len(images)
    np.testing.assert_array_equal(flat.values, expected)
    assert flat.image.tolist() == [i for i, a in enumerate(arrays) for _ in range(len(a))]


@pytest.mark.parametrize("images", [[np.ones((2, 4))], [[(1, 2)]], [np.ones((1, 3)), 5.0]])
def test_flatten_rejects_rows_of_another_width(images: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        flatten(images, 3)


def test_matching_maximises_total_iou_per_image() -> None:
    # Image 0: the greedy pair (true 0, pred 0) would leave true 1 unmatched.
    true = flatten([[(0, 0, 5), (0, 6, 5)], [], [(50, 50, 3)]], 3)
    pred = flatten([[(0, 3, 5), (0, 7, 5)], [(1, 1, 1)], []], 3)
    t, p, iou = match_images(true, pred, "exact")
    assert t.tolist() == [0, 1] and p.tolist() == [0, 1]
    np.testing.assert_allclose(iou, [circle_iou((0, 0, 5), (0, 3, 5)),
                                     circle_iou((0, 6, 5), (0, 7, 5))])


def test_rasterized_circles_hold_the_pixels_strictly_inside() -> None:
    """Integer centres and radii: pixel (i, j) is inside iff (i-r)² + (j-c)² < rho² exactly."""
    shape = (40, 30)
    circles = np.array([[20, 15, 5], [0, 0, 7], [39, 29, 3], [10, 25, 13], [5, 5, 0],
                        [-3, 12, 4], [20, 60, 4], [17.5, 9.25, 6.5]], dtype=float)
    circle, row, lo, hi = rasterize(circles, shape)
    i, j = np.mgrid[0:shape[0], 0:shape[1]]
    for k, (r, c, rho) in enumerate(circles):
        mask = np.zeros(shape, dtype=bool)
        for rr, a, b in zip(row[circle == k], lo[circle == k], hi[circle == k], strict=True):
            mask[rr, a:b + 1] = True
        expected = ((i - r) ** 2 + (j - c) ** 2) < rho ** 2
        np.testing.assert_array_equal(mask, expected, err_msg=str(circles[k]))
    assert (circle == 0).sum() == 9 and (hi - lo + 1)[circle == 0].sum() == 69


def test_row_chords_are_every_row_of_each_box_with_the_pixels_of_rasterize() -> None:
    """Each circle's rows in order (empty ones with lo > hi), none without pixels."""
    shape = (40, 30)
    circles = np.array([[20, 15, 5], [0, 0, 7], [39, 29, 3], [10, 25, 13], [5, 5, 0],
                        [-3, 12, 4], [20, 60, 4], [17.5, 9.25, 6.5], [-2.5, -2.5, 3.0],
                        [3.0, 31.0, 1.5]], dtype=float)
    circle, local_row, top, n_rows, lo, hi = row_chords(circles, shape)
    assert circle.tolist() == np.repeat(np.arange(len(circles)), n_rows).tolist()
    assert n_rows[4] == n_rows[6] == n_rows[9] == 0   # radius 0, outside the image
    i, j = np.mgrid[0:shape[0], 0:shape[1]]
    for k, (r, c, rho) in enumerate(circles):
        mine = circle == k
        assert local_row[mine].tolist() == list(range(n_rows[k]))
        rows = top[k] + local_row[mine]
        assert ((rows >= 0) & (rows < shape[0])).all()
        expected = ((i - r) ** 2 + (j - c) ** 2) < rho ** 2   # exact: values are dyadic
        full = lo[mine] <= hi[mine]
        assert rows[full].tolist() == np.flatnonzero(expected.any(axis=1)).tolist()
        for row, first, last in zip(rows[full], lo[mine][full], hi[mine][full], strict=True):
            assert np.flatnonzero(expected[row]).tolist() == list(range(first, last + 1))
    assert (lo > hi).any()   # some rows of a box hold no pixel (e.g. the corner circle)


def crowded(n_images: int, seed: int, size: float = 60.0) -> tuple[list[Any], list[Any]]:
    """Images packed with overlapping circles, detections jittered around them."""
    rng = np.random.default_rng(seed)
    y_true, y_pred = [], []
    for _ in range(n_images):
        k = int(rng.integers(0, 14))
        true = np.column_stack([rng.uniform(-5, size + 5, (k, 2)), rng.uniform(1, 12, k)])
        found = true[rng.random(k) < 0.8]
        jitter = found + rng.normal(0, 1.5, found.shape)
        extra = np.column_stack([rng.uniform(0, size, (3, 2)), rng.uniform(1, 12, 3)])
        circles = np.vstack([jitter, extra, found[:1]])   # and an exact duplicate
        circles[:, 2] = np.abs(circles[:, 2]) + 0.5
        y_true.append(true)
        y_pred.append(np.column_stack([rng.uniform(0, 1, len(circles)), circles]))
    return y_true, y_pred


def test_near_pairs_are_the_pairs_whose_boxes_overlap() -> None:
    y_true, y_pred = crowded(6, 1)
    true, pred = flatten(y_true, 3), flatten([p[:, 1:] for p in y_pred], 3)
    i, j = near_pairs(true, true.values[:, 2], pred, pred.values[:, 2])
    expected = [(a, b) for a in range(len(true.values)) for b in range(len(pred.values))
                if true.image[a] == pred.image[b]
                and (np.abs(true.values[a, :2] - pred.values[b, :2])
                     < true.values[a, 2] + pred.values[b, 2]).all()]
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == expected


def boxes_overlapping(a: Any, reach_a: np.ndarray, b: Any, reach_b: np.ndarray,
                      within: bool) -> list[tuple[int, int]]:
    """The plain way: every pair of rows of the same image, tested one by one."""
    return [(i, j) for i in range(len(a.values)) for j in range(len(b.values))
            if a.image[i] == b.image[j] and (not within or i < j)
            and abs(a.values[i, 0] - b.values[j, 0]) < reach_a[i] + reach_b[j]
            and abs(a.values[i, 1] - b.values[j, 1]) < reach_a[i] + reach_b[j]]


@pytest.mark.parametrize("chunk", [4096, 3, 1])
def test_near_pairs_of_two_sets_and_of_one_set_with_itself(monkeypatch: pytest.MonkeyPatch,
                                                           chunk: int) -> None:
    """Boxes that just touch (not kept), identical circles, empty images, one circle."""
    monkeypatch.setattr(pairs, "NEAR_CHUNK", chunk)   # candidates tested a few rows at a time
    y_true, y_pred = crowded(9, 5)
    images_a = [np.asarray(t, dtype=float).reshape(-1, 3) for t in y_true]
    images_b = [np.asarray(p, dtype=float)[:, 1:] for p in y_pred]
    images_a[0] = np.array([[10.0, 10.0, 2.0], [10.0, 14.0, 2.0], [10.0, 14.0, 2.0],
                            [13.0, 10.0, 1.0], [10.0, 10.0, 2.0]])   # touching, identical
    images_b[0] = np.array([[10.0, 6.0, 2.0], [14.0, 14.0, 2.0], [10.0, 10.0, 1.0]])
    images_a[1], images_b[2] = np.empty((0, 3)), np.empty((0, 3))     # empty on one side
    images_a[3], images_b[3] = np.empty((0, 3)), np.empty((0, 3))     # on both
    images_a[4], images_b[4] = images_a[4][:1], images_b[4][:1]       # one circle each
    images_a[5] = np.array([[0.0, 0.0, 5.0], [0.0, 0.0, 5.0]])        # identical, at a corner
    a, b = flatten(images_a, 3), flatten(images_b, 3)
    reach_a, reach_b = a.values[:, 2], b.values[:, 2] + 0.25
    for got, expected in [
            (near_pairs(a, reach_a, b, reach_b), boxes_overlapping(a, reach_a, b, reach_b, False)),
            (near_pairs(a, reach_a), boxes_overlapping(a, reach_a, a, reach_a, True)),
            (near_pairs(b, reach_b), boxes_overlapping(b, reach_b, b, reach_b, True))]:
        assert list(zip(*(x.tolist() for x in got), strict=True)) == expected
    i, j = near_pairs(a, reach_a)
    assert (0, 4) in zip(i.tolist(), j.tolist(), strict=True)   # identical circles pair up
    assert not {(0, 1), (0, 3)} & set(zip(i.tolist(), j.tolist(), strict=True))   # touching
    one = flatten([np.array([[1.0, 1.0, 1.0]])], 3)
    assert [x.tolist() for x in near_pairs(one, one.values[:, 2])] == [[], []]


@pytest.mark.parametrize("chunk", [8192, 5, 1])
def test_pair_iou_is_the_iou_of_every_overlapping_pair(monkeypatch: pytest.MonkeyPatch,
                                                       chunk: int) -> None:
    monkeypatch.setattr(geometry, "IOU_CHUNK", chunk)   # a few pairs at a time
    y_true, y_pred = crowded(7, 3)
    true, pred = flatten(y_true, 3), flatten([p[:, 1:] for p in y_pred], 3)
    t, p, iou = geometry.pair_iou(true, pred, "ramp")
    assert len(t) > 10
    for a, b, value in zip(t.tolist(), p.tolist(), iou.tolist(), strict=True):
        assert value == circle_iou(true.values[a], pred.values[b], "ramp")
    # Every pair left out has IoU 0.
    left_out = np.ones((len(true.values), len(pred.values)), dtype=bool)
    left_out[t, p] = False
    same_image = true.image[:, None] == pred.image[None, :]
    assert (iou_matrix(true.values, pred.values, "ramp")[left_out & same_image] == 0).all()


@pytest.mark.parametrize("enumerated", [0, 720], ids=["solver", "enumeration"])
def test_grouped_matching_equals_one_assignment_per_image(monkeypatch: pytest.MonkeyPatch,
                                                          enumerated: int) -> None:
    monkeypatch.setattr(matching, "ENUMERATED_CHOICES", enumerated)
    y_true, y_pred = crowded(40, 2)
    true, pred = flatten(y_true, 3), flatten([p[:, 1:] for p in y_pred], 3)
    expected = []
    for image, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        if len(t) and len(p):
            matrix = iou_matrix(t, p[:, 1:], "ramp")
            rows, cols = linear_sum_assignment(1 - matrix)
            offset_t, offset_p = (np.flatnonzero(flat.image == image)[0] for flat in (true, pred))
            expected += [(r + offset_t, c + offset_p, matrix[r, c])
                         for r, c in zip(rows, cols, strict=True) if matrix[r, c] > 0]
    t, p, iou = match_images(true, pred, "ramp", keep_zero=False)
    assert [(a, b) for a, b, _ in expected] == list(zip(t.tolist(), p.tolist(), strict=True))
    np.testing.assert_allclose(iou, [v for _, _, v in expected], rtol=1e-13)
    full = match_images(true, pred, "ramp", keep_zero=True)
    assert len(full[0]) == sum(min(len(a), len(b)) for a, b in zip(y_true, y_pred, strict=True))


def scp_by_dense_maps(y_true: list[Any], y_pred: list[Any], shape: tuple[int, int],
                      window: list[int], conf_threshold: float = 0.5) -> float:
    """SCP the plain way: one map per image, circles drawn pixel by pixel."""
    i, j = np.mgrid[0:shape[0], 0:shape[1]]

    def draw(circles: np.ndarray) -> np.ndarray:
        image = np.zeros(shape)
        for r, c, rho in circles:
            top, left = max(math.ceil(r - rho), 0), max(math.ceil(c - rho), 0)
            mask = ((i - top - (r - top)) / rho) ** 2 + ((j - left - (c - left)) / rho) ** 2 < 1
            if mask.any():
                image += mask / mask.sum()
        return image[window[0]:window[1], window[2]:window[3]]

    residual = mass = 0.0
    for true, pred in zip(y_true, y_pred, strict=True):
        t = draw(true)
        p = draw(pred[pred[:, 0] > conf_threshold, 1:])
        residual += np.abs(t - p).sum()
        mass += t.sum() + p.sum()
    return residual / mass


@pytest.mark.parametrize(("seed", "chunk"), [(3, 4096), (4, 4096), (4, 7)])
def test_scp_equals_the_dense_map_computation(monkeypatch: pytest.MonkeyPatch, seed: int,
                                              chunk: int) -> None:
    monkeypatch.setattr(S, "SCP_CHUNK", chunk)   # 7: a few images at a time
    y_true, y_pred = crowded(12, seed)
    window = [5, 50, 8, 60]
    scp = build("scp", shape=[60, 64], minipatch=window)
    assert scp(objects(y_true, 3), objects(y_pred, 4)) == pytest.approx(
        scp_by_dense_maps(y_true, y_pred, (60, 64), window), abs=1e-12)


def awkward(n_images: int, seed: int) -> tuple[list[Any], list[Any]]:
    """Images that stress SCP: borders, tiny and huge radii, piles of one side, no detection."""
    rng = np.random.default_rng(seed)
    y_true, y_pred = [], []
    for image in range(n_images):
        k = int(rng.integers(0, 9)) if image % 5 else 0   # every fifth image: no true circle
        true = np.column_stack([rng.uniform(-15, 75, (k, 2)), rng.uniform(0.2, 14, k)])
        if k and rng.random() < 0.3:
            true[0, 2] = rng.uniform(40, 120)   # covers most of the image, or all of it
        if k:   # true circles piled on the first one
            pile = true[:1] + rng.normal(0, 2, (int(rng.integers(0, 4)), 3)) * [1, 1, 0.2]
            true = np.vstack([true, np.abs(pile)])
        found = true[rng.random(len(true)) < 0.7] + rng.normal(0, 1.5, (1, 3)) * [1, 1, 0.1]
        extra = np.column_stack([rng.uniform(-10, 70, (3, 2)), rng.uniform(0.3, 16, 3)])
        circles = np.vstack([found, found[:2] + 0.5, extra]) if image % 7 else np.empty((0, 3))
        circles[:, 2] = np.abs(circles[:, 2]) + 0.1
        y_true.append(true)
        y_pred.append(np.column_stack([rng.uniform(0, 1, len(circles)), circles]))
    return y_true, y_pred


@pytest.mark.parametrize("lookup_rows", [1 << 22, 0], ids=["table", "bisection"])
@pytest.mark.parametrize(("seed", "chunk"), [(5, 4096), (6, 4096), (7, 9)])
def test_scp_equals_the_dense_maps_on_awkward_images(monkeypatch: pytest.MonkeyPatch,
                                                     seed: int, chunk: int,
                                                     lookup_rows: int) -> None:
    monkeypatch.setattr(S, "SCP_CHUNK", chunk)
    monkeypatch.setattr(S, "LOOKUP_ROWS", lookup_rows)   # 0: image rows found by bisection
    y_true, y_pred = awkward(40, seed)
    for window in ([5, 50, 8, 60], [0, 60, 0, 64], [20, 21, 0, 64]):
        scp = build("scp", shape=[60, 64], minipatch=window)
        assert scp(objects(y_true, 3), objects(y_pred, 4)) == pytest.approx(
            scp_by_dense_maps(y_true, y_pred, (60, 64), window), abs=1e-12), window


@pytest.mark.parametrize("images", [
    pytest.param([[(1, 2, 3)], [], None, [(4, 5, 6), (7, 8, 9)]], id="lists-and-none"),
    pytest.param(np.arange(12.0).reshape(2, 2, 3), id="3d-array"),
    pytest.param([np.array([1.0, 2, 3]), np.empty((0, 3)), np.arange(6).reshape(2, 3)],
                 id="1d-row-and-int-array"),
])
def test_flatten_accepts_the_usual_containers(images: Any) -> None:
    flat = flatten(images, 3)
    expected = [as_circles(y, 3) for y in images]
    np.testing.assert_array_equal(flat.values, np.concatenate(expected))
    np.testing.assert_array_equal(flat.counts(), [len(e) for e in expected])
    assert flat.values.dtype == np.float64


# --------------------------------------------------------------------------- definitions


def value(score: BaseScore, y_true: Any, y_pred: Any) -> float:
    """The score as a run records it: NaN when the score is undefined (ramp-workflow's NaN)."""
    try:
        return score(y_true, y_pred)
    except UndefinedScore:
        return float("nan")


def score_values(y_true: list[Any], y_pred: list[Any], **kwargs: Any) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return {name: value(score, y_true, y_pred)
                for name, score in mars_scores(**kwargs).items()}


NAN = float("nan")


@pytest.mark.parametrize(("y_true", "y_pred", "expected"), [
    pytest.param([[], []], [[], []],
                 {"ap": 0, "ospa": 1, "scp": NAN, "prec(0.5)": NAN, "rec(0.5)": NAN,
                  "madc": NAN, "madr": NAN}, id="no-truth-no-detection"),
    pytest.param([[(100, 100, 5)], []], [[], [(0.3, 90, 90, 5)]],
                 {"ap": 0, "ospa": 1, "scp": 1, "prec(0.5)": NAN, "rec(0.5)": 0,
                  "madc": NAN, "madr": NAN}, id="truth-without-detection"),
    pytest.param([[], []], [[(0.9, 100, 100, 5)], []],
                 {"ap": NAN, "ospa": 1, "scp": 1, "prec(0.5)": 0, "rec(0.5)": NAN,
                  "madc": NAN, "madr": NAN}, id="detection-without-truth"),
    pytest.param([[(100, 100, 5)], [(50, 60, 8)]], [[(0.9, 100, 100, 5)], [(0.8, 50, 60, 8)]],
                 {"ap": 1, "ospa": 0, "scp": 0, "prec(0.5)": 1, "rec(0.5)": 1,
                  "madc": 0, "madr": 0}, id="perfect"),
])
def test_empty_images_give_ramp_values_without_warnings(y_true: list[Any], y_pred: list[Any],
                                                        expected: dict[str, float]) -> None:
    values = score_values(y_true, y_pred)
    for name, want in expected.items():
        if math.isnan(want):
            assert math.isnan(values[name]), name
        else:
            assert values[name] == pytest.approx(want, abs=1e-12), name


def test_confidence_threshold_is_strict_and_ap_ranks_every_detection() -> None:
    y_true = [[(100, 100, 5)]]
    at_threshold = [[(0.5, 100, 100, 5)]]
    assert math.isnan(value(build("detection_precision"), y_true, at_threshold))
    assert build("detection_recall")(y_true, at_threshold) == 0
    assert build("detection_recall", conf_threshold=0.4)(y_true, at_threshold) == 1
    assert build("average_precision")(y_true, at_threshold) == 1


def test_window_filters_detections_for_precision_and_truths_for_recall() -> None:
    window = {"minipatch": [10, 20, 10, 20]}
    # The true circle's centre is on row_max (excluded), the detection's inside.
    y_true, y_pred = [[(20, 15, 3)]], [[(0.9, 19.5, 15, 3)]]
    assert ramp_build("detection_precision", **window)(y_true, y_pred) == 1  # matched to all truths
    assert math.isnan(value(ramp_build("detection_recall", **window), y_true, y_pred))
    assert ramp_build("detection_recall")(y_true, y_pred) == 1
    assert math.isnan(value(ramp_build("mad_center", **window), y_true, y_pred))
    # OSPA matches everything but counts the circles in the window only; a pair
    # with both ends counted contributes its IoU twice.
    y_true = [[(20, 15, 3), (5, 5, 2)]]
    iou = float(circle_iou((20, 15, 3), (19.5, 15, 3), "ramp"))
    assert ramp_build("ospa", **window)(y_true, y_pred) == pytest.approx(1 - iou / 1)
    assert ramp_build("ospa")(y_true, y_pred) == pytest.approx(1 - 2 * iou / 3)


def test_precision_and_recall_count_matched_pairs_above_the_iou_threshold() -> None:
    y_true = [[(50, 50, 10), (100, 100, 10)], [(20, 20, 5)]]
    y_pred = [[(0.9, 50, 51, 10), (0.9, 100, 112, 10), (0.9, 150, 150, 4)], []]
    ious = [float(circle_iou((50, 50, 10), (50, 51, 10), "ramp")),
            float(circle_iou((100, 100, 10), (100, 112, 10), "ramp"))]
    assert ious[0] > 0.9 > ious[1] > 0
    assert ramp_build("detection_precision", iou_threshold=0.9)(y_true, y_pred) == 1 / 3
    assert ramp_build("detection_precision", iou_threshold=0.0)(y_true, y_pred) == 2 / 3
    assert ramp_build("detection_recall", iou_threshold=0.9)(y_true, y_pred) == 1 / 3
    assert ramp_build("detection_recall", iou_threshold=0.0)(y_true, y_pred) == 2 / 3
    madc = ramp_build("mad_center", iou_threshold=0.0)(y_true, y_pred)
    assert madc == pytest.approx((1 / 10 + 12 / 10) / 2)
    assert ramp_build("mad_radius")(y_true, [[(0.9, 50, 50, 11)], []]) == pytest.approx(0.1)


def test_average_precision_is_greedy_over_the_ranking() -> None:
    # Two detections on the same crater: the second one is a false positive.
    y_true = [[(50, 50, 10), (120, 120, 10)]]
    y_pred = [[(0.9, 50, 50, 10), (0.8, 50, 51, 10), (0.7, 120, 120, 10)]]
    # precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1: area 1/2 * 1 + 1/2 * 2/3.
    assert build("average_precision")(y_true, y_pred) == pytest.approx(0.5 + 1 / 3)
    # The best true circle of the second detection is taken: a miss, although it
    # overlaps the other true circle well (an optimal matching would pair them).
    y_true = [[(50, 50, 10), (50, 53, 10)]]
    y_pred = [[(0.9, 50, 50, 10), (0.8, 50, 51, 10)]]
    assert build("average_precision")(y_true, y_pred) == pytest.approx(0.5)
    assert build("detection_recall")(y_true, y_pred) == 1
    # A detection midway between two true circles (equal IoUs) takes the first one, as
    # np.argmax: the next detection, best on that one too, is a miss.
    y_true = [[(10, 10, 3), (10, 11, 3)]]
    y_pred = [[(0.9, 10, 10.5, 3), (0.8, 10, 10.1, 3)]]
    assert build("average_precision")(y_true, y_pred) == pytest.approx(0.5)


def test_scp_is_the_normalised_l1_distance_of_the_circle_maps() -> None:
    scp = build("scp", shape=[64, 64])
    # sum |T - P| is computed as sum T + sum P - 2 sum min(T, P): exact up to rounding.
    assert scp([[(30, 30, 5)]], [[(0.9, 30, 30, 5)]]) == pytest.approx(0, abs=1e-12)
    assert scp([[(10, 10, 5)]], [[(0.9, 40, 40, 5)]]) == pytest.approx(1)
    # Same circle, detected twice: maps 1 and 2 on the same pixels -> 1 / 3.
    assert scp([[(30, 30, 5)]], [[(0.9, 30, 30, 5), (0.9, 30, 30, 5)]]) == pytest.approx(1 / 3)
    # A circle cut by the window keeps its full-image normalisation.
    cropped = build("scp", shape=[64, 64], minipatch=[0, 30, 0, 64])
    assert cropped([[(30, 30, 5)]], [[]]) == pytest.approx(1)


def test_exact_iou_formula_changes_only_partial_overlaps() -> None:
    y_true, y_pred = [[(50, 50, 10)]], [[(0.9, 50, 58, 10)]]
    ramp = ramp_build("detection_recall")(y_true, y_pred)
    exact = build("detection_recall")(y_true, y_pred)
    assert (ramp, exact) == (1, 0)   # IoU 0.94 with RAMP's formula, 0.34 exactly


# --------------------------------------------------------------------------- bagging


def folds(*per_fold: list[Any]) -> list[np.ndarray]:
    arrays = []
    for fold in per_fold:
        array = np.empty(len(fold), dtype=object)
        array[:] = [None if image is None else as_circles(image, 4) for image in fold]
        arrays.append(array)
    return arrays


def test_combine_keeps_single_predictions_and_none() -> None:
    combined = combine_detections(folds([[(0.7, 5, 5, 2)], None], [None, None]))
    np.testing.assert_array_equal(combined[0], [[0.7, 5, 5, 2]])
    assert combined[1] is None


def test_combine_merges_confirmed_detections_and_drops_the_others() -> None:
    combined = combine_detections(folds(
        [[(0.8, 50, 50, 10), (0.9, 10, 10, 3)]],
        [[(0.4, 50, 52, 10)]],
        [None],
        [[]]))[0]
    # Three folds predicted the image: confidence (0.8 + 0.4) / 3, positions
    # weighted by confidence; the detection that no other fold found is dropped.
    np.testing.assert_allclose(combined, [[0.4, 50, (0.8 * 50 + 0.4 * 52) / 1.2, 10]])


def test_combine_chains_matches_across_folds_and_averages_zero_confidences() -> None:
    combined = combine_detections(folds(
        [[(0.0, 20, 20, 6), (0.0, 80, 80, 6)]],
        [[(0.0, 20, 21, 6), (0.0, 80, 81, 6)]],
        [[(0.0, 20, 22, 6)]]))[0]
    np.testing.assert_allclose(combined, [[0, 20, 21, 6], [0, 80, 80.5, 6]])


def test_combine_checks_the_number_of_images() -> None:
    with pytest.raises(ValueError, match=r"one element per image: got lengths \[2, 1\]"):
        combine_detections(folds([None, None], [None]))


# --------------------------------------------------------------------------- plugins and YAML


def test_registry_lists_the_detection_scores() -> None:
    assert set(SCORE_TYPES) <= set(registry.available("score"))


@pytest.mark.parametrize("score_type", sorted(SCORE_TYPES))
def test_entry_point_direction_bounds_and_yaml_option(score_type: str) -> None:
    class_name, greater_is_better, bounds = SCORE_TYPES[score_type]
    cls = registry.get("score", score_type)
    assert cls is getattr(D, class_name) and issubclass(cls, BaseScore)
    assert cls.__doc__ and cls.__doc__.strip().splitlines()[0].endswith(".")
    assert cls.greater_is_better is greater_is_better
    assert (cls.minimum, cls.maximum) == bounds
    text = (CONF / f"{score_type}.yaml").read_text()
    option = yaml.safe_load(text)
    assert option.pop("type") == score_type
    name, precision = option.pop("name"), option.pop("precision")
    assert isinstance(name, str) and precision == cls.default_precision == 3
    # the YAML lists every default but those left to the run's compat option
    expected = cls.Params().model_dump(mode="json")
    for key in compat_defaults(cls.Params, "ramp"):
        expected[key] = None  # null: the field's default, or the compat mode's
    assert option == expected
    assert build(score_type, **option).params == cls.Params()


@pytest.mark.parametrize(("score_type", "params", "field"), [
    pytest.param("ospa", {"minipatch": [28, 196, 28]}, "minipatch", id="minipatch-length"),
    pytest.param("scp", {"minipatch": [196, 28, 28, 196]}, "minipatch", id="minipatch-order"),
    pytest.param("detection_recall", {"minipatch": [-1, 5, 0, 5]}, "minipatch",
                 id="minipatch-negative"),
    pytest.param("detection_precision", {"conf_threshold": 1.5}, "conf_threshold",
                 id="conf-above-1"),
    pytest.param("mad_center", {"conf_threshold": -0.1}, "conf_threshold", id="conf-below-0"),
    pytest.param("detection_recall", {"iou_threshold": 2}, "iou_threshold", id="iou-above-1"),
    pytest.param("average_precision", {"iou_threshold": -1}, "iou_threshold", id="ap-iou"),
    pytest.param("mad_radius", {"iou_formula": "exactly"}, "iou_formula", id="iou-formula"),
    pytest.param("scp", {"shape": [224]}, "shape", id="shape-length"),
    pytest.param("scp", {"shape": [224, 0]}, "shape", id="shape-zero"),
    pytest.param("average_precision", {"minipatch": WINDOW}, "minipatch", id="ap-no-window"),
])
def test_params_validation_names_the_field(score_type: str, params: dict[str, Any],
                                           field: str) -> None:
    cls = registry.get("score", score_type)
    with pytest.raises(ValidationError) as error:
        cls.Params(**params)
    assert error.value.errors()[0]["loc"][0] == field
    with pytest.raises(ConfigError, match=rf"^scores\.{score_type}\.{field}"):
        build(score_type, **params)


def test_mismatched_image_counts_are_reported() -> None:
    with pytest.raises(ValueError, match="y_true has 2 images but y_pred has 1"):
        build("ospa")([[], []], [[]])
