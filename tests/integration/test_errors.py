"""Bad input gets a short, clear error and the right exit code; nothing computed is lost."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

RF = "from sklearn.ensemble import RandomForestClassifier\n"


def code(text: str) -> str:
    return RF + textwrap.dedent(text)


def write_submission(root: Path, name: str, files: dict[str, str], problem: str = "iris") -> None:
    folder = root / "submissions" / problem / name
    folder.mkdir(parents=True)
    for file, text in files.items():
        (folder / file).write_text(text)


def run_dir_of(root: Path) -> Path:
    runs = [p for p in (root / "outputs").glob("*/*/*") if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["problem=titanc"], "unknown problem option 'titanc'; did you mean 'titanic'?"),
        (["cv=kfld"], "did you mean 'kfold'?"),
        (["cv=kfold", "cv.n_splits=1"],
         "cv.n_splits: input should be greater than or equal to 2, got 1"),
        (["cv=kfold", "cv.n_splits=abc"], "cv.n_splits: input should be a valid integer"),
        (["cv.n_splits=3"], "write problem.cv.n_splits=... to change it"),
        (["n_jobs=0"], "n_jobs: value error, n_jobs must be a positive number"),
        (["problem.scores.f1_70.threshold=2"], "problem.scores.f1_70.threshold: input should be"),
        (["problem.prediction.type=multiclas"],
         "problem.prediction: unknown prediction 'multiclas'; did you mean 'multiclass'?"),
        (["+problem.data.colour=red"], "problem.data.colour: unknown key, got 'red'"),
        (["submission.params.n_estimaters=3"],
         "did you mean 'n_estimators'? valid parameters: max_leaf_nodes, n_estimators"),
        (["submission=nope"], "unknown submission option 'nope'"),
    ],
    ids=["unknown-problem", "unknown-cv", "n-splits-bound", "n-splits-type", "cv-not-chosen",
         "n-jobs", "score-param", "unknown-prediction", "unknown-key", "unknown-param",
         "unknown-submission"],
)
def test_bad_config_is_one_line_and_exit_2(run_cli, tmp_path, args, expected):
    proc = run_cli(*args, "progress=false")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3
    assert not (tmp_path / "outputs").exists() or not list((tmp_path / "outputs").rglob("*.csv"))


def test_debug_switch_shows_the_traceback(run_cli):
    proc = run_cli("cv=kfold", "cv.n_splits=1", "debug=true")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "cv.n_splits" in proc.stderr


def test_missing_data_names_the_files(run_cli, tmp_path):
    proc = run_cli("problem=titanic", f"data_root={tmp_path / 'nowhere'}")
    assert proc.returncode == 2
    assert f"train: {tmp_path / 'nowhere' / 'titanic' / 'train.csv'}" in proc.stderr
    assert "RAMPCONF_DATA_ROOT" in proc.stderr


def test_missing_file_class_and_function(run_cli, tmp_path):
    write_submission(tmp_path, "no_file", {"helper.py": "x = 1\n"})
    proc = run_cli("submission=no_file")
    assert proc.returncode == 1
    assert "estimator.py: missing workflow element file 'estimator.py'" in proc.stderr
    assert "has helper.py" in proc.stderr

    write_submission(tmp_path, "no_function", {"estimator.py": RF + "def make():\n    pass\n"})
    proc = run_cli("submission=no_function")
    assert proc.returncode == 1
    assert "missing 'get_estimator'" in proc.stderr and "defines make" in proc.stderr

    write_submission(tmp_path, "no_class", {"classifier.py": "class Clf:\n    pass\n"})
    proc = run_cli("submission=no_class", "workflow=classifier")
    assert proc.returncode == 1
    assert "classifier.py: missing 'Classifier'" in proc.stderr


def test_a_fold_that_raises_is_recorded_and_other_folds_kept(run_cli, tmp_path):
    write_submission(tmp_path, "flaky", {"estimator.py": code("""
        calls = []

        def get_estimator():
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("boom in the second fold")
            return RandomForestClassifier(n_estimators=2, random_state=0)
        """)})
    proc = run_cli("submission=flaky", "progress=false")
    assert proc.returncode == 1
    assert "fold(s) 1" in proc.stderr and "estimator.py:" in proc.stderr
    assert "Traceback" not in proc.stderr
    run_dir = run_dir_of(tmp_path)
    scores = pd.read_csv(run_dir / "scores.csv")
    assert sorted(scores["fold"].unique()) == [0]
    assert (run_dir / "predictions" / "fold_0.npz").is_file()
    error = (run_dir / "errors" / "fold_1.txt").read_text().splitlines()
    assert error[0].startswith(str(tmp_path / "submissions" / "iris" / "flaky" / "estimator.py"))
    assert "raise RuntimeError" in error[0]
    assert "RuntimeError: boom in the second fold" in error[1]
    folds = pd.read_csv(run_dir / "folds.csv")
    assert folds["status"].tolist() == ["ok", "failed"]
    assert '"status": "failed"' in (run_dir / "summary.json").read_text()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("return np.ones((len(X), 2)) / 2",
         "expected class probabilities of shape (96, 3) (samples, labels ['setosa', "
         "'versicolor', 'virginica']), got shape (96, 2)"),
        ("out = np.ones((len(X), 3)) / 3; out[4] = np.nan; return out",
         "NaN or infinite values in 1 row of the predicted probabilities (row 4)"),
    ],
    ids=["wrong-shape", "nan"],
)
def test_bad_predictions_name_the_file(run_cli, tmp_path, kits, body, expected):
    write_submission(tmp_path, "bad", {"classifier.py": textwrap.dedent(f"""
        import numpy as np

        class Classifier:
            def fit(self, X, y):
                return self

            def predict_proba(self, X):
                {body}
        """)})
    proc = run_cli("problem=iris_kit", f"data_root={kits}", "workflow=classifier",
                   "submission=bad", "progress=false")
    assert proc.returncode == 1
    assert str(tmp_path / "submissions" / "iris" / "bad" / "classifier.py") in proc.stderr
    assert "fold 0, predictions on the training data" in proc.stderr
    assert expected in proc.stderr
