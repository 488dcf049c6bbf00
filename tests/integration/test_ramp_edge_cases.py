"""ramp-workflow 0.7.0 run here on cases its kits do not reach (issue 8, items 1-4), compat=ramp.

Each test writes a RAMP kit into a temporary folder, runs ``ramp-test`` in
ramp-workflow's own environment (:mod:`tests.ramp_oracle`) and compares every
fold score and every point of the bagging curve with a rampconf run of the
same data, folds and submission. Item 5 (exact ties of the detection
matching) and the single-score cases are compared with numbers recorded from
ramp-workflow in ``tests/unit/test_ramp_edge_cases.py``.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

import rampconf
from tests import ramp_oracle
from tests.integration.test_undefined_scores import write_problem

pytestmark = pytest.mark.slow

IRIS_PROBLEM = '''\
import os

import pandas as pd
import rampwf as rw
from sklearn.model_selection import StratifiedShuffleSplit

problem_title = "Iris"
Predictions = rw.prediction_types.make_multiclass(
    label_names=["setosa", "versicolor", "virginica"])
workflow = rw.workflows.Estimator()
score_types = [
    rw.score_types.Accuracy(name="acc"),
    rw.score_types.ClassificationError(name="error"),
    rw.score_types.NegativeLogLikelihood(name="nll"),
    rw.score_types.F1Above(name="f1_70", threshold=0.7),
    rw.score_types.NormalizedGini(name="ngini", precision=3),
    rw.score_types.BalancedAccuracy(name="bac", precision=3),
    rw.score_types.MacroAveragedRecall(name="mar", precision=3),
]


def get_cv(X, y):
    return StratifiedShuffleSplit(n_splits=2, test_size=0.2, random_state=57).split(X, y)


def _read(path, name):
    data = pd.read_csv(os.path.join(path, "data", name))
    return data.drop(columns=["species"]), data["species"].values


def get_train_data(path="."):
    return _read(path, "train.csv")


def get_test_data(path="."):
    return _read(path, "test.csv")
'''

SORTED_PROBLEM = '''\
import os

import numpy as np
import pandas as pd
import rampwf as rw

problem_title = "Labels sorted, one fold validates on label 0 only"
Predictions = rw.prediction_types.make_multiclass(label_names=[0, 1])
workflow = rw.workflows.Estimator()
score_types = [rw.score_types.ROCAUC(name="auc"), rw.score_types.Accuracy(name="acc")]


def get_cv(X, y):
    blocks = np.array_split(np.arange(len(y)), 4)
    return [(np.r_[blocks[1], blocks[2]], blocks[0]),
            (np.r_[blocks[0], blocks[3]], np.r_[blocks[1], blocks[2]])]


def _read(path, name):
    data = pd.read_csv(os.path.join(path, "data", name))
    return data.drop(columns=["y"]), data["y"].values


def get_train_data(path="."):
    return _read(path, "train.csv")


def get_test_data(path="."):
    return _read(path, "test.csv")
'''

MARS_PROBLEM = '''\
import os

import numpy as np
import pandas as pd
import rampwf as rw

problem_title = "Mars craters"
Predictions = rw.prediction_types.make_detection()
workflow = rw.workflows.ObjectDetector()
WINDOW = [28, 196, 28, 196]
score_types = [
    rw.score_types.DetectionAveragePrecision(name="ap"),
    rw.score_types.OSPA(name="ospa", minipatch=WINDOW),
    rw.score_types.SCP(shape=(224, 224), name="scp", minipatch=WINDOW),
    rw.score_types.DetectionPrecision(name="prec(0)", iou_threshold=0.0, minipatch=WINDOW),
    rw.score_types.DetectionPrecision(name="prec(0.5)", iou_threshold=0.5, minipatch=WINDOW),
    rw.score_types.DetectionPrecision(name="prec(0.9)", iou_threshold=0.9, minipatch=WINDOW),
    rw.score_types.DetectionRecall(name="rec(0)", iou_threshold=0.0, minipatch=WINDOW),
    rw.score_types.DetectionRecall(name="rec(0.5)", iou_threshold=0.5, minipatch=WINDOW),
    rw.score_types.DetectionRecall(name="rec(0.9)", iou_threshold=0.9, minipatch=WINDOW),
    rw.score_types.MADCenter(name="madc", minipatch=WINDOW),
    rw.score_types.MADRadius(name="madr", minipatch=WINDOW),
]


def get_cv(X, y):
    n = len(X)
    n1, n2 = n // 3, 2 * (n // 3)
    every = np.arange(n)
    return [(every[:n2], every[n2:]), (every[n1:], every[:n1]),
            (np.r_[every[:n1], every[n2:]], every[n1:n2])]


def _read(path, split):
    X = np.load(os.path.join(path, "data", f"data_{split}_mini.npy"))
    labels = pd.read_csv(os.path.join(path, "data", f"labels_{split}_mini.csv"))
    y = np.empty(len(X), dtype=object)
    for i in range(len(X)):
        y[i] = []
    for i, row, col, radius in labels[["i", "row_p", "col_p", "radius_p"]].itertuples(
            index=False):
        y[int(i)].append((row, col, radius))
    return X, y


def get_train_data(path="."):
    return _read(path, "train")


def get_test_data(path="."):
    return _read(path, "test")
'''

#: A decision tree: leaves of one label, so probabilities are exactly 0 and 1 (item 1).
TREE = '''\
from sklearn.tree import DecisionTreeClassifier


def get_estimator():
    return DecisionTreeClassifier(random_state=0)
'''

#: The titanic starting kit's features with a decision tree (hard 0/1 probabilities).
TITANIC_TREE = '''\
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier


def get_estimator():
    preprocessor = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["Sex", "Pclass", "Embarked"]),
        (SimpleImputer(strategy="constant", fill_value=-1), ["Age", "SibSp", "Parch", "Fare"]))
    return Pipeline([("transformer", preprocessor),
                     ("classifier", DecisionTreeClassifier(random_state=0))])
'''

#: Probabilities in [0, 1] whose rows do not sum to 1: halved on odd rows, zero on every fifth.
NOT_NORMALISED = '''\
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.tree import DecisionTreeClassifier


class NotNormalised(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.tree_ = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
        self.classes_ = self.tree_.classes_
        return self

    def predict_proba(self, X):
        proba = self.tree_.predict_proba(X)
        proba[1::2] *= 0.5
        proba[::5] = 0.0
        return proba


def get_estimator():
    return NotNormalised()
'''

#: Probabilities times 3: not probabilities (item 2).
TIMES_THREE = NOT_NORMALISED.replace("proba[1::2] *= 0.5\n        proba[::5] = 0.0",
                                     "proba *= 3.0")

#: The Mars starting kit (one circle per image), returning the object array RAMP expects.
MARS_STARTING_KIT = '''\
import numpy as np


class ObjectDetector:
    def fit(self, X, y):
        return self

    def predict(self, X):
        y_pred = np.empty(len(X), dtype=object)
        for i in range(len(X)):
            y_pred[i] = [(1.0, 112, 112, 112)]
        return y_pred
'''


def ramp_numbers(root: Path, problem_py: str, data: dict[str, Path], file_name: str,
                 source: str) -> dict:
    kit = ramp_oracle.make_kit(root, problem_py, data, {"edge": {file_name: source}})
    return ramp_oracle.ramp_test(kit, "edge")


def our_run(tmp_path: Path, monkeypatch, problem: str, file_name: str, source: str,
            *overrides: str, submissions: str | None = None):
    """``problem`` with the submission ``edge`` (written under ./submissions), compat=ramp."""
    folder = tmp_path / "ours" / "submissions" / (submissions or problem) / "edge"
    folder.mkdir(parents=True)
    (folder / file_name).write_text(textwrap.dedent(source))
    monkeypatch.chdir(tmp_path / "ours")
    return rampconf.run(problem=problem, submission="edge", quiet=True,
                        overrides=["compat=ramp", *overrides])


def same(ours: float, theirs: float) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return math.isclose(ours, theirs, rel_tol=0, abs_tol=1e-9)


def assert_same_numbers(result, expected: dict) -> None:
    """Every fold score and every point of the bagging curve, NaN where ramp-workflow's is NaN."""
    names = list(expected["folds"][0]["train"])
    assert result.summary["score_names"] == names
    scores = result.scores.set_index(["fold", "step", "score"])["value"]
    for fold, fold_scores in enumerate(expected["folds"]):
        for step in ("train", "valid", "test"):
            for name in names:
                assert same(scores[(fold, step, name)], fold_scores[step][name]), \
                    (fold, step, name, scores[(fold, step, name)], fold_scores[step][name])
    bagged = result.bagged.set_index(["n_folds", "step", "score"])["value"]
    assert len(expected["bagging_curve"]) == result.bagged["n_folds"].max()
    for k, point in enumerate(expected["bagging_curve"], start=1):
        for step in ("valid", "test"):
            for name in names:
                assert same(bagged[(k, step, name)], point[step][name]), \
                    ("bagged", k, step, name, bagged[(k, step, name)], point[step][name])


def iris_data(kits: Path) -> dict[str, Path]:
    return {name: kits / "iris" / name for name in ("train.csv", "test.csv")}


# --------------------------------------------------------------------------- item 1


def test_hard_probabilities_of_a_tree_bag_as_ramp_workflow_multiclass(kits, tmp_path,
                                                                      monkeypatch):
    expected = ramp_numbers(tmp_path / "kit", IRIS_PROBLEM, iris_data(kits), "estimator.py",
                            TREE)
    result = our_run(tmp_path, monkeypatch, "iris_kit", "estimator.py", TREE,
                     f"data_root={kits}", submissions="iris")
    assert result.status == "ok"
    assert_same_numbers(result, expected)
    # what the clipping changes: a wrong hard 0 costs -log(1e-15) once bagged
    assert expected["bagged"]["valid"]["nll"] > 1.0


def test_hard_probabilities_of_a_tree_bag_as_ramp_workflow_binary(kits, tmp_path, monkeypatch):
    data = {name: kits / "titanic" / name for name in ("train.csv", "test.csv")}
    expected = ramp_numbers(tmp_path / "kit", ramp_oracle.TITANIC_PROBLEM, data,
                            "estimator.py", TITANIC_TREE)
    result = our_run(tmp_path, monkeypatch, "titanic", "estimator.py", TITANIC_TREE,
                     f"data_root={kits}")
    assert result.status == "ok"
    assert_same_numbers(result, expected)


# --------------------------------------------------------------------------- item 2


def test_rows_that_do_not_sum_to_1_score_and_bag_as_ramp_workflow(kits, tmp_path, monkeypatch):
    expected = ramp_numbers(tmp_path / "kit", IRIS_PROBLEM, iris_data(kits), "estimator.py",
                            NOT_NORMALISED)
    result = our_run(tmp_path, monkeypatch, "iris_kit", "estimator.py", NOT_NORMALISED,
                     f"data_root={kits}", submissions="iris")
    assert result.status == "ok"
    assert_same_numbers(result, expected)


def test_values_above_1_fail_the_fold_naming_file_row_and_value(kits, tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="y_prob contains values greater than 1"):
        ramp_numbers(tmp_path / "kit", IRIS_PROBLEM, iris_data(kits), "estimator.py",
                     TIMES_THREE)
    result = our_run(tmp_path, monkeypatch, "iris_kit", "estimator.py", TIMES_THREE,
                     f"data_root={kits}", submissions="iris")
    assert result.status == "failed"
    assert list(result.folds["status"]) == ["failed", "failed"]
    error = result.folds["error"].iloc[0]
    assert error.startswith(str(tmp_path / "ours" / "submissions" / "iris" / "edge" /
                                "estimator.py"))
    assert "probabilities must be in [0, 1]: row 0 holds 3.0 for label 'setosa'" in error


# --------------------------------------------------------------------------- item 3


def test_an_undefined_score_is_nan_as_in_ramp_workflow(tmp_path, monkeypatch):
    write_problem(tmp_path / "ours")
    data = {name: tmp_path / "ours" / "data" / "sorted_labels" / name
            for name in ("train.csv", "test.csv")}
    estimator = (tmp_path / "ours" / "submissions" / "sorted_labels" / "starting_kit" /
                 "estimator.py").read_text()
    expected = ramp_numbers(tmp_path / "kit", SORTED_PROBLEM, data, "estimator.py", estimator)
    assert np.isnan(expected["folds"][0]["valid"]["auc"])
    result = our_run(tmp_path, monkeypatch, "sorted_labels", "estimator.py", estimator)
    assert result.status == "ok"
    assert_same_numbers(result, expected)


# --------------------------------------------------------------------------- item 4


MARS_FILES = ("data_train_mini.npy", "data_test_mini.npy", "labels_train_mini.csv",
              "labels_test_mini.csv")


def test_detection_bagging_scores_unpredicted_images_as_ramp_workflow(kits, tmp_path,
                                                                      monkeypatch):
    data = {name: kits / "mars_craters" / name for name in MARS_FILES}
    expected = ramp_numbers(tmp_path / "kit", MARS_PROBLEM, data, "object_detector.py",
                            MARS_STARTING_KIT)
    result = our_run(tmp_path, monkeypatch, "mars_craters", "object_detector.py",
                     MARS_STARTING_KIT, f"data_root={kits}")
    assert result.status == "ok"
    assert_same_numbers(result, expected)
    # By default, an image no fold validated yet is not scored: the first point of the
    # curve then counts the 10 images of fold 0 only.
    monkeypatch.chdir(tmp_path / "ours")
    default = rampconf.run(problem="mars_craters", submission="edge", quiet=True,
                           overrides=[f"data_root={kits}"])
    first = default.bagged.query("n_folds == 1 and step == 'valid'").set_index("score")["value"]
    assert first["rec(0)"] != pytest.approx(expected["bagging_curve"][0]["valid"]["rec(0)"])
