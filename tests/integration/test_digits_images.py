"""digits_images end to end: generated PNG files, the command line, the image workflow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ..conftest import cli_env

pytestmark = pytest.mark.slow

SPY = '''"""Checks the batch contract, then predicts the training class frequencies."""
import json
import os

import numpy as np


class ImageClassifier:
    def __init__(self, batch_log=None):
        self.log = {}

    def fit(self, batches, y):
        sizes = [[len(images), len(labels), str(images.dtype), list(images.shape[1:])]
                 for images, labels in batches]
        again = sum(len(labels) for _, labels in batches)
        self.log.update(fit=sizes, n=len(batches), n_batches=batches.n_batches,
                        again=again, n_y=len(y))
        self.classes_, counts = np.unique(y, return_counts=True)
        self.prior = counts / counts.sum()
        return self

    def predict_proba(self, batches):
        sizes = [len(images) for images in batches]
        with open(os.environ["SPY_LOG"], "a") as f:
            f.write(json.dumps({**self.log, "predict": sizes}) + "\\n")
        return np.tile(self.prior, (sum(sizes), 1))
'''


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    proc = subprocess.run([sys.executable, "-m", "rampconf.datasets", "digits_images",
                           "generate", "--data-root", str(root), "--n-train", "600",
                           "--n-test", "200", "--seed", "1"],
                          capture_output=True, text=True, env=cli_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(list((root / "digits_images" / "train").glob("*.png"))) == 600
    return root


def test_starting_kit_is_well_above_chance(run_cli, data_root, tmp_path):
    proc = run_cli("problem=digits_images", f"data_root={data_root}", "progress=false")
    assert proc.returncode == 0, proc.stderr
    run_dir = next((tmp_path / "outputs").rglob("summary.json")).parent
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["score_names"] == ["acc", "nll"]
    table = pd.read_csv(run_dir / "scores.csv")
    assert table["fold"].nunique() == 2
    # Ten classes: chance is 0.1.
    assert summary["mean"]["valid"]["acc"] > 0.8
    assert summary["bagged"]["test"]["acc"] > 0.8
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert set(metadata["data_files"]) == {"train_labels", "test_labels"}


def test_submission_gets_batches(run_cli, data_root, tmp_path):
    submission = tmp_path / "spy"
    submission.mkdir()
    (submission / "image_classifier.py").write_text(SPY)
    log = tmp_path / "spy.jsonl"
    proc = run_cli("problem=digits_images", f"data_root={data_root}", "progress=false",
                   f"submission.path={submission}", "problem.workflow.batch_size=100",
                   "problem.cv.n_splits=1", env={"SPY_LOG": str(log)})
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(records) == 2  # the fold predicts the training set, then the test set
    fit = records[0]["fit"]
    assert [n for n, *_ in fit] == [100, 100, 100, 100, 80]  # 480 training rows of the fold
    assert all(n == m and dtype == "uint8" and shape == [64, 64]
               for n, m, dtype, shape in fit)
    assert records[0]["n"] == records[0]["again"] == records[0]["n_y"] == 480
    assert records[0]["n_batches"] == 5
    assert records[0]["predict"] == [100] * 6
    assert records[1]["predict"] == [100, 100]


def test_missing_image_is_reported_before_the_run(run_cli, data_root, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(data_root, copy)
    (copy / "digits_images" / "test" / "00007.png").unlink()
    proc = run_cli("problem=digits_images", f"data_root={copy}", "progress=false")
    assert proc.returncode != 0
    assert "00007.png" in proc.stderr and "missing" in proc.stderr


def test_missing_data_says_how_to_generate(run_cli, tmp_path):
    proc = run_cli("problem=digits_images", f"data_root={tmp_path / 'nothing'}",
                   "progress=false")
    assert proc.returncode != 0
    assert "rampconf-data digits_images generate" in proc.stderr
