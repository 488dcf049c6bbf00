"""The all-images-at-once detection code against straightforward per-image references.

Bagging (``combine_detections``) is compared with :func:`merge_detections` (below)
applied image by image, the matching with ramp-workflow's choice among equal
optima (``ties="ramp"``) with one ``linear_sum_assignment`` per image, and the
matching scores (which share their pairs and matchings between scores) with
per-image loops written the plain way. The data hold the awkward cases: images
without true circles, without detections or without both, equal confidences,
identical circles (so that IoUs tie exactly), integer coordinates and circles
centred exactly on the borders of the scoring window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rampconf_detection import matching, shared
from rampconf_detection.combine import _numbered_by_first, combine_detections
from rampconf_detection.geometry import as_circles, flatten, in_window, iou_matrix, match_images
from rampconf_detection.scores import average_precision
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from rampconf.compat import compat_mode
from rampconf.plugin import make_plugin
from rampconf.scores import BaseScore, UndefinedScore

WINDOW = [10, 50, 12, 48]


def awkward(n_images: int, seed: int, integer: bool = False) -> tuple[list[np.ndarray],
                                                                      list[np.ndarray]]:
    """True circles and detections of ``n_images`` images, with every awkward case."""
    rng = np.random.default_rng(seed)
    y_true, y_pred = [], []
    for image in range(n_images):
        k = int(rng.integers(0, 10))
        true = np.column_stack([rng.uniform(-3, 63, (k, 2)), rng.uniform(1, 10, k)])
        if k >= 2:
            true[1] = true[0]                              # two identical true circles
        if k >= 3:                                         # centres on the window's borders
            true[2, :2] = [WINDOW[0], WINDOW[3]]
        found = true[rng.random(k) < 0.8]
        jitter = found + rng.normal(0, 1.2, found.shape)
        extra = np.column_stack([rng.uniform(0, 60, (2, 2)), rng.uniform(1, 10, 2)])
        circles = np.vstack([jitter, extra, found[:1], found[:1]])   # exact duplicates
        if len(circles) >= 4:
            circles[3, :2] = [WINDOW[1], WINDOW[2]]
        circles[:, 2] = np.abs(circles[:, 2]) + 0.5
        if integer:
            true, circles = np.round(true), np.round(circles)
        confidence = rng.choice([0.2, 0.5, 0.7, 0.9], len(circles))   # equal confidences
        case = image % 7
        if case == 1:
            true = true[:0]                                # no true circle
        elif case == 2:
            circles = circles[:0]                          # no detection
            confidence = confidence[:0]
        elif case == 3:
            true, circles, confidence = true[:0], circles[:0], confidence[:0]
        y_true.append(true)
        y_pred.append(np.column_stack([confidence, circles]))
    return y_true, y_pred


def objects(images: list[Any]) -> np.ndarray:
    array = np.empty(len(images), dtype=object)
    array[:] = [None if image is None else np.asarray(image, dtype=float) for image in images]
    return array


# --------------------------------------------------------------------------- bagging


def folds_of(seed: int, n_folds: int, n_images: int = 120, integer: bool = False
             ) -> list[np.ndarray]:
    """Detections of several folds, with images no fold, one fold or several folds predict."""
    rng = np.random.default_rng(seed)
    _, base = awkward(n_images, seed, integer)
    folds = []
    for _ in range(n_folds):
        images: list[Any] = []
        for image, detections in enumerate(base):
            if image % 11 == 0 or rng.random() < 0.15:
                images.append(None)                        # not predicted by this fold
                continue
            moved = detections.copy()
            keep = rng.random(len(moved)) < 0.85
            moved[:, 1:3] += rng.normal(0, 0.8, (len(moved), 2)) * (rng.random() < 0.7)
            if integer:
                moved[:, 1:] = np.round(moved[:, 1:])
            if image % 13 == 5:
                moved[:, 0] = 0.0                          # all-zero confidences
            images.append(moved[keep])
        folds.append(objects(images))
    return folds


def merge_detections(preds: list[np.ndarray], iou_threshold: float = 0.5,
                     iou_formula: Any = "exact") -> np.ndarray:
    """The per-image reference: merge the detections of ``n >= 2`` folds on one image.

    Every pair of folds is matched optimally (maximum summed IoU); matched
    detections with IoU above ``iou_threshold`` are linked. Each connected group
    of linked detections becomes one detection: position and radius averaged
    with the confidences as weights, confidence ``sum(confidences) / n`` (a
    fold that missed the object lowers it). A detection that no other fold
    confirms is dropped. Groups come in the order of their first detection
    (fold, then row); a group whose confidences are all 0 is the plain mean.

    Returns
    -------
    ndarray of shape (g, 4)
        ``(confidence, row, col, radius)`` of the merged detections.
    """
    offsets = np.cumsum([0] + [len(p) for p in preds])
    sources, targets = [], []
    for a in range(len(preds)):
        for b in range(a + 1, len(preds)):
            iou = iou_matrix(preds[a][:, 1:], preds[b][:, 1:], iou_formula)
            rows, cols = linear_sum_assignment(1.0 - iou)
            linked = iou[rows, cols] > iou_threshold
            sources.append(rows[linked] + offsets[a])
            targets.append(cols[linked] + offsets[b])
    source, target = np.concatenate(sources), np.concatenate(targets)
    if not len(source):
        return np.empty((0, 4))
    n_nodes = int(offsets[-1])
    graph = coo_matrix((np.ones(len(source)), (source, target)), shape=(n_nodes, n_nodes))
    _, label = connected_components(graph, directed=False)
    linked_node = np.zeros(n_nodes, dtype=bool)
    linked_node[source] = linked_node[target] = True
    nodes = np.flatnonzero(linked_node)                  # sorted: fold, then row
    # Groups in order of their first node, as RAMP lists its connected components.
    _, first, group = np.unique(label[nodes], return_index=True, return_inverse=True)
    group = np.argsort(np.argsort(first))[group]
    order = np.argsort(group, kind="stable")
    members, group = np.concatenate(preds)[nodes[order]], group[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    confidence = members[:, 0]
    total = np.add.reduceat(confidence, starts)
    merged = np.empty((len(starts), 4))
    with np.errstate(divide="ignore", invalid="ignore"):
        merged[:, 1:] = np.add.reduceat(members[:, 1:] * confidence[:, None], starts,
                                        axis=0) / total[:, None]
    merged[:, 0] = total / len(preds)
    zero = total == 0
    if zero.any():   # no weights: the plain mean, confidence 0
        size = np.diff(np.r_[starts, len(members)])
        merged[zero] = (np.add.reduceat(members, starts, axis=0) / size[:, None])[zero]
    return merged


def bagged_image_by_image(folds: list[np.ndarray], iou_threshold: float, formula: str
                          ) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = []
    for image in range(len(folds[0])):
        preds = [as_circles(fold[image], 4) for fold in folds if fold[image] is not None]
        if not preds:
            out.append(None)
        elif len(preds) == 1:
            out.append(preds[0])
        else:
            out.append(merge_detections(preds, iou_threshold, formula))   # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("formula", ["ramp", "exact"])
@pytest.mark.parametrize(("seed", "n_folds", "integer", "threshold"), [
    (0, 2, False, 0.5), (1, 3, False, 0.5), (2, 4, True, 0.5), (3, 3, True, 0.0),
    (4, 5, False, 0.3)])
def test_combine_equals_merging_image_by_image(formula: str, seed: int, n_folds: int,
                                               integer: bool, threshold: float) -> None:
    folds = folds_of(seed, n_folds, integer=integer)
    combined = combine_detections(folds, threshold, formula)   # type: ignore[arg-type]
    expected = bagged_image_by_image(folds, threshold, formula)
    assert len(combined) == len(expected)
    for image, (got, want) in enumerate(zip(combined, expected, strict=True)):
        if want is None:
            assert got is None, image
            continue
        assert got.shape == want.shape, image
        np.testing.assert_array_equal(got, want, err_msg=f"image {image}")   # bit for bit


@pytest.mark.parametrize(("label", "expected"), [
    ([], []), ([0], [0]), ([0, 0, 1, 0, 2, 1], [0, 0, 1, 0, 2, 1]),   # already in order
    ([1, 0], [0, 1]), ([2, 2, 0, 1, 0], [0, 0, 1, 2, 1]), ([0, 2, 1], [0, 1, 2]),
    ([3, 1, 3, 0], [0, 1, 0, 2])])
def test_groups_are_numbered_in_order_of_their_first_detection(label: list[int],
                                                                expected: list[int]) -> None:
    got = _numbered_by_first(np.array(label, dtype=np.intp))
    assert got.tolist() == expected


def test_combine_of_one_fold_and_of_folds_without_detections() -> None:
    fold = objects([None, np.empty((0, 4)), np.array([[0.5, 1.0, 2.0, 3.0]])])
    empty = objects([None, np.empty((0, 4)), np.empty((0, 4))])
    alone = combine_detections([fold])
    assert alone[0] is None and alone[1].shape == (0, 4)
    np.testing.assert_array_equal(alone[2], [[0.5, 1.0, 2.0, 3.0]])
    both = combine_detections([fold, empty])
    assert both[0] is None and both[1].shape == (0, 4)
    assert both[2].shape == (0, 4)   # nothing confirms the detection: dropped


# --------------------------------------------------------------------------- matching


def assignment_per_image(y_true: list[np.ndarray], y_pred: list[np.ndarray], formula: str,
                         keep_zero: bool = False) -> tuple[list[int], list[int], list[float]]:
    """Matched pairs of IoU > 0 (or all): one linear_sum_assignment per image (ramp-workflow's)."""
    t_all, p_all, v_all = [], [], []
    offset_t = offset_p = 0
    for true, pred in zip(y_true, y_pred, strict=True):
        if len(true) and len(pred):
            matrix = iou_matrix(true, pred, formula)   # type: ignore[arg-type]
            rows, cols = linear_sum_assignment(1 - matrix)
            for r, c in zip(rows, cols, strict=True):
                if keep_zero or matrix[r, c] > 0:
                    t_all.append(r + offset_t)
                    p_all.append(c + offset_p)
                    v_all.append(matrix[r, c])
        offset_t, offset_p = offset_t + len(true), offset_p + len(pred)
    return t_all, p_all, v_all


@pytest.mark.parametrize("enumerated", [0, 720], ids=["solver", "enumeration"])
@pytest.mark.parametrize(("seed", "integer", "cells"), [
    (5, False, 1 << 22), (6, True, 1 << 22), (7, True, 1 << 22), (6, True, 400), (7, True, 1)])
def test_ramp_ties_give_the_assignment_of_each_whole_image(monkeypatch: pytest.MonkeyPatch,
                                                           enumerated: int, seed: int,
                                                           integer: bool, cells: int) -> None:
    monkeypatch.setattr(matching, "ENUMERATED_CHOICES", enumerated)
    monkeypatch.setattr(matching, "SOLVE_CELLS", cells)   # 400, 1: a few images, one at a time
    y_true, y_pred = awkward(150, seed, integer)
    circles = [p[:, 1:] for p in y_pred]
    for formula in ("ramp", "exact"):
        for keep_zero in (False, True):
            t, p, iou = match_images(flatten(y_true, 3), flatten(circles, 3), formula,
                                     keep_zero=keep_zero, ties="ramp")   # type: ignore[arg-type]
            want_t, want_p, want_iou = assignment_per_image(y_true, circles, formula, keep_zero)
            assert t.tolist() == want_t
            assert p.tolist() == want_p
            np.testing.assert_array_equal(iou, want_iou)


def test_grouped_ties_around_one_circle_take_the_first_best_pair() -> None:
    """One true circle and equal detections (or one detection and equal true circles)."""
    true = flatten([np.array([[10.0, 10.0, 3.0]]), np.array([[10.0, 10.0, 3.0]] * 3),
                    np.array([[5.0, 5.0, 2.0], [5.0, 6.0, 2.0]])], 3)
    pred = flatten([np.array([[10.0, 11.0, 3.0], [10.0, 9.0, 3.0], [10.0, 11.0, 3.0]]),
                    np.array([[10.0, 11.0, 3.0]]), np.array([[5.0, 5.5, 2.0]])], 3)
    t, p, iou = match_images(true, pred, "exact", keep_zero=False, ties="grouped")
    # image 0: detections 0, 1, 2 tie; image 1: true 1, 2, 3 tie; image 2: true 4, 5 tie
    assert list(zip(t.tolist(), p.tolist(), strict=True)) == [(0, 0), (1, 3), (4, 4)]
    assert iou[0] == iou_matrix(true.values[:1], pred.values[:1])[0, 0] > 0


# --------------------------------------------------------------------------- scores


def matched_per_image(y_true: list[np.ndarray], y_pred: list[np.ndarray], conf: float,
                      true_side: bool, window: list[int]) -> list[tuple[np.ndarray, ...]]:
    """Per image: kept true circles, kept detections, and the assignment's (r, c, iou)."""
    out = []
    for true, pred in zip(y_true, y_pred, strict=True):
        pred = pred[pred[:, 0] > conf, 1:]
        if true_side:
            true = true[in_window(true, window)]
        else:
            pred = pred[in_window(pred, window)]
        if len(true) and len(pred):
            matrix = iou_matrix(true, pred, "ramp")
            r, c = linear_sum_assignment(1 - matrix)
            out.append((true, pred, r, c, matrix[r, c]))
        else:
            out.append((true, pred, np.empty(0, int), np.empty(0, int), np.empty(0)))
    return out


def reference_scores(y_true: list[np.ndarray], y_pred: list[np.ndarray]) -> dict[str, float]:
    """The matching scores of the Mars craters kit (compat=ramp), image by image."""
    values: dict[str, float] = {}
    nan = float("nan")
    for threshold in (0, 0.5, 0.9):
        per_image = matched_per_image(y_true, y_pred, 0.5, False, WINDOW)
        hits = sum(int(np.sum(v > threshold)) for *_, v in per_image)
        n_pred = sum(len(pred) for _, pred, *_ in per_image)
        values[f"prec({threshold})"] = hits / n_pred if n_pred else nan
        per_image = matched_per_image(y_true, y_pred, 0.5, True, WINDOW)
        hits = sum(int(np.sum(v > threshold)) for *_, v in per_image)
        n_true = sum(len(true) for true, *_ in per_image)
        values[f"rec({threshold})"] = hits / n_true if n_true else nan
    centre, radius = [], []
    for true, pred, r, c, v in matched_per_image(y_true, y_pred, 0.5, True, WINDOW):
        close = v >= 0.5
        t, p = true[r[close]], pred[c[close]]
        centre += list(np.hypot(p[:, 0] - t[:, 0], p[:, 1] - t[:, 1]) / t[:, 2])
        radius += list(np.abs(p[:, 2] - t[:, 2]) / t[:, 2])
    values["madc"] = float(np.mean(centre)) if centre else nan
    values["madr"] = float(np.mean(radius)) if radius else nan
    similarity = n_total = 0.0
    for true, pred in zip(y_true, y_pred, strict=True):
        pred = pred[pred[:, 0] > 0.5, 1:]
        true_in, pred_in = in_window(true, WINDOW), in_window(pred, WINDOW)
        n_total += true_in.sum() + pred_in.sum()
        if len(true) and len(pred):
            matrix = iou_matrix(true, pred, "ramp")
            r, c = linear_sum_assignment(1 - matrix)
            similarity += np.sum(matrix[r, c] * true_in[r]) + np.sum(matrix[r, c] * pred_in[c])
    values["ospa"] = 1 - similarity / n_total if n_total else 1.0
    values["ap"] = reference_ap(y_true, y_pred)
    return values


def reference_ap(y_true: list[np.ndarray], y_pred: list[np.ndarray]) -> float:
    """Greedy over the ranking: a detection takes its image's best true circle if free."""
    detections = [(image, row) for image, pred in enumerate(y_pred) for row in range(len(pred))]
    confidence = np.array([y_pred[i][row, 0] for i, row in detections])
    n_true = sum(len(t) for t in y_true)
    if not len(detections):
        return 0.0
    if not n_true:
        return float("nan")
    claimed, tp = set(), []
    for index in np.argsort(confidence)[::-1]:
        image, row = detections[index]
        hit = False
        if len(y_true[image]):
            ious = iou_matrix(y_true[image], y_pred[image][row:row + 1, 1:], "ramp")[:, 0]
            best = int(np.argmax(ious))
            if ious[best] > 0.5 and (image, best) not in claimed:
                claimed.add((image, best))
                hit = True
        tp.append(hit)
    n_tp = np.cumsum(tp)
    return average_precision(n_tp / np.arange(1, len(tp) + 1), n_tp / n_true)


def mars_scores() -> dict[str, BaseScore]:
    with compat_mode("ramp"):
        def build(score_type: str, **params: Any) -> BaseScore:
            return make_plugin("score", score_type, params, score_type, BaseScore)
        return {
            "ap": build("average_precision"),
            "ospa": build("ospa", minipatch=WINDOW),
            **{f"prec({t})": build("detection_precision", iou_threshold=t, minipatch=WINDOW)
               for t in (0, 0.5, 0.9)},
            **{f"rec({t})": build("detection_recall", iou_threshold=t, minipatch=WINDOW)
               for t in (0, 0.5, 0.9)},
            "madc": build("mad_center", minipatch=WINDOW),
            "madr": build("mad_radius", minipatch=WINDOW),
        }


def computed(scores: dict[str, BaseScore], y_true: np.ndarray, y_pred: np.ndarray,
             from_scratch: bool) -> dict[str, float]:
    values = {}
    for name, score in scores.items():
        if from_scratch:
            shared.clear()
        try:
            values[name] = score(y_true, y_pred)
        except UndefinedScore:
            values[name] = float("nan")
    return values


@pytest.mark.parametrize(("seed", "integer", "n_images"), [
    (8, False, 140), (9, True, 140), (10, True, 4), (11, False, 1)])
def test_matching_scores_equal_per_image_loops(seed: int, integer: bool, n_images: int) -> None:
    y_true, y_pred = awkward(n_images, seed, integer)
    scores = mars_scores()
    expected = reference_scores(y_true, y_pred)
    together = computed(scores, objects(y_true), objects(y_pred), from_scratch=False)
    alone = computed(scores, objects(y_true), objects(y_pred), from_scratch=True)
    assert together == pytest.approx(expected, rel=1e-12, abs=1e-15, nan_ok=True)
    # Sharing the pairs and matchings between scores changes no bit.
    assert np.array_equal(list(together.values()), list(alone.values()), equal_nan=True)


def test_shared_work_is_keyed_by_content_not_identity() -> None:
    y_true, y_pred = awkward(30, 12)
    true, pred = objects(y_true), objects(y_pred)
    recall = mars_scores()["rec(0.5)"]
    before = recall(true, pred)
    # The same arrays, changed in place: the score sees the change.
    for image in pred:
        image[:, 1] += 40.0
    after = recall(true, pred)
    shared.clear()
    assert after == recall(true, pred)
    assert after != before
    # Kept matchings cannot be changed by a score.
    work = shared.shared(flatten(y_true, 3), flatten([p[:, 1:] for p in y_pred], 3), "ramp")
    t, _, _ = work.match(np.ones(len(work.true.values), dtype=bool),
                         np.ones(len(work.pred.values), dtype=bool), keep_zero=False,
                         ties="ramp")
    with pytest.raises(ValueError, match="read-only"):
        t[:1] = 0
