"""The clustering plugins: efficiency score, prediction checks, event CV, clusterer workflow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rampconf_clustering.cv import EventShuffleSplit
from rampconf_clustering.predictions import Clustering
from rampconf_clustering.readers import ClusteringCSV
from rampconf_clustering.scores import ClusteringEfficiency, clustering_efficiency
from rampconf_clustering.workflows import predict_by_event

from rampconf import registry
from rampconf.errors import DataError


def _cases(kits: Path) -> list[dict]:
    vectors = json.loads((kits / "reference" / "score_vectors.json").read_text())
    return [c for c in vectors["cases"] if c["kind"] == "clustering"]


# --------------------------------------------------------------------------- score


def test_score_vectors_have_clustering_cases(kits):
    assert len(_cases(kits)) >= 2


def test_efficiency_matches_ramp_workflow_score_vectors(kits):
    score = ClusteringEfficiency(name="clustering_efficiency", precision=3)
    for case in _cases(kits):
        expected = case["expected"]["clustering_efficiency"]
        got = score(np.array(case["y_true"]), np.array(case["y_pred"]))
        assert got == pytest.approx(expected, abs=1e-9)


def test_perfect_clustering_scores_one_whatever_the_ids():
    y_true = np.array([[1, 0], [1, 0], [1, 1], [2, 5], [2, 5], [2, 6]])
    y_pred = np.array([[1, 7], [1, 7], [1, 3], [2, 0], [2, 0], [2, 9]])
    assert clustering_efficiency(y_true, y_pred) == 1.0


def test_unassigned_hits_count_zero_and_duplicates_count_once():
    # event 1: all hits unassigned -> 0; event 2: both true clusters claim
    # predicted cluster 0 -> only the larger overlap (2 of 4 hits) counts.
    y_true = np.array([[1, 0], [1, 0], [2, 0], [2, 0], [2, 1], [2, 1]])
    y_pred = np.array([[1, -1], [1, -1], [2, 0], [2, 0], [2, 0], [2, -1]])
    assert clustering_efficiency(y_true, y_pred) == pytest.approx((0 + 2 / 4) / 2)


def test_ties_go_to_the_smallest_predicted_id():
    # true cluster 0 splits 1/1 between predicted 3 and 2 -> matched to 2;
    # true cluster 1 is all predicted 3 -> both count.
    y_true = np.array([[0, 0], [0, 0], [0, 1], [0, 1]])
    y_pred = np.array([[0, 3], [0, 2], [0, 3], [0, 3]])
    assert clustering_efficiency(y_true, y_pred) == pytest.approx(3 / 4)


def test_score_is_registered_with_its_bounds():
    cls = registry.get("score", "clustering_efficiency")
    assert cls is ClusteringEfficiency
    assert cls.greater_is_better and (cls.minimum, cls.maximum) == (0.0, 1.0)


# --------------------------------------------------------------------------- prediction


Y_TRUE = np.array([[4, 0], [4, 1], [7, 0]])


def test_check_accepts_an_int_array_and_returns_floats():
    checked = Clustering().check_y_pred([[4, 2], [4, -1], [7, 0]], Y_TRUE)
    assert checked.dtype == float and checked.shape == (3, 2)


@pytest.mark.parametrize(("y_pred", "message"), [
    (np.array([0, 1, 2]), r"expected an \(n_hits, 2\) array of \(event_id, cluster_id\) "
                          r"for 3 hits, i\.e\. shape \(3, 2\), got shape \(3,\)"),
    (np.zeros((2, 2)), r"for 3 hits, i\.e\. shape \(3, 2\), got shape \(2, 2\)"),
    (np.zeros((3, 3)), r"got shape \(3, 3\)"),
    ([["a", "b"]] * 3, r"expected an \(n_hits, 2\) array"),
    ([[4, 0], [4, np.nan], [7, 0]], "NaN or infinite"),
    ([[4, 0.5], [4, 1], [7, 0]], "must be integers"),
    ([[4, 0], [5, 1], [7, 0]], r"1 hit\(s\) differ, first hit 1: 5 instead of 4"),
])
def test_check_rejects_wrong_predictions_with_a_message(y_pred, message):
    with pytest.raises(ValueError, match=message):
        Clustering().check_y_pred(y_pred, Y_TRUE)


def test_encode_y_wants_two_columns():
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        Clustering().encode_y(np.zeros(3))


def test_empty_and_combine_keep_the_first_fold_that_predicts_a_hit():
    prediction = Clustering()
    first = prediction.empty(3, like=np.zeros((3, 2)))
    first[[0]] = [[4, 5]]
    second = prediction.empty(3, like=np.zeros((3, 2)))
    second[[0, 1]] = [[4, 9], [4, 8]]
    combined = prediction.combine([first, second])
    np.testing.assert_array_equal(combined[:2], [[4, 5], [4, 8]])
    assert np.isnan(combined[2]).all()
    np.testing.assert_array_equal(prediction.has_prediction(combined), [True, True, False])
    one = np.array([[4.0, 1.0], [4.0, 2.0], [7.0, 0.0]])
    np.testing.assert_array_equal(prediction.combine([one]), one)


def test_prediction_saved_as_named_columns():
    columns = Clustering().to_columns(np.array([[4.0, 1.0]]))
    assert list(columns) == ["event_id", "cluster_id"]


# --------------------------------------------------------------------------- CV


def _events(n_events: int = 10, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    events = rng.permutation(np.repeat(np.arange(100, 100 + n_events), rng.integers(1, 9,
                                                                                      n_events)))
    return np.column_stack([events, rng.integers(0, 5, len(events))])


@pytest.mark.parametrize("n_splits", [1, 3])
def test_cv_never_cuts_an_event(n_splits):
    y = _events()
    folds = list(EventShuffleSplit(EventShuffleSplit.Params(n_splits=n_splits, random_state=57))
                 .split(None, y))
    assert len(folds) == n_splits
    for train, valid in folds:
        assert set(y[train, 0]).isdisjoint(y[valid, 0])
        assert len(train) + len(valid) == len(y)
        assert np.all(np.diff(train) > 0) and np.all(np.diff(valid) > 0)
        assert len(np.unique(y[valid, 0])) == 5  # test_size 0.5 of 10 events


def test_cv_splits_the_sorted_unique_events_like_shuffle_split():
    from sklearn.model_selection import ShuffleSplit

    y = _events()
    unique = np.unique(y[:, 0])
    (_, valid), = EventShuffleSplit(EventShuffleSplit.Params(random_state=57)).split(None, y)
    _, valid_events = next(ShuffleSplit(1, test_size=0.5, random_state=57).split(unique))
    assert set(y[valid, 0]) == set(unique[valid_events])


def test_cv_on_the_kit_keeps_every_event_whole(kits):
    frame = pd.read_csv(kits / "hep_tracking" / "train.csv")
    y = frame[["event_id", "cluster_id"]].to_numpy()
    (train, valid), = EventShuffleSplit(EventShuffleSplit.Params(random_state=57)).split(None, y)
    assert set(y[train, 0]).isdisjoint(y[valid, 0])
    assert sorted(np.concatenate([train, valid])) == list(range(len(y)))


# --------------------------------------------------------------------------- workflow


class _ByLayer:
    """Labels a hit by its layer (first column after the event id)."""

    def predict_single_event(self, X_event):
        assert X_event.shape[1] == 2  # the event id column is dropped
        return X_event[:, 0].astype(int)


def test_predict_by_event_joins_event_ids_back():
    X = np.array([[7, 2, 0.1], [4, 1, 0.2], [7, 3, 0.3]])
    np.testing.assert_array_equal(predict_by_event(_ByLayer(), X), [[7, 2], [4, 1], [7, 3]])


def test_predict_by_event_reports_wrong_label_count():
    class Short:
        def predict_single_event(self, X_event):
            return [0]

    with pytest.raises(ValueError, match=r"event 7: .* shape \(2,\), got shape \(1,\)"):
        predict_by_event(Short(), np.array([[7, 0.0], [7, 1.0]]))


# --------------------------------------------------------------------------- reader


def test_reader_keeps_the_event_id_as_first_feature(tmp_path):
    (tmp_path / "d").mkdir()
    pd.DataFrame({"layer": [0, 1], "event_id": [3, 3], "cluster_id": [0, 1], "x": [1.0, 2.0]}) \
        .to_csv(tmp_path / "d" / "train.csv", index=False)
    reader = ClusteringCSV(ClusteringCSV.Params(train="d/train.csv", test="d/train.csv"),
                           data_root=tmp_path)
    data = reader.load("train")
    assert list(data.X.columns) == ["event_id", "layer", "x"]
    np.testing.assert_array_equal(data.y, [[3, 0], [3, 1]])


def test_reader_names_missing_columns(tmp_path):
    pd.DataFrame({"event_id": [3]}).to_csv(tmp_path / "t.csv", index=False)
    reader = ClusteringCSV(ClusteringCSV.Params(train="t.csv", test="t.csv"), data_root=tmp_path)
    with pytest.raises(DataError, match=r"missing column\(s\) \['cluster_id'\]"):
        reader.load("train")
