"""Weighted physics scores: AMS, weighted accuracy and AUC, with weights beside the labels."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rampconf_physics.data import COLUMNS, HiggsToy
from rampconf_physics.readers import WeightedCSV
from rampconf_physics.scores import AMS, WeightedAccuracy, WeightedROCAUC, ams
from sklearn import metrics

from rampconf import registry
from rampconf.errors import DataError
from rampconf.plugin import make_plugin
from rampconf.scores import BaseScore, BaseWeightedScore, UndefinedScore
from rampconf.scoring import Scoring

# label index (1 = signal), weight, predicted signal probability
LABELS = np.array([1, 1, 1, 0, 0, 0, 0, 1])
WEIGHTS = np.array([0.5, 0.25, 1.0, 2.0, 3.0, 1.5, 4.0, 0.75])
PROBA = np.array([0.9, 0.6, 0.3, 0.7, 0.2, 0.55, 0.1, 0.5])
Y_PRED = np.column_stack([1 - PROBA, PROBA])


def _hand_ams(s: float, b: float, br: float) -> float:
    return math.sqrt(2 * ((s + b + br) * math.log(1 + s / (b + br)) - s))


def _make(name: str, **params) -> BaseScore:
    score = make_plugin("score", name, params, f"problem.scores.{name}", BaseScore)
    assert isinstance(score, BaseScore)
    return score


# --------------------------------------------------------------------------- AMS


def test_ams_formula_by_hand():
    assert ams(10.0, 100.0, 10.0) == pytest.approx(_hand_ams(10, 100, 10), rel=1e-12)
    assert ams(0.0, 50.0) == 0.0
    # Small s / (b + br): AMS ~ s / sqrt(b + br).
    assert ams(1.0, 1e6, 0.0) == pytest.approx(1.0 / 1e3, rel=1e-3)


def test_ams_score_against_hand_computation():
    # Selected (proba > 0.5): rows 0, 1 (signal, 0.5 + 0.25), 3, 5 (background, 2 + 1.5);
    # row 7 has probability 0.5 exactly and is not selected.
    s, b = 0.75, 3.5
    score = _make("ams")
    assert isinstance(score, AMS)
    assert score.params.br == 10.0 and score.params.threshold == 0.5
    assert score(LABELS, Y_PRED, WEIGHTS) == pytest.approx(_hand_ams(s, b, 10.0), rel=1e-12)
    assert score.greater_is_better and score.minimum == 0.0


def test_ams_regularisation_changes_it_as_expected():
    s, b = 0.75, 3.5
    values = [_make("ams", br=br)(LABELS, Y_PRED, WEIGHTS) for br in (0.0, 1.0, 10.0, 100.0)]
    for br, value in zip((0.0, 1.0, 10.0, 100.0), values, strict=True):
        assert value == pytest.approx(_hand_ams(s, b, br), rel=1e-12)
    # More regularisation, less significance.
    assert values == sorted(values, reverse=True)
    assert values[0] > values[-1] > 0


@pytest.mark.parametrize(("threshold", "s", "b"), [
    (0.0, 0.5 + 0.25 + 1.0 + 0.75, 2.0 + 3.0 + 1.5 + 4.0),   # every probability is > 0
    (0.45, 0.5 + 0.25 + 0.75, 2.0 + 1.5),
    (0.5, 0.5 + 0.25, 2.0 + 1.5),
    (0.65, 0.5, 2.0),
    (0.8, 0.5, 0.0),
])
def test_ams_threshold_selects_above_it(threshold, s, b):
    value = _make("ams", threshold=threshold, br=10.0)(LABELS, Y_PRED, WEIGHTS)
    assert value == pytest.approx(_hand_ams(s, b, 10.0), rel=1e-12)


def test_ams_nothing_selected_is_zero_and_weights_matter():
    assert _make("ams", threshold=1.0)(LABELS, Y_PRED, WEIGHTS) == 0.0
    # Same selection, weights doubled: s and b double.
    assert _make("ams")(LABELS, Y_PRED, 2 * WEIGHTS) == pytest.approx(_hand_ams(1.5, 7.0, 10.0))


def test_ams_rejects_bad_parameters_and_shapes():
    from rampconf.errors import ConfigError

    with pytest.raises(ConfigError, match="br"):
        _make("ams", br=-1.0)
    with pytest.raises(ConfigError, match="threshold"):
        _make("ams", threshold=1.5)
    with pytest.raises(ValueError, match="shape"):
        _make("ams")(LABELS, np.ones((len(LABELS), 3)) / 3, WEIGHTS)
    with pytest.raises(ValueError, match=r"expected one weight per sample \(8\), got shape \(3,\)"):
        _make("ams")(LABELS, Y_PRED, WEIGHTS[:3])


def test_weighted_scores_declare_that_they_need_weights():
    for name in ("ams", "weighted_accuracy", "weighted_roc_auc"):
        score = _make(name)
        assert isinstance(score, BaseWeightedScore) and score.needs_weights, name
    assert not _make("accuracy").needs_weights


# --------------------------------------------------------------------------- weighted sklearn


def test_weighted_accuracy_against_sklearn():
    score = _make("weighted_accuracy")
    assert isinstance(score, WeightedAccuracy)
    expected = metrics.accuracy_score(LABELS, np.argmax(Y_PRED, axis=1), sample_weight=WEIGHTS)
    assert score(LABELS, Y_PRED, WEIGHTS) == pytest.approx(expected, rel=1e-12)
    # Weights matter: the unweighted accuracy differs.
    assert expected != pytest.approx(metrics.accuracy_score(LABELS, np.argmax(Y_PRED, axis=1)))


def test_weighted_roc_auc_against_sklearn():
    score = _make("weighted_roc_auc")
    assert isinstance(score, WeightedROCAUC)
    expected = metrics.roc_auc_score(LABELS, PROBA, sample_weight=WEIGHTS)
    assert score(LABELS, Y_PRED, WEIGHTS) == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(metrics.roc_auc_score(LABELS, PROBA))


def test_weighted_roc_auc_multiclass_against_sklearn():
    rng = np.random.default_rng(0)
    labels = np.tile([0, 1, 2], 10)
    weights = rng.uniform(0.1, 3.0, len(labels))
    proba = rng.dirichlet(np.ones(3), len(labels))
    expected = metrics.roc_auc_score(np.eye(3)[labels], proba, average="macro",
                                     sample_weight=weights)
    value = _make("weighted_roc_auc")(labels, proba, weights)
    assert value == pytest.approx(expected, rel=1e-12)


def test_weighted_roc_auc_with_one_label_is_undefined():
    with pytest.raises(UndefinedScore, match="only one label"):
        _make("weighted_roc_auc")(np.ones(3, dtype=int), Y_PRED[:3], WEIGHTS[:3])


def test_weighted_scores_with_unit_weights_are_the_plain_scores():
    ones = np.ones(len(LABELS))
    for weighted, plain in (("weighted_accuracy", "accuracy"), ("weighted_roc_auc", "roc_auc")):
        expected = _make(plain)(LABELS, Y_PRED)
        assert _make(weighted)(LABELS, Y_PRED, ones) == pytest.approx(expected)
        assert _make(weighted)(LABELS, Y_PRED) == pytest.approx(expected)  # no weights: 1 each


def test_the_engine_gives_each_step_the_weights_of_its_rows():
    accuracy = _make("weighted_accuracy")
    scoring = Scoring([accuracy], LABELS, LABELS[:4], WEIGHTS, WEIGHTS[:4][::-1])
    train_idx, valid_idx = np.arange(5), np.arange(5, 8)
    scores = scoring.fold(0, train_idx, valid_idx, Y_PRED, Y_PRED[:4])
    for step, rows, weights in (("train", train_idx, WEIGHTS[train_idx]),
                                ("valid", valid_idx, WEIGHTS[valid_idx]),
                                ("test", np.arange(4), WEIGHTS[:4][::-1])):
        expected = metrics.accuracy_score(LABELS[rows], np.argmax(Y_PRED[rows], axis=1),
                                          sample_weight=weights)
        assert scores[step]["WeightedAccuracy"] == pytest.approx(expected), step


# --------------------------------------------------------------------------- reader and data


@pytest.fixture
def toy_root(tmp_path: Path) -> Path:
    HiggsToy(tmp_path).generate(200, 100, seed=3)
    return tmp_path


def _reader(root: Path, **params) -> WeightedCSV:
    params = {"train": "higgs_toy/train.csv", "test": "higgs_toy/test.csv",
              "target": "Label", "weight": "Weight", "ignore": ["EventId"], **params}
    reader = make_plugin("reader", "weighted_csv", params, "problem.data", WeightedCSV,
                         data_root=root)
    assert isinstance(reader, WeightedCSV)
    return reader


def test_reader_weights_are_neither_features_nor_target(toy_root):
    reader = _reader(toy_root)
    reader.check_files()
    frame = pd.read_csv(toy_root / "higgs_toy" / "train.csv")
    train = reader.load("train")
    assert list(train.X.columns) == ["mass", "pt", "eta", "met"]
    assert "Weight" not in train.X.columns and "Label" not in train.X.columns
    assert train.y.shape == (200,)  # the labels, as a RAMP submission's fit(X, y) expects
    np.testing.assert_array_equal(train.y, frame["Label"])
    assert train.weights is not None and train.weights.dtype == float
    np.testing.assert_array_equal(train.weights, frame["Weight"])
    test = reader.load("test")
    assert len(test) == 100 and test.weights is not None and len(test.weights) == 100


def test_reader_errors(toy_root, tmp_path):
    with pytest.raises(DataError, match="Wheight"):
        _reader(toy_root, weight="Wheight").load("train")
    bad = toy_root / "higgs_toy" / "bad.csv"
    frame = pd.read_csv(toy_root / "higgs_toy" / "train.csv")
    frame.loc[3, "Weight"] = -1.0
    frame.to_csv(bad, index=False)
    with pytest.raises(DataError, match="negative"):
        _reader(toy_root, train="higgs_toy/bad.csv").load("train")
    with pytest.raises(DataError, match="not found"):
        _reader(tmp_path / "nowhere").load("test")


def test_generator_is_seeded_and_weighted(tmp_path):
    first = HiggsToy(tmp_path / "a").generate(300, 120, seed=7)
    second = HiggsToy(tmp_path / "b").generate(300, 120, seed=7)
    other = HiggsToy(tmp_path / "c").generate(300, 120, seed=8)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert first[0].read_bytes() != other[0].read_bytes()
    HiggsToy(tmp_path / "a").check()
    frame = pd.read_csv(first[0])
    assert tuple(frame.columns) == COLUMNS and len(frame) == 300
    signal = frame[frame.Label == "s"]
    background = frame[frame.Label == "b"]
    assert 0.2 < len(signal) / len(frame) < 0.5
    # Signal: a third of the events but a small share of the total weight.
    assert signal.Weight.sum() < 0.1 * background.Weight.sum()
    # One weight per process: few distinct weights.
    assert frame.groupby("Label").Weight.nunique().to_dict() == {"b": 3, "s": 1}
    with pytest.raises(DataError):
        HiggsToy(tmp_path).generate(2, 100)


def test_plugins_registered():
    assert registry.get("reader", "weighted_csv") is WeightedCSV
    assert "weighted_multiclass" not in registry.available("prediction")  # y is the labels
    assert registry.get("score", "ams") is AMS
    assert registry.get("score", "weighted_accuracy") is WeightedAccuracy
    assert registry.get("score", "weighted_roc_auc") is WeightedROCAUC
    assert registry.get("dataset", "higgs_toy") is HiggsToy


def test_ams_limits():
    assert ams(0.0, 0.0, 0.0) == 0.0
    assert ams(1.0, 0.0, 0.0) == np.inf
    with pytest.raises(ValueError):
        ams(-1.0, 1.0)
