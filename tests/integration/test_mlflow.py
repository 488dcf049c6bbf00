"""hydra/callbacks=mlflow: sweep trials logged to a real local MLflow file store, read back
with MLflow's own client (the default store: tests/integration/test_challenge_docs.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import cli_env

pytestmark = pytest.mark.slow

COMMON = ["problem=titanic", "problem.cv.n_splits=2", "n_figures=0", "progress=false"]


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


def test_the_option_adds_to_the_callbacks_of_the_primary_config(run_cli):
    """hydra/callbacks=mlflow keeps the run directory's callback of conf/config.yaml."""
    proc = run_cli("hydra/callbacks=mlflow", "--cfg", "hydra", "--package", "hydra.callbacks")
    assert proc.returncode == 0, proc.stderr
    assert "_target_: rampconf.tracking.MLflowCallback" in proc.stdout
    assert "_target_: rampconf.rundir.ClaimRunDir" in proc.stdout
