"""higgs_toy end to end: generated data, weighted scores, weights neither features nor target."""

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

SPY = '''"""Records the columns, targets and weights it is given; predicts like a classifier."""
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression


class Spy:
    def fit(self, X, y, **fit_params):
        y = np.asarray(y)
        weights = fit_params.get("sample_weight")
        self.log = {"fit_columns": list(X.columns), "y_shape": list(y.shape),
                    "labels": sorted(set(y.tolist())), "fit_params": sorted(fit_params),
                    "n_rows": len(y),
                    "weight_sum": None if weights is None else float(np.sum(weights))}
        self.model = LogisticRegression(max_iter=1000).fit(X, y)
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
    y_true = truth.astype(int)
    perfect = np.column_stack([~truth, truth]).astype(float)
    s_total = weights[truth].sum()
    for name in ("weighted_roc_auc", "weighted_accuracy"):
        score = make_plugin("score", name, {}, "s", BaseScore)
        assert score(y_true, perfect, weights) == 1.0
    ams_score = make_plugin("score", "ams", {"br": 10.0}, "s", BaseScore)
    assert ams_score(y_true, perfect, weights) == pytest.approx(ams(s_total, 0.0, 10.0))
    no_br = make_plugin("score", "ams", {"br": 0.0}, "s", BaseScore)
    assert no_br(y_true, perfect, weights) == np.inf


def _spy_run(run_cli, data_root, tmp_path, *overrides: str) -> list[dict]:
    submission = tmp_path / "spy"
    submission.mkdir(exist_ok=True)
    (submission / "estimator.py").write_text(SPY)
    log = tmp_path / "spy.jsonl"
    log.unlink(missing_ok=True)
    proc = run_cli("problem=higgs_toy", f"data_root={data_root}", "progress=false",
                   f"submission.path={submission}", *overrides, env={"SPY_LOG": str(log)})
    assert proc.returncode == 0, proc.stderr
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries
    return entries


def test_fit_gets_the_labels_and_the_weights_reach_neither_x_nor_y(run_cli, data_root,
                                                                   tmp_path):
    features = ["mass", "pt", "eta", "met"]
    for entry in _spy_run(run_cli, data_root, tmp_path):
        assert entry["fit_columns"] == features
        assert all(columns == features for columns in entry["predict_columns"])
        # y is the labels, as a RAMP Higgs submission's fit(X, y) expects; no weights.
        assert entry["y_shape"] == [entry["n_rows"]] and entry["labels"] == ["b", "s"]
        assert entry["fit_params"] == [] and entry["weight_sum"] is None


def test_the_workflow_option_passes_the_weights_to_fit(run_cli, data_root, tmp_path):
    train = pd.read_csv(data_root / "higgs_toy" / "train.csv")
    entries = _spy_run(run_cli, data_root, tmp_path, "problem.workflow.sample_weight=true",
                       "retrain=true")
    assert all(entry["fit_params"] == ["sample_weight"] for entry in entries)
    # (one line per prediction asked of a fitted model: folds first, then the retrain)
    folds = [entry for entry in entries if entry["n_rows"] < len(train)]
    retrain = [entry for entry in entries if entry["n_rows"] == len(train)]
    assert folds and retrain and len(folds) + len(retrain) == len(entries)
    assert all(0 < entry["weight_sum"] < train["Weight"].sum() for entry in folds)
    assert retrain[0]["weight_sum"] == pytest.approx(train["Weight"].sum())


def test_a_weighted_score_on_data_without_weights_is_refused(run_cli, kits, tmp_path):
    proc = run_cli("problem=titanic", f"data_root={kits}", "+problem.scores.ams.type=ams")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "config error: problem.scores.ams: the score 'ams' needs per-sample weights, but the "
        "reader 'csv' gives none (use a reader that reads them, e.g. weighted_csv with "
        "data.weight)")


def test_missing_data_says_how_to_generate(run_cli, tmp_path):
    proc = run_cli("problem=higgs_toy", f"data_root={tmp_path / 'none'}", "progress=false")
    assert proc.returncode != 0
    assert "higgs_toy" in proc.stderr


def test_generator_class_writes_the_problem_files(tmp_path):
    paths = HiggsToy(tmp_path).generate(50, 20, seed=0)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "higgs_toy/train.csv", "higgs_toy/test.csv"]
