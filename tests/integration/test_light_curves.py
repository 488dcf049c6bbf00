"""light_curves end to end: generated data, joined files, array cells, the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import cli_env

pytestmark = pytest.mark.slow

SPY = '''"""Records what it is given (types and lengths of the array cells), predicts the prior."""
import json
import os

import numpy as np


class Spy:
    def fit(self, X, y):
        log = {"columns": list(X.columns), "index": list(map(int, X.index[:3])),
               "types": sorted({type(v).__name__ for c in ("times", "magnitudes")
                                for v in X[c]}),
               "lengths": sorted({len(v) for v in X["times"]}),
               "paired": all(len(t) == len(m) for t, m in zip(X["times"], X["magnitudes"]))}
        with open(os.environ["SPY_LOG"], "a") as f:
            f.write(json.dumps(log) + "\\n")
        self.classes_, counts = np.unique(y, return_counts=True)
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))


def get_estimator():
    return Spy()
'''


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    proc = subprocess.run([sys.executable, "-m", "rampconf.datasets", "light_curves",
                           "generate", "--data-root", str(root), "--n-train", "120",
                           "--n-test", "60", "--seed", "2"], capture_output=True, text=True,
                          env=cli_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    assert (root / "light_curves" / "train_curves.csv").exists()
    return root


def test_starting_kit_beats_chance(run_cli, data_root, tmp_path):
    proc = run_cli("problem=light_curves", f"data_root={data_root}", "progress=false")
    assert proc.returncode == 0, proc.stderr
    assert "acc" in proc.stdout and "nll" in proc.stdout
    summary = json.loads(next((tmp_path / "outputs").rglob("summary.json")).read_text())
    assert summary["score_names"][0] == "acc"
    # Four balanced classes: chance is 0.25.
    assert summary["mean"]["test"]["acc"] > 0.7
    assert summary["mean"]["valid"]["acc"] > 0.6


def test_submission_receives_numpy_arrays_of_different_lengths(run_cli, data_root, tmp_path):
    folder = tmp_path / "submissions" / "light_curves" / "spy"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(SPY)
    log = tmp_path / "spy.jsonl"
    proc = run_cli("problem=light_curves", f"data_root={data_root}", "progress=false",
                   "submission=spy", env={"SPY_LOG": str(log)})
    assert proc.returncode == 0, proc.stderr
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries
    for entry in entries:
        assert entry["columns"] == ["mean_error", "times", "magnitudes"]
        assert entry["types"] == ["ndarray"]
        assert len(entry["lengths"]) > 1 and entry["lengths"][0] >= 30
        assert entry["paired"]


def test_missing_data_says_how_to_generate(run_cli, tmp_path):
    proc = run_cli("problem=light_curves", f"data_root={tmp_path / 'none'}", "progress=false")
    assert proc.returncode != 0
    assert "rampconf-data light_curves generate" in proc.stderr
