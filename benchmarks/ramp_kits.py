"""RAMP kits (``problem.py``, ``data/``, ``submissions/``) for ``ramp-test`` timings.

The iris and titanic kits as ramp-workflow 0.7.0 reads them, with the same
data files, folds, workflow and starting kit as rampconf's ``iris_kit`` and
``titanic`` problems, and the same score types where ramp-workflow has them
(iris: its ``ngini`` is binary-only in ramp-workflow, so the RAMP kit has one
score fewer).
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_COMMON = '''\
import os

import pandas as pd
import rampwf as rw
from sklearn.model_selection import StratifiedShuffleSplit

problem_title = "{title}"
Predictions = rw.prediction_types.make_multiclass(label_names={labels})
workflow = rw.workflows.Estimator()
score_types = [
{scores}
]


def get_cv(X, y):
    return StratifiedShuffleSplit(n_splits={n_splits}, test_size=0.2,
                                  random_state=57).split(X, y)


def _read(path, name):
    data = pd.read_csv(os.path.join(path, "data", name))
    return data.drop(columns={drop}), data["{target}"].values


def get_train_data(path="."):
    return _read(path, "train.csv")


def get_test_data(path="."):
    return _read(path, "test.csv")
'''

_SCORES = {
    "iris": ['rw.score_types.Accuracy(name="acc")',
             'rw.score_types.ClassificationError(name="error")',
             'rw.score_types.NegativeLogLikelihood(name="nll")',
             'rw.score_types.F1Above(name="f1_70", threshold=0.7)',
             'rw.score_types.BalancedAccuracy(name="bac")',
             'rw.score_types.MacroAveragedRecall(name="mar")'],
    "titanic": ['rw.score_types.ROCAUC(name="auc")', 'rw.score_types.Accuracy(name="acc")',
                'rw.score_types.NegativeLogLikelihood(name="nll")',
                'rw.score_types.ClassificationError(name="error")',
                'rw.score_types.F1Above(name="f1_70", threshold=0.7)',
                'rw.score_types.BrierSkillScore(name="BSS", precision=3)',
                'rw.score_types.BrierScore(name="BS", precision=3)',
                'rw.score_types.BrierScoreReliability(name="BS Rel", precision=5)',
                'rw.score_types.BrierScoreResolution(name="BS Res", precision=3)',
                'rw.score_types.NormalizedGini(name="ngini")',
                'rw.score_types.BalancedAccuracy(name="bac")',
                'rw.score_types.MacroAveragedRecall(name="mar")'],
}
_KITS = {
    "iris": {"title": "Iris", "labels": ["setosa", "versicolor", "virginica"], "n_splits": 2,
             "drop": ["species"], "target": "species"},
    "titanic": {"title": "Titanic survival", "labels": [0, 1], "n_splits": 8,
                "drop": ["Survived", "PassengerId"], "target": "Survived"},
}


def write_ramp_kit(kit: str, dest: Path, kits: Path) -> list[str]:
    """Write the RAMP kit ``kit`` (iris or titanic) in ``dest``; the ``ramp-test`` arguments."""
    spec = _KITS[kit]
    scores = "\n".join(f"    {score}," for score in _SCORES[kit])
    (dest / "data").mkdir(parents=True)
    (dest / "problem.py").write_text(_COMMON.format(scores=scores, **spec))
    for name in ("train.csv", "test.csv"):
        shutil.copyfile(kits / kit / name, dest / "data" / name)
    (dest / "submissions" / "starting_kit").mkdir(parents=True)
    shutil.copyfile(REPO / "submissions" / kit / "starting_kit" / "estimator.py",
                    dest / "submissions" / "starting_kit" / "estimator.py")
    return ["--submission", "starting_kit", "--ramp-kit-dir", str(dest), "--ramp-data-dir",
            str(dest), "--ramp-submission-dir", str(dest / "submissions")]
