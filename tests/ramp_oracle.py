"""ramp-workflow 0.7.0 itself, run on this machine, as the oracle of parity tests.

Most reference numbers in ``kits/reference`` do not depend on the machine and
are compared as recorded. A few do: the titanic starting kit's
LogisticRegression stops at ``max_iter=100`` before converging, and where it
stops depends on the floating-point kernels of the CPU (the recorded numbers
and this machine's differ by up to 0.03 on ``BS Res``, while ramp-workflow and
rampconf agree to the last digit on either machine). For those, and for cases
that have no recorded numbers, the tests run ``ramp-test`` here, in a virtual
environment of its own, and compare with what it prints to its output files.

The environment is ``$RAMPCONF_RAMP_PYTHON`` (``.ci/run`` creates it), else
``.ramp-workflow-env`` at the repository root, created on first use with
``pip install ramp-workflow==0.7.0`` (and the CI constraints when present).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ENV = REPO / ".ramp-workflow-env"

#: problem.py of RAMP's titanic kit: same data, scores (the official first), CV and workflow.
TITANIC_PROBLEM = '''\
import os

import pandas as pd
import rampwf as rw
from sklearn.model_selection import StratifiedShuffleSplit

problem_title = "Titanic survival"
Predictions = rw.prediction_types.make_multiclass(label_names=[0, 1])
workflow = rw.workflows.Estimator()
score_types = [
    rw.score_types.ROCAUC(name="auc"),
    rw.score_types.Accuracy(name="acc"),
    rw.score_types.NegativeLogLikelihood(name="nll"),
    rw.score_types.ClassificationError(name="error"),
    rw.score_types.F1Above(name="f1_70", threshold=0.7),
    rw.score_types.BrierSkillScore(name="BSS", precision=3),
    rw.score_types.BrierScore(name="BS", precision=3),
    rw.score_types.BrierScoreReliability(name="BS Rel", precision=5),
    rw.score_types.BrierScoreResolution(name="BS Res", precision=3),
    rw.score_types.NormalizedGini(name="ngini"),
    rw.score_types.BalancedAccuracy(name="bac"),
    rw.score_types.MacroAveragedRecall(name="mar"),
]


def get_cv(X, y):
    return StratifiedShuffleSplit(n_splits=8, test_size=0.2, random_state=57).split(X, y)


def _read(path, name):
    data = pd.read_csv(os.path.join(path, "data", name))
    return data.drop(columns=["Survived", "PassengerId"]), data["Survived"].values


def get_train_data(path="."):
    return _read(path, "train.csv")


def get_test_data(path="."):
    return _read(path, "test.csv")
'''


def ramp_python() -> Path:
    """The interpreter of a virtual environment with ramp-workflow 0.7.0 (created once)."""
    given = os.environ.get("RAMPCONF_RAMP_PYTHON")
    if given:
        return Path(given)
    python = DEFAULT_ENV / "bin" / "python"
    with FileLock(str(DEFAULT_ENV) + ".lock"):
        if not (DEFAULT_ENV / "ready").exists():
            print(f"creating {DEFAULT_ENV} with ramp-workflow 0.7.0 ...", file=sys.stderr)
            venv.create(DEFAULT_ENV, with_pip=True, clear=True)
            constraints = REPO / ".ci" / "constraints.txt"
            extra = ["-c", str(constraints)] if constraints.exists() else []
            subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                            "ramp-workflow==0.7.0", *extra], check=True)
            (DEFAULT_ENV / "ready").write_text("ramp-workflow==0.7.0\n")
    return python


def make_kit(root: Path, problem_py: str, data: dict[str, Path],
             submissions: dict[str, dict[str, str]]) -> Path:
    """Write a RAMP kit: ``problem.py``, ``data/`` (links to ``data``) and submission files.

    ``submissions`` maps a submission name to ``{file name: source}``.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "problem.py").write_text(textwrap.dedent(problem_py))
    (root / "data").mkdir(exist_ok=True)
    for name, source in data.items():
        link = root / "data" / name
        if not link.exists():
            link.symlink_to(source.resolve())
    for name, files in submissions.items():
        folder = root / "submissions" / name
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, text in files.items():
            (folder / file_name).write_text(text)
    return root


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _value(text: str) -> float:
    """A score as ramp-workflow writes it to CSV (NaN as an empty cell)."""
    return float(text) if text != "" else float("nan")


def ramp_test(kit: Path, submission: str) -> dict:
    """Run ``ramp-test --save-output`` on ``kit`` and read its full-precision scores.

    Returns ``{"folds": [{step: {score: value}}], "bagged": {step: {score: value}},
    "bagging_curve": [{step: {score: value}} per number of folds bagged]}``; a
    score ramp-workflow leaves empty (NaN) is NaN.
    """
    python = ramp_python()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [str(python.parent / "ramp-test"), "--submission", submission, "--save-output"],
        cwd=kit, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ramp-test failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    output = kit / "submissions" / submission / "training_output"
    folds = []
    for fold_dir in sorted(output.glob("fold_*"), key=lambda p: int(p.name.split("_")[1])):
        folds.append({row.pop("step"): {k: _value(v) for k, v in row.items() if k != "time"}
                      for row in _read_rows(fold_dir / "scores.csv")})
    curve: dict[int, dict[str, dict[str, float]]] = {}
    for row in _read_rows(output / "bagged_scores.csv"):
        step, n_bag = row.pop("step"), int(row.pop("n_bag"))
        curve.setdefault(n_bag, {})[step] = {k: _value(v) for k, v in row.items()}
    bagging_curve = [curve[k] for k in sorted(curve)]
    return {"folds": folds, "bagged": bagging_curve[-1], "bagging_curve": bagging_curve}


#: problem.py of RAMP's iris kit (the scores that blending needs: the official first).
IRIS_PROBLEM = '''\
import os

import pandas as pd
import rampwf as rw
from sklearn.model_selection import StratifiedShuffleSplit

problem_title = "Iris classification"
Predictions = rw.prediction_types.make_multiclass(
    label_names=["setosa", "versicolor", "virginica"])
workflow = rw.workflows.Estimator()
score_types = [
    rw.score_types.Accuracy(name="acc"),
    rw.score_types.ClassificationError(name="error"),
    rw.score_types.NegativeLogLikelihood(name="nll"),
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


def ramp_blend(kit: Path, submissions: list[str], min_improvement: float = 0.0) -> dict:
    """Run ``ramp-test --save-output`` for each submission, then ``ramp-blend`` on them.

    Returns ``{"contributivity": {submission: [share of the blend per fold]},
    "curve": {step: [combined score per number of folds bagged]},
    "foldwise_best": {step: [...]}}`` for the official score. A share is
    ramp-blend's per-fold column times the number of folds (ramp-blend divides
    each fold's shares by it, so that the columns add up to its total).
    """
    for submission in submissions:
        ramp_test(kit, submission)
    python = ramp_python()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    listed = "[" + ",".join(repr(s) for s in submissions) + "]"
    proc = subprocess.run(
        [str(python.parent / "ramp-blend"), "--submissions", listed, "--save-output",
         "--min-improvement", repr(min_improvement)],
        cwd=kit, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ramp-blend failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    output = kit / "submissions" / "training_output"
    contributivity = {}
    for row in _read_rows(output / "contributivities.csv"):
        folds = sorted((k for k in row if k.startswith("fold_")), key=lambda k: int(k[5:]))
        contributivity[row["submission"]] = [float(row[k]) * len(folds) for k in folds]

    def curve(name: str) -> dict[str, list[float]]:
        steps: dict[str, list[float]] = {}
        rows = sorted(_read_rows(output / name), key=lambda r: int(r["n_bag"]))
        for row in rows:
            score = next(k for k in row if k not in ("step", "n_bag"))
            steps.setdefault(row["step"], []).append(_value(row[score]))
        return steps

    return {"contributivity": contributivity, "curve": curve("bagged_scores_combined.csv"),
            "foldwise_best": curve("bagged_scores_foldwise_best.csv")}
