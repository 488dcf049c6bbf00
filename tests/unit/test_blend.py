"""Ensemble selection on a fold, for each prediction type that bags; saved predictions read back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rampconf.blend import NOISE, select_ensemble
from rampconf.plugin import make_plugin
from rampconf.predictions import BasePrediction
from rampconf.scores import BaseScore


def prediction(name: str, **params: Any) -> BasePrediction:
    return make_plugin("prediction", name, params, "problem.prediction", BasePrediction)


def score(name: str, **params: Any) -> BaseScore:
    return make_plugin("score", name, params, f"problem.scores.{name}", BaseScore, name=name)


def test_two_opposite_errors_blend_to_the_truth():
    y = np.linspace(0.0, 10.0, 30)
    candidates = [y + 1.0, y + 3.0, y - 1.0]  # the mean of the first and the last is exact
    chosen = select_ensemble(candidates, y, prediction("regression"), score("rmse"))
    assert chosen == [0, 2]


def test_with_replacement_weights_and_max_size():
    y = np.zeros(20)
    candidates = [np.full(20, 2.0), np.full(20, -1.0)]  # best mix: 1/3 of the first, 2/3 of -1
    chosen = select_ensemble(candidates, y, prediction("regression"), score("rmse"))
    assert chosen == [1, 0, 1]
    assert select_ensemble(candidates, y, prediction("regression"), score("rmse"),
                           max_size=2) == [1, 0]
    # an improvement must be larger than min_improvement: from rmse 1 to 0.5, then 0
    assert select_ensemble(candidates, y, prediction("regression"), score("rmse"),
                           min_improvement=0.6) == [1]


def test_greater_is_better_scores_and_ties_go_to_the_lower_index():
    multiclass = prediction("multiclass", labels=[0, 1])
    multiclass.setup(np.array([0, 1]))
    y = np.array([0, 1, 1, 0, 1, 0])
    good = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4], [0.2, 0.8], [0.9, 0.1]])
    assert select_ensemble([good, good.copy()], y, multiclass, score("accuracy")) == [0]
    noisy = good.copy()
    noisy[:, 1] += NOISE / 100  # better by less than the noise: still a tie
    noisy[:, 0] -= NOISE / 100
    assert select_ensemble([good, noisy], y, multiclass, score("roc_auc")) == [0]


def test_detection_blends_with_its_own_combine():
    """Detections are merged by consensus: a false detection that one member makes is dropped."""
    detection = prediction("detection")
    truth, first, second, empty = (np.empty(4, dtype=object) for _ in range(4))
    for image in range(4):
        truth[image] = np.array([[50.0, 50.0, 10.0], [120.0, 80.0, 8.0]])
        first[image] = np.array([[0.95, 180.0, 180.0, 6.0],  # false, most confident
                                 [0.9, 50.0, 50.0, 10.0], [0.6, 120.0, 80.0, 8.0]])
        second[image] = np.array([[0.95, 30.0, 180.0, 6.0],  # another false one
                                  [0.7, 51.0, 50.0, 10.0], [0.9, 120.0, 81.0, 8.0]])
        empty[image] = np.empty((0, 4))
    ap = score("average_precision")
    candidates = [empty, first, second]
    chosen = select_ensemble(candidates, truth, detection, ap)
    assert sorted(set(chosen)) == [1, 2]
    blended = detection.combine([candidates[i] for i in chosen])
    assert ap(truth, blended) == pytest.approx(1.0)
    assert max(ap(truth, first), ap(truth, second)) < 1.0


def test_combined_prediction_blends_part_by_part():
    combined = prediction("combined", parts=[{"type": "multiclass", "params": {"labels": [0, 1]}},
                                             {"type": "regression"}])
    combined.setup(np.array([[0, 1.0], [1, 2.0]]))
    y = np.column_stack([[0, 1, 0, 1], [1.0, 2.0, 3.0, 4.0]])
    low = np.column_stack([[0.9, 0.1, 0.9, 0.1], [0.1, 0.9, 0.1, 0.9], y[:, 1] - 1])
    high = np.column_stack([[0.9, 0.1, 0.9, 0.1], [0.1, 0.9, 0.1, 0.9], y[:, 1] + 1])
    part = make_plugin("score", "part", {"score": "rmse", "index": 1, "widths": [2, 1]}, "s",
                       BaseScore, name="conc")
    assert select_ensemble([low, high], y, combined, part) == [0, 1]


@pytest.mark.parametrize("name", ["multiclass", "regression", "detection", "clustering"])
def test_saved_predictions_unpack_to_what_was_packed(name):
    kind = prediction(name, **({"labels": [0, 1, 2]} if name == "multiclass" else {}))
    if name == "multiclass":
        kind.setup(np.array([0, 1, 2]))
        y_pred = np.array([[0.2, 0.5, 0.3], [np.nan] * 3, [1.0, 0.0, 0.0]])
    elif name == "regression":
        y_pred = np.array([1.5, np.nan, -2.0])
    elif name == "clustering":
        y_pred = np.array([[0.0, 1.0], [np.nan, np.nan], [1.0, 3.0]])
    else:
        y_pred = np.array([np.array([[0.9, 1.0, 2.0, 3.0], [0.1, 4.0, 5.0, 6.0]]), None,
                           np.empty((0, 4))], dtype=object)
    back = kind.unpack(kind.pack(y_pred))
    np.testing.assert_array_equal(kind.has_prediction(back), [True, False, True])
    if name == "detection":
        for got, expected in zip(back, y_pred, strict=True):
            assert (got is None) == (expected is None)
            if got is not None:
                np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_array_equal(back, y_pred)


def test_prediction_pictures_are_drawn_on_a_figure():
    from matplotlib.figure import Figure

    multiclass = prediction("multiclass", labels=["a", "b"])
    multiclass.setup(np.array(["a", "b"]))
    figure = Figure()
    assert multiclass.plot_predictions(figure, np.array([0, 0, 1]),
                                       np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]]))
    texts = sorted(t.get_text() for t in figure.axes[0].texts)
    assert texts == ["0", "1", "1", "1"]  # counts of the confusion matrix
    figure = Figure()
    assert prediction("regression").plot_predictions(figure, np.arange(5.0), np.arange(5.0))
    assert figure.axes[0].get_xlabel() == "true value"
    assert not prediction("clustering").plot_predictions(Figure(), np.zeros((2, 2)),
                                                         np.zeros((2, 2)))
    combined = prediction("combined", parts=[{"type": "multiclass", "params": {"labels": [0, 1]}},
                                             {"type": "regression"}])
    combined.setup(np.array([[0, 1.0], [1, 2.0]]))
    figure = Figure()
    assert combined.plot_predictions(figure, np.array([[0, 1.0], [1, 2.0]]),
                                     np.array([[0.8, 0.2, 1.1], [0.3, 0.7, 2.2]]))
    assert len(figure.subfigs) == 2 and len(figure.get_axes()) == 2
