"""An undefined score is a value: NaN in tables and CSV files, one warning, a successful run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import rampconf

pytestmark = pytest.mark.slow

PROBLEM = """\
defaults:
  - /score@scores.auc: roc_auc
  - /score@scores.acc: accuracy
  - _self_

name: sorted_labels
data:
  reader: csv
  train: sorted_labels/train.csv
  test: sorted_labels/test.csv
  target: y
prediction:
  type: multiclass
  labels: [0, 1]
workflow: estimator
cv:                   # fold 0 validates on block 0, which holds label 0 only
  type: blocks
  n_blocks: 4
  folds:
    - {train: [1, 2], valid: [0]}
    - {train: [0, 3], valid: [1, 2]}
"""

ESTIMATOR = """\
from sklearn.linear_model import LogisticRegression


def get_estimator():
    return LogisticRegression()
"""


def write_problem(root):
    """A user problem whose training rows are sorted by label (40 rows, 4 blocks)."""
    (root / "conf" / "problem").mkdir(parents=True)
    (root / "conf" / "problem" / "sorted_labels.yaml").write_text(PROBLEM)
    folder = root / "submissions" / "sorted_labels" / "starting_kit"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(ESTIMATOR)
    rng = np.random.default_rng(3)
    data = root / "data" / "sorted_labels"
    data.mkdir(parents=True)
    for split, n in (("train", 40), ("test", 20)):
        y = np.repeat([0, 1], n // 2)
        pd.DataFrame({"x": y + rng.normal(0, 0.6, n), "y": y}).to_csv(data / f"{split}.csv",
                                                                       index=False)


def test_an_undefined_score_is_nan_with_its_reason_and_the_fold_succeeds(tmp_path, monkeypatch):
    write_problem(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = rampconf.run(problem="sorted_labels", quiet=True, output_dir=tmp_path / "run")
    assert result.status == "ok"
    assert list(result.folds["status"]) == ["ok", "ok"]
    scores = result.scores.set_index(["fold", "step", "score"])["value"]
    assert np.isnan(scores[(0, "valid", "auc")])
    assert 0.5 < scores[(0, "valid", "acc")] <= 1.0  # the other scores are there
    assert 0.5 < scores[(1, "valid", "auc")] <= 1.0
    assert np.isnan(result.summary["mean"]["valid"]["auc"])
    # bagged over the first fold: only its valid rows (label 0) are scored
    first = result.bagged.query("n_folds == 1 and step == 'valid'").set_index("score")["value"]
    assert np.isnan(first["auc"])
    assert result.summary["undefined"] == [{
        "score": "auc", "reason": "only one label among the true values",
        "where": ["fold 0 valid", "bagged over 1 fold valid"]}]
    # NaN is written as such, and summary.json holds null (JSON has no NaN)
    assert "0,valid,auc,NaN" in (tmp_path / "run" / "scores.csv").read_text()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["mean"]["valid"]["auc"] is None


def test_the_command_line_warns_once_per_score_and_reason(run_cli, tmp_path):
    write_problem(tmp_path)
    proc = run_cli("problem=sorted_labels", "progress=false", "hydra.run.dir=run")
    assert proc.returncode == 0, proc.stderr
    warning = ("warning: auc is undefined (NaN) in fold 0 valid, bagged over 1 fold valid: "
               "only one label among the true values")
    assert proc.stdout.count(warning) == 1, proc.stdout
    # the mean table shows NaN alone: no spread of a score without a value
    assert "│  NaN │" in proc.stdout and "NaN ±" not in proc.stdout
    report = run_cli_report(tmp_path / "run")
    assert warning in report and "│  NaN │" in report and "NaN ±" not in report


def run_cli_report(run_dir) -> str:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "rampconf.report", str(run_dir)],
                          capture_output=True, text=True, check=True,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    return proc.stdout
