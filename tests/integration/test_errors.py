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
    assert not (tmp_path / "outputs").exists()  # found before the run: no run directory


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
    # each fold runs in a fresh process: the calls are counted in a file, not in memory
    write_submission(tmp_path, "flaky", {"estimator.py": code("""
        import pathlib

        CALLS = pathlib.Path(__file__).resolve().parent / "calls.txt"

        def get_estimator():
            with CALLS.open("a") as calls:
                calls.write("1")
            if len(CALLS.read_text()) == 2:
                raise RuntimeError("boom in the second fold")
            return RandomForestClassifier(n_estimators=2, random_state=0)
        """)})
    proc = run_cli("submission=flaky", "progress=false")
    assert proc.returncode == 1
    assert "fold(s) 1" in proc.stderr and "estimator.py:" in proc.stderr
    assert "; the other fold is saved)" in proc.stderr
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


# --------------------------------------------------------------------------- bad data


def one_line_exit_2(proc, tmp_path: Path) -> str:
    """The single stderr line of a run refused before it started; nothing left on disk."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert not (tmp_path / "outputs").exists(), list((tmp_path / "outputs").rglob("*"))
    return lines[0]


def bad_data_project(root: Path, prediction: str = "multiclass", labels: str = "[1, 2, 3, 4]"
                     ) -> Path:
    """A user problem ``bad`` (CSV files under ``root/data/bad``) and its starting kit."""
    import numpy as np

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"Age": rng.normal(30, 5, 60).round(1), "Fare": rng.normal(size=60),
                          "level": rng.integers(1, 5, 60).astype(float),  # 1.0 ... 4.0
                          "price": rng.normal(size=60)})
    data = root / "data" / "bad"
    data.mkdir(parents=True)
    frame.iloc[:40].to_csv(data / "train.csv", index=False)
    frame.iloc[40:].to_csv(data / "test.csv", index=False)
    target, other = ("level", "price") if prediction == "multiclass" else ("price", "level")
    score = "accuracy" if prediction == "multiclass" else "rmse"
    (root / "conf" / "problem").mkdir(parents=True)
    (root / "conf" / "problem" / "bad.yaml").write_text(
        f"defaults:\n  - /score@scores.s: {score}\n  - _self_\nname: bad\n"
        f"data: {{reader: csv, train: bad/train.csv, test: bad/test.csv, target: {target}, "
        f"ignore: [{other}]}}\n"
        f"prediction: {{type: {prediction}"
        + (f", labels: {labels}}}\n" if prediction == "multiclass" else "}\n")
        + "workflow: estimator\ncv: {type: kfold, n_splits: 2, shuffle: true, random_state: 0}\n")
    model = "LogisticRegression" if prediction == "multiclass" else "LinearRegression"
    write_submission(root, "starting_kit", {"estimator.py": (
        f"from sklearn.linear_model import {model}\n\n\ndef get_estimator():\n"
        f"    return {model}()\n")}, problem="bad")
    return data


def test_labels_declared_as_ints_match_targets_read_as_floats(run_cli, tmp_path):
    """``labels: [1, 2, 3, 4]`` for a column read as 1.0 ... 4.0: same labels before and after."""
    bad_data_project(tmp_path)
    proc = run_cli("problem=bad", "progress=false")
    assert proc.returncode == 0, proc.stderr
    summary = (run_dir_of(tmp_path) / "summary.json").read_text()
    assert '"status": "ok"' in summary


def _edit(path: Path, change) -> None:
    change(pd.read_csv(path)).to_csv(path, index=False)


def _set(column: str, row: int, value: float):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame

    return change


@pytest.mark.parametrize(("prediction", "file", "change", "expected"), [
    ("multiclass", "test.csv", _set("level", 5, 7.0),
     "test.csv, column 'level', row 5: targets hold labels ['7.0'] that are not among the "
     "problem's labels [1, 2, 3, 4]"),
    ("regression", "train.csv", _set("price", 12, float("nan")),
     "train.csv, column 'price', row 12: regression targets must be finite, got nan"),
    ("regression", "test.csv", _set("price", 3, float("inf")),
     "test.csv, column 'price', row 3: regression targets must be finite, got inf"),
    ("multiclass", "test.csv", lambda frame: frame.drop(columns=["Fare"]),
     "test.csv: the test data lacks the feature column(s) ['Fare']"),
], ids=["label-outside-the-labels", "nan-regression-target", "inf-regression-target",
        "test-lacks-a-column"])
def test_bad_data_is_refused_before_any_fold(run_cli, tmp_path, prediction, file, change,
                                             expected):
    data = bad_data_project(tmp_path, prediction)
    _edit(data / file, change)
    line = one_line_exit_2(run_cli("problem=bad", "progress=false"), tmp_path)
    assert line.startswith(f"error: {data / expected}"), line


def test_a_header_naming_a_column_twice_is_refused(run_cli, tmp_path):
    data = bad_data_project(tmp_path)
    text = (data / "train.csv").read_text()
    (data / "train.csv").write_text(text.replace("Age,Fare,", "Age,Age,", 1))
    line = one_line_exit_2(run_cli("problem=bad", "progress=false"), tmp_path)
    assert line == (f"error: {data / 'train.csv'}: the header (row 0) names column 'Age' twice "
                    "(columns 0 and 1, counted from 0); pandas would read the second as Age.1: "
                    "give every column its own name")


@pytest.mark.parametrize("labels", ["[0, 0, 1]", "[1, 2, 3, 1.0]"], ids=["ints", "int-float"])
def test_labels_given_twice_are_refused(run_cli, tmp_path, labels):
    bad_data_project(tmp_path, labels=labels)
    line = one_line_exit_2(run_cli("problem=bad", "progress=false"), tmp_path)
    assert line.startswith("config error: problem.prediction.labels: value error, label ")
    assert "is given twice" in line


def test_no_fold_saved_says_so(run_cli, tmp_path):
    write_submission(tmp_path, "always_fails", {"estimator.py": code("""
        def get_estimator():
            raise RuntimeError("nothing works")
        """)})
    proc = run_cli("submission=always_fails", "progress=false")
    assert proc.returncode == 1
    assert "no fold succeeded" in proc.stderr
    assert "are saved" not in proc.stderr and "is saved" not in proc.stderr


# --------------------------------------------------------------------------- config errors


@pytest.mark.parametrize(("args", "expected"), [
    (["retrian=true"], "config error: retrian: unknown key; did you mean 'retrain'? keys of "
                       "the top level: "),
    (["problem.cv.n_split=3"], "config error: problem.cv.n_split: unknown key; did you mean "
                               "'problem.cv.n_splits'? keys of problem.cv: "),
    (["-m", "retrian=true", "seed=1,2"], "config error: retrian: unknown key; did you mean "
                                         "'retrain'?"),
    (["cv=kfold", "cv.n_splits=1"], "config error: cv.n_splits: input should be greater than "
                                    "or equal to 2, got 1"),
    (["problem=titanic", "data_root=nowhere"], "error: missing data files (train: "),
], ids=["top-level-key", "nested-key", "multirun-key", "pydantic", "missing-data"])
def test_config_errors_are_one_line_and_leave_no_run_directory(run_cli, tmp_path, args,
                                                                expected):
    line = one_line_exit_2(run_cli(*args, "progress=false"), tmp_path)
    assert line.startswith(expected), line
    assert not (tmp_path / "multirun").exists()


@pytest.mark.parametrize(("group", "option", "closest"), [
    ("score", "acuracy", "accuracy"), ("cv", "kfld", "kfold"),
    ("workflow", "estimatr", "estimator")])
def test_unknown_option_in_a_problem_defaults_list(run_cli, tmp_path, group, option, closest):
    (tmp_path / "conf" / "problem").mkdir(parents=True)
    key = {"score": "scores.acc", "cv": "cv", "workflow": "workflow"}[group]
    (tmp_path / "conf" / "problem" / "mine.yaml").write_text(
        f"defaults:\n  - iris\n  - /{group}@{key}: {option}\n  - _self_\nname: mine\n")
    line = one_line_exit_2(run_cli("problem=mine"), tmp_path)
    assert line.startswith(f"config error: {Path('conf/problem/mine.yaml')}: defaults list: "
                           f"unknown {group} option {option!r}; did you mean {closest!r}? "
                           "valid names: "), line


def test_new_problem_without_submissions_says_how_to_create_one(run_cli, tmp_path):
    bad_data_project(tmp_path)
    (tmp_path / "submissions" / "bad" / "starting_kit" / "estimator.py").unlink()
    (tmp_path / "submissions" / "bad" / "starting_kit").rmdir()
    line = one_line_exit_2(run_cli("problem=bad", "workflow=classifier"), tmp_path)
    assert line.startswith("config error: submission: problem 'bad' has no submission yet "
                           f"(looked in {tmp_path / 'submissions' / 'bad'}, "), line
    assert line.endswith("create the folder ./submissions/bad/starting_kit/ holding "
                         "classifier.py defining Classifier, or a folder anywhere: "
                         "submission=starting_kit submission.path=DIR")


def test_data_set_options_of_another_data_set_are_refused(tmp_path):
    import subprocess
    import sys

    from tests.conftest import cli_env

    proc = subprocess.run([sys.executable, "-m", "rampconf.datasets", "higgs_toy", "check",
                           "--mini"], cwd=tmp_path, env=cli_env(), capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr == ("error: rampconf-data higgs_toy check: unknown option '--mini'; "
                           "options of higgs_toy check: --data-root, --quiet\n")
