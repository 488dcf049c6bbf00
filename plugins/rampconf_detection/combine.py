"""Bagging of detections: merge the circles that several folds found in the same image."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from rampconf_detection.geometry import (
    Flat,
    IoUFormula,
    as_circles,
    flatten,
    match_images,
)
from rampconf_detection.matching import stable_order

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["combine_detections"]


def combine_detections(fold_predictions: Sequence[Any], iou_threshold: float = 0.5,
                       iou_formula: IoUFormula = "exact") -> np.ndarray:
    """Bag the detections of several folds, image by image, as ramp-workflow does.

    For each image, the folds that predicted it (not ``None``) are merged:

    * one fold: its detections, unchanged;
    * two or more (``n`` of them): every pair of folds is matched optimally
      (maximum summed IoU) and matched detections with IoU above
      ``iou_threshold`` are linked; each connected group of linked detections
      becomes one detection, position and radius averaged with the confidences
      as weights, confidence ``sum(confidences) / n`` (a fold that missed the
      object lowers it); a detection no other fold confirms is dropped; groups
      come in the order of their first detection (fold, then row), and a group
      whose confidences are all 0 is the plain mean;
    * none: ``None`` (ramp-workflow returns an empty list there).

    All images are merged at once: the detections of each pair of folds are
    matched over all images together (:func:`~rampconf_detection.geometry.match_images`
    with ramp-workflow's choice among equally good matchings), the links of
    all images form one graph, and each group is averaged by one reduction.
    The values are those of that merge done image by image (a test compares them).

    Parameters
    ----------
    fold_predictions : list of object arrays
        One array per fold, one element per image: a ``(m, 4)`` array of
        ``(confidence, row, col, radius)`` (or a list of tuples), or ``None``.
    iou_threshold : float, default 0.5
        Detections of two folds are merged when their IoU is strictly above it.
    iou_formula : {"ramp", "exact"}, default "exact"
        Circle IoU (see :data:`~rampconf_detection.geometry.IoUFormula`).

    Returns
    -------
    ndarray of object
        One ``(m, 4)`` float array (or ``None``) per image.
    """
    n_images = len(fold_predictions[0])
    if any(len(fold) != n_images for fold in fold_predictions):
        raise ValueError(f"every fold must hold one element per image: got lengths "
                         f"{[len(fold) for fold in fold_predictions]}")
    predicted = np.array([[y is not None for y in fold] for fold in fold_predictions],
                         dtype=bool).reshape(len(fold_predictions), n_images)
    n_folds = predicted.sum(axis=0)
    combined = np.full(n_images, None, dtype=object)
    for image in np.flatnonzero(n_folds == 1).tolist():
        fold = int(np.argmax(predicted[:, image]))
        combined[image] = as_circles(fold_predictions[fold][image], 4)
    shared = np.flatnonzero(n_folds >= 2)
    if not len(shared):
        return combined
    flats = [flatten(fold, 4) for fold in fold_predictions]
    merged, merged_image = _merge_all(flats, predicted, iou_threshold, iou_formula)
    merged[:, 0] /= n_folds[merged_image]
    bounds = np.asarray(np.searchsorted(merged_image, np.r_[shared, n_images]))
    for index, first, last in zip(shared.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(),
                                  strict=True):
        combined[index] = merged[first:last]
    return combined


def _merge_all(flats: list[Flat], predicted: np.ndarray, iou_threshold: float,
               formula: IoUFormula) -> tuple[np.ndarray, np.ndarray]:
    """Merged detections of every image (confidence not yet divided) and their image."""
    offsets = np.cumsum([0] + [len(flat.values) for flat in flats])
    n_images = predicted.shape[1]
    # Each pair of folds is a block of images: all pairs are matched in one call.
    sides: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    for a, b in itertools.combinations(range(len(flats)), 2):
        both = predicted[a] & predicted[b]
        for side, fold in zip(sides, (a, b), strict=True):
            side.append(np.flatnonzero(both[flats[fold].image]) + offsets[fold])
    node_image = np.concatenate([flat.image for flat in flats])
    values = np.concatenate([flat.values for flat in flats])
    n_blocks = len(sides[0]) * n_images
    block_of = [np.repeat(np.arange(len(nodes)), [len(x) for x in nodes]) * n_images
                for nodes in sides]
    nodes_a, nodes_b = (np.concatenate(nodes) for nodes in sides)
    circles_a, circles_b = (Flat(values[nodes, 1:], block + node_image[nodes], n_blocks)
                            for nodes, block in zip((nodes_a, nodes_b), block_of, strict=True))
    i, j, iou = match_images(circles_a, circles_b, formula, keep_zero=iou_threshold < 0,
                             ties="ramp")
    linked = iou > iou_threshold
    source, target = nodes_a[i[linked]], nodes_b[j[linked]]
    n_nodes = int(offsets[-1])
    linked_node = np.zeros(n_nodes, dtype=bool)
    linked_node[source] = linked_node[target] = True
    nodes = np.flatnonzero(linked_node)                  # sorted: fold, then row
    # Image, fold, row (a merge of the folds' sorted runs: NumPy's merge sort).
    nodes = nodes[np.argsort(node_image[nodes], kind="stable")]
    # The graph of the linked detections, numbered in that order.
    rank = np.zeros(n_nodes, dtype=np.intp)
    rank[nodes] = np.arange(len(nodes))
    graph = coo_matrix((np.ones(len(source)), (rank[source], rank[target])),
                       shape=(len(nodes),) * 2)
    _, group = connected_components(graph, directed=False)
    # Groups in order of their first node, as RAMP lists its connected components.
    group = _numbered_by_first(group)
    order = stable_order(group)
    members, group = values[nodes[order]], group[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) \
        else np.empty(0, dtype=np.intp)
    if not len(starts):
        return np.empty((0, 4)), np.empty(0, dtype=np.intp)
    confidence = members[:, 0]
    total = np.add.reduceat(confidence, starts)
    merged = np.empty((len(starts), 4))
    with np.errstate(divide="ignore", invalid="ignore"):
        merged[:, 1:] = np.add.reduceat(members[:, 1:] * confidence[:, None], starts,
                                        axis=0) / total[:, None]
    merged[:, 0] = total
    zero = total == 0
    if zero.any():   # no weights: the plain mean, confidence 0
        size = np.diff(np.r_[starts, len(members)])
        merged[zero] = (np.add.reduceat(members, starts, axis=0) / size[:, None])[zero]
    return merged, node_image[nodes[order[starts]]]


def _numbered_by_first(label: np.ndarray) -> np.ndarray:
    """Labels renumbered 0, 1, ... in order of their first occurrence.

    SciPy's connected components already number them so (a search from each
    unlabelled node in order); that is checked, and done here when not so.
    """
    if not len(label) or (label[0] == 0 and (np.diff(np.maximum.accumulate(label)) <= 1).all()):
        return label   # each label is at most one above all those before it
    _, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse]
