"""higgs_toy end to end: generated data, the command line, weighted scores, weights not features."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rampconf_physics.data import HiggsToy
from rampconf_physics.scores import ams

import rampconf
from rampconf.plugin import make_plugin
from rampconf.scores import BaseScore

from ..conftest import cli_env

pytestmark = pytest.mark.slow

SPY = '''"""Records the columns and targets it is given, then predicts like a classifier."""
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression


class Spy:
    def fit(self, X, y):
        y = np.asarray(y, dtype=object)
        self.log = {"fit_columns": list(X.columns), "y_shape": list(y.shape)}
        self.model = LogisticRegression(max_iter=1000).fit(X, np.array(y[:, 0].tolist()))
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, X):
        self.log.setdefault("predict_columns", []).append(list(X.columns))
        with open(os.environ["SPY_LOG"], "a") as f:
            f.write(json.dumps(self.log) + "\\n")
        return self.model.predict_proba(X)


def get_estimator():
    return Spy()
'''


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    proc = subprocess.run([sys.executable, "-m", "rampconf.datasets", "higgs_toy", "generate",
                           "--data-root", str(root), "--n-train", "600", "--n-test", "300",
                           "--seed", "1"], capture_output=True, text=True, env=cli_env(),
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert (root / "higgs_toy" / "train.csv").exists()
    return root


def test_command_line_run_prints_weighted_scores(run_cli, data_root, tmp_path):
    proc = run_cli("problem=higgs_toy", f"data_root={data_root}", "progress=false")
    assert proc.returncode == 0, proc.stderr
    for name in ("ams", "wacc", "wauc"):
        assert name in proc.stdout
    run_dir = next((tmp_path / "outputs").rglob("summary.json")).parent
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["score_names"][0] == "ams"
    table = pd.read_csv(run_dir / "scores.csv")
    assert set(table["score"]) == {"ams", "wacc", "wauc"}
    assert table["fold"].nunique() == 2
    assert (table.loc[table.score == "ams", "value"] >= 0).all()
    # The starting kit separates signal from background far better than chance.
    test_auc = summary["mean"]["test"]["wauc"]
    assert 0.8 < test_auc <= 1.0
    assert summary["mean"]["test"]["ams"] > 1.0


def test_score_parameters_from_the_command_line_change_the_ams(data_root, tmp_path,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = {}
    for br in (10, 1):
        result = rampconf.run(problem="higgs_toy", submission="starting_kit", quiet=True,
                              overrides=[f"data_root={data_root}", f"problem.scores.ams.br={br}"])
        assert result.status == "ok"
        runs[br] = result.summary
    # Same (deterministic) predictions: less regularisation, more significance; others equal.
    for step in ("train", "valid", "test"):
        assert runs[1]["mean"][step]["ams"] > runs[10]["mean"][step]["ams"]
        assert runs[1]["mean"][step]["wauc"] == runs[10]["mean"][step]["wauc"]
    # A perfect selection bounds the test AMS: s = all signal weight, b = 0.
    test = pd.read_csv(data_root / "higgs_toy" / "test.csv")
    s_total = test.loc[test.Label == "s", "Weight"].sum()
    assert runs[10]["bagged"]["test"]["ams"] <= ams(s_total, 0.0, 10.0) + 1e-9


def test_perfect_prediction_through_the_plugins(data_root):
    test = pd.read_csv(data_root / "higgs_toy" / "test.csv")
    weights = test["Weight"].to_numpy()
    truth = (test["Label"] == "s").to_numpy()
    y_true = np.column_stack([truth.astype(float), weights])
    perfect = np.column_stack([~truth, truth]).astype(float)
    s_total = weights[truth].sum()
    assert make_plugin("score", "weighted_roc_auc", {}, "s", BaseScore)(y_true, perfect) == 1.0
    assert make_plugin("score", "weighted_accuracy", {}, "s", BaseScore)(y_true, perfect) == 1.0
    ams_score = make_plugin("score", "ams", {"br": 10.0}, "s", BaseScore)
    assert ams_score(y_true, perfect) == pytest.approx(ams(s_total, 0.0, 10.0))
    assert make_plugin("score", "ams", {"br": 0.0}, "s", BaseScore)(y_true, perfect) == np.inf


def test_weight_column_never_reaches_the_features(run_cli, data_root, tmp_path):
    submission = tmp_path / "spy"
    submission.mkdir()
    (submission / "estimator.py").write_text(SPY)
    log = tmp_path / "spy.jsonl"
    proc = run_cli("problem=higgs_toy", f"data_root={data_root}", "progress=false",
                   f"submission.path={submission}", env={"SPY_LOG": str(log)})
    assert proc.returncode == 0, proc.stderr
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries
    features = ["mass", "pt", "eta", "met"]
    for entry in entries:
        assert entry["fit_columns"] == features
        assert all(columns == features for columns in entry["predict_columns"])
        # The target carries (label, weight); the weight is never in X.
        assert entry["y_shape"][1] == 2


def test_missing_data_says_how_to_generate(run_cli, tmp_path):
    proc = run_cli("problem=higgs_toy", f"data_root={tmp_path / 'none'}", "progress=false")
    assert proc.returncode != 0
    assert "higgs_toy" in proc.stderr


def test_generator_class_writes_the_problem_files(tmp_path):
    paths = HiggsToy(tmp_path).generate(50, 20, seed=0)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "higgs_toy/train.csv", "higgs_toy/test.csv"]
