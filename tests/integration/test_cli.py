"""The command line as a user runs it: from any directory, on the installed package."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from rampconf.resources import packaged_submissions_dir

pytestmark = pytest.mark.slow


def only_run_dir(root: Path) -> Path:
    runs = [p.parent for p in root.rglob("summary.json")]
    assert len(runs) == 1, runs
    return runs[0]


def test_default_problem_runs_from_any_directory(run_cli, tmp_path):
    proc = run_cli("progress=false")
    assert proc.returncode == 0, proc.stderr
    for title in ("iris / starting_kit: folds", "mean ± std over 2 folds", "bagged over folds"):
        assert title in proc.stdout
    run_dir = only_run_dir(tmp_path / "outputs")
    assert run_dir.parent == tmp_path / "outputs" / "iris" / "starting_kit"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "ok"
    assert summary["official_score"] == "acc"
    assert set(summary["mean"]) == {"train", "valid", "test"}
    assert set(summary["bagged"]) == {"valid", "test"}
    scores = pd.read_csv(run_dir / "scores.csv")
    assert list(scores.columns) == ["fold", "step", "score", "value"]
    assert len(scores) == 2 * 3 * 7  # folds x steps x scores
    assert (run_dir / ".hydra" / "overrides.yaml").is_file()
    assert (run_dir / "config.yaml").is_file()
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["versions"]["scikit-learn"].startswith("1.9")
    assert len(summary["seeds"]["folds"]) == 2


def test_console_script_runs_too(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    script = shutil.which("rampconf", path=str(Path(sys.executable).parent)) \
        or shutil.which("rampconf")
    assert script, "the rampconf console script is not installed"
    proc = subprocess.run([script, "progress=false", "cv=kfold", "cv.n_splits=3"], cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=300,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "mean ± std over 3 folds" in proc.stdout


def test_swap_parts_from_the_command_line(run_cli, kits, tmp_path):
    proc = run_cli("problem=titanic", f"data_root={kits}", "cv=kfold", "cv.n_splits=3",
                   "submission=logistic_regression", "submission.params.C=0.5", "n_jobs=2",
                   "problem.scores.f1_70.threshold=0.5", "progress=false")
    assert proc.returncode == 0, proc.stderr
    run_dir = only_run_dir(tmp_path / "outputs")
    config = (run_dir / "config.yaml").read_text()
    assert "type: kfold" in config and "n_splits: 3" in config
    assert "C: 0.5" in config and "threshold: 0.5" in config
    scores = pd.read_csv(run_dir / "scores.csv")
    assert sorted(scores["fold"].unique()) == [0, 1, 2]


def test_data_root_from_the_environment(run_cli, kits, tmp_path):
    proc = run_cli("problem=boston_housing", "progress=false",
                   env={"RAMPCONF_DATA_ROOT": str(kits)})
    assert proc.returncode == 0, proc.stderr
    run_dir = only_run_dir(tmp_path / "outputs")
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["data_files"]["train"]["path"].startswith(f"{kits}/")
    # config.yaml keeps the interpolation, never an environment value in clear
    config = (run_dir / "config.yaml").read_text()
    assert "data_root: ${oc.env:RAMPCONF_DATA_ROOT,data}" in config


def test_workflow_override(run_cli, kits, tmp_path):
    proc = run_cli("problem=titanic", "workflow=feature_extractor_classifier",
                   f"submission.path={packaged_submissions_dir() / 'titanic_old' / 'starting_kit'}",
                   f"data_root={kits}", "progress=false")
    assert proc.returncode == 0, proc.stderr
    assert "feature_extractor_classifier" in (
        only_run_dir(tmp_path / "outputs") / "config.yaml").read_text()


def test_submission_path_with_any_submission_name(run_cli, tmp_path):
    # The README's form: `submission=` any name (not a packaged submission) with a folder.
    folder = packaged_submissions_dir() / "iris" / "starting_kit"
    proc = run_cli("submission=my_try", f"submission.path={folder}", "progress=false")
    assert proc.returncode == 0, proc.stderr
    assert "iris / my_try: folds" in proc.stdout
    run_dir = only_run_dir(tmp_path / "outputs" / "iris" / "my_try")
    assert json.loads((run_dir / "metadata.json").read_text())["submission_path"] == str(folder)


def test_help_lists_options_including_the_users(run_cli, tmp_path):
    (tmp_path / "conf" / "problem").mkdir(parents=True)
    (tmp_path / "conf" / "problem" / "my_problem.yaml").write_text("name: my_problem\n")
    (tmp_path / "conf" / "cv").mkdir()
    (tmp_path / "conf" / "cv" / "my_cv.yaml").write_text("type: kfold\n")
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    for expected in ("problem: ", "my_problem", "titanic", "iris", "my_cv", "kfold",
                     "stratified_shuffle_split", "feature_extractor_classifier",
                     "brier_score_reliability", "score: accuracy"):
        assert expected in proc.stdout, expected


def test_help_read_without_composing_is_the_composed_help(run_cli, tmp_path):
    """Plain ``--help`` takes its text from the packaged config.yaml; with an override (or a
    ./conf/config.yaml) Hydra composes the whole config first: the same text."""
    quick = run_cli("--help")
    composed = run_cli("--help", "hydra.job.name=composed")  # an override: Hydra's own path
    assert quick.returncode == composed.returncode == 0, quick.stderr + composed.stderr
    assert quick.stdout == composed.stdout
    assert "== Configuration groups ==" in quick.stdout and "score: accuracy" in quick.stdout
    (tmp_path / "conf").mkdir()  # a primary config of the user's: its own help is printed
    (tmp_path / "conf" / "config.yaml").write_text(
        "defaults:\n  - problem: iris\n  - _self_\nhydra:\n  help:\n"
        "    template: 'my help: $APP_CONFIG_GROUPS'\n")
    mine = run_cli("--help")
    assert mine.returncode == 0, mine.stderr
    assert mine.stdout.startswith("my help: ")


def test_user_problem_in_yaml_overrides_and_extends(run_cli, tmp_path):
    """A user's ./conf/problem/iris.yaml replaces the built-in one; new problems work."""
    (tmp_path / "conf" / "problem").mkdir(parents=True)
    (tmp_path / "conf" / "problem" / "iris.yaml").write_text(
        "defaults:\n  - /score@scores.bac: balanced_accuracy\n  - _self_\n"
        "name: iris\ndata: {reader: sklearn, dataset: iris, random_state: 1}\n"
        "prediction: {type: multiclass}\nworkflow: estimator\n"
        "cv: {type: kfold, n_splits: 3, shuffle: true, random_state: 3}\n")
    proc = run_cli("progress=false")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((only_run_dir(tmp_path / "outputs") / "summary.json").read_text())
    assert summary["score_names"] == ["bac"] and summary["n_folds"] == 3
