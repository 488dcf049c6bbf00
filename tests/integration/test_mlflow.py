"""hydra/callbacks=mlflow: runs and sweep trials logged to real local MLflow stores, read back
with MLflow's own client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import cli_env

pytestmark = pytest.mark.slow

COMMON = ["problem=titanic", "problem.cv.n_splits=2", "n_figures=0", "progress=false"]


def test_a_run_is_logged_to_the_default_local_store(run_cli, tmp_path, kits):
    from mlflow import MlflowClient

    proc = run_cli(*COMMON, f"data_root={kits}", "hydra/callbacks=mlflow", "hydra.run.dir=run")
    assert proc.returncode == 0, proc.stderr
    run_dir = tmp_path / "run"
    logged = json.loads((run_dir / "mlflow.json").read_text())
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("titanic")
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.run_id == logged["run_id"] and run.info.status == "FINISHED"
    assert run.info.run_name == "starting_kit"
    params = run.data.params
    assert params["problem.name"] == "titanic" and params["submission.name"] == "starting_kit"
    assert params["problem.cv.n_splits"] == "2" and params["seed"] == "42"
    scores = pd.read_csv(run_dir / "scores.csv")
    valid = scores[(scores["step"] == "valid") & (scores["score"] == "auc")]
    history = client.get_metric_history(run.info.run_id, "valid_auc")
    assert sorted((m.step, m.value) for m in history) == \
        sorted(zip(valid["fold"], valid["value"], strict=True))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert run.data.metrics["bagged_test_auc"] == summary["bagged"]["test"]["auc"]
    assert run.data.metrics["mean_valid_BS Rel"] == summary["mean"]["valid"]["BS Rel"]
    assert run.data.tags["rampconf.status"] == "ok"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"report.html", "summary.json", "scores.csv"} <= artifacts
    page = client.download_artifacts(run.info.run_id, "report.html", str(tmp_path))
    assert "<h1>titanic / starting_kit</h1>" in Path(page).read_text()


def test_sweep_trials_go_to_a_tracking_uri(run_cli, tmp_path, kits, monkeypatch):
    """A file store (MLflow's ./mlruns layout) chosen by option; one MLflow run per trial."""
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3: the file store is opt-in
    store = f"file:{tmp_path / 'store'}"
    proc = run_cli("-m", *COMMON, f"data_root={kits}", "submission.params.C=0.1,1.0",
                   "hydra/callbacks=mlflow", f"hydra.callbacks.mlflow.tracking_uri={store}",
                   "hydra.callbacks.mlflow.experiment=class", "hydra.callbacks.mlflow.report=false",
                   "hydra.sweep.dir=sweep", env={"MLFLOW_ALLOW_FILE_STORE": "true"})
    assert proc.returncode == 0, proc.stderr
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("class")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.params["submission.params.C"] for r in runs) == ["0.1", "1.0"]
    for run in runs:
        trial = run.data.tags["rampconf.trial"]
        summary = json.loads((tmp_path / "sweep" / trial / "summary.json").read_text())
        assert run.data.metrics["mean_valid_auc"] == summary["mean"]["valid"]["auc"]
        assert {a.path for a in client.list_artifacts(run.info.run_id)} == \
            {"summary.json", "scores.csv"}


def test_without_mlflow_the_run_says_what_to_install(tmp_path):
    code = ("import sys\nsys.modules['mlflow'] = None\n"
            "from rampconf.tracking import log_run\n"
            f"log_run({str(tmp_path)!r})\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=cli_env(), check=False)
    assert proc.returncode == 1
    assert "pip install 'rampconf[mlflow]'" in proc.stderr.splitlines()[-1]
