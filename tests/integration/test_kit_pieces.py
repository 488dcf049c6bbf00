"""Pieces real kits need, through the command line: quick runs, scores checked against the
problem before any training, reader options and CV schemes of a YAML-only problem."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def run_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("summary.json"))


# --------------------------------------------------------------------------- quick=true


def test_quick_run_equals_a_run_on_the_first_rows(run_cli, kits, tmp_path):
    # RAMP_TEST_MODE in the kits keeps X[:N], y[:N] of each split: a quick run must give
    # exactly the numbers of a full run on files cut to their first N rows.
    cut = tmp_path / "cut"
    (cut / "titanic").mkdir(parents=True)
    for split in ("train", "test"):
        pd.read_csv(kits / "titanic" / f"{split}.csv").head(60).to_csv(
            cut / "titanic" / f"{split}.csv", index=False)
    quick = run_cli("problem=titanic", f"data_root={kits}", "quick=true", "quick_rows=60",
                    "progress=false", "hydra.run.dir=run_quick")
    assert quick.returncode == 0, quick.stderr
    assert "quick=true: a smoke run on the first 60 rows of each split (60 training, 60 test " \
           "rows)" in quick.stdout
    full = run_cli("problem=titanic", f"data_root={cut}", "progress=false",
                   "hydra.run.dir=run_cut")
    assert full.returncode == 0, full.stderr
    scores = [pd.read_csv(tmp_path / name / "scores.csv") for name in ("run_quick", "run_cut")]
    pd.testing.assert_frame_equal(*scores)
    metadata = json.loads((tmp_path / "run_quick" / "metadata.json").read_text())
    assert (metadata["n_train"], metadata["n_test"]) == (60, 60)
    assert json.loads((tmp_path / "run_quick" / "summary.json").read_text())["quick"] is True


# --------------------------------------------------------------------------- score matrix


def test_a_score_matrix_of_the_wrong_size_stops_before_any_training(run_cli, tmp_path):
    (tmp_path / "conf" / "problem").mkdir(parents=True)
    (tmp_path / "conf" / "problem" / "iris_soft.yaml").write_text(
        "defaults:\n  - iris\n  - _self_\n"
        "name: iris_soft\nsubmissions: iris\n"
        "scores:\n  soft:\n    type: soft_accuracy\n"
        "    score_matrix: [[1, 0.5], [0.5, 1]]\n")
    proc = run_cli("problem=iris_soft", "progress=false")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        "config error: problem.scores.soft: score_matrix is 2x2 but the problem has 3 labels "
        "['setosa', 'versicolor', 'virginica']; give one row and one column per label, in the "
        "labels' order")
    assert run_dirs(tmp_path) == []


# --------------------------------------------------------------------------- a YAML-only kit


def readme_example(name: str) -> str:
    """The fenced block after ``<!-- example: NAME -->`` in the documentation's
    ramp-workflow page (``docs/ramp-workflow.md``, from ``problem.py`` to YAML)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "ramp-workflow.md").read_text()
    return re.search(rf"<!-- example: {re.escape(name)} -->\n```\w*\n(.*?)```", text,
                     re.S).group(1)


def velib_kit(root: Path) -> None:
    """A kit shaped like the velib one: tab-separated, dated rows, a target derived from a
    count, folds by date periods, a station group kept as a feature."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 240), ("test", 80)):
        dates = pd.Timestamp("2021-03-01") + pd.to_timedelta(rng.integers(0, 90 * 24, n),
                                                             unit="h")
        frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d %H:%M"),
                              "station": rng.choice(["a", "b", "c"], n),
                              "temp": rng.normal(15, 5, n).round(1)})
        frame["bikes"] = np.where(frame["temp"] + rng.normal(0, 2, n) > 15, 0,
                                  rng.integers(1, 9, n))
        folder = root / "data" / "velib"
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / f"{split}.csv", sep="\t", index=False)
    (root / "conf" / "problem").mkdir(parents=True)
    (root / "conf" / "problem" / "velib.yaml").write_text(readme_example("conf/problem/velib.yaml"))
    folder = root / "submissions" / "velib" / "starting_kit"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(
        "from sklearn.compose import make_column_transformer\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import OneHotEncoder\n\n\n"
        "def get_estimator():\n"
        "    features = make_column_transformer((OneHotEncoder(), ['station']),\n"
        "                                       ('passthrough', ['temp']))\n"
        "    return make_pipeline(features, LogisticRegression())\n")


def test_a_yaml_only_kit_with_the_new_reader_options_and_cv(run_cli, tmp_path):
    velib_kit(tmp_path)
    proc = run_cli("problem=velib", "progress=false", "save_predictions=true")
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = run_dirs(tmp_path / "outputs")
    folds = pd.read_csv(run_dir / "folds.csv")
    assert len(folds) == 4 and (folds["status"] == "ok").all()
    # The folds are the date periods of the training rows, sorted by date on read.
    train = pd.read_csv(tmp_path / "data" / "velib" / "train.csv", sep="\t")
    dates = pd.to_datetime(train["date"]).sort_values(kind="stable").reset_index(drop=True)
    length = pd.Timedelta(days=(dates.max() - dates.min()).days // 4)
    for fold in range(4):
        saved = np.load(run_dir / "predictions" / f"fold_{fold}.npz")
        start = dates.min() + fold * length
        expected = np.flatnonzero((dates >= start) & (dates < start + length))
        assert saved["valid_idx"].tolist() == expected.tolist()
    # Wrong separator: the error says which one the file uses.
    proc = run_cli("problem=velib", "problem.data.read_options.sep=','", "progress=false")
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(
        "is the file tab-separated? set data.read_options.sep: '\\t'"), proc.stderr
