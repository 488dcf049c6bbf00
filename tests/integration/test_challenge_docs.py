"""The pages docs/tutorials/challenge.md and docs/mlflow.md run as written, from a fresh clone."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO, cli_env
from tests.integration.test_readme import NOT_RUN, as_script, fresh_clone

pytestmark = [pytest.mark.slow]


def bash_blocks(page: Path) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", page.read_text(), re.S)


def run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = cli_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=1500, check=False)


def test_the_challenge_tutorial_runs_in_order(tmp_path, kits):
    """Its blocks continue each other: each runs from the root, after the ones above."""
    blocks = bash_blocks(REPO / "docs" / "tutorials" / "challenge.md")
    assert len(blocks) == 5
    assert as_script(blocks[0]) is not None  # the first one runs on its own too
    body = ["set -e -o pipefail"]
    for block in blocks:
        lines = [line for line in block.splitlines() if not NOT_RUN.search(line)]
        body.append("(\n" + "\n".join(lines) + "\n)")
    project = fresh_clone(tmp_path, kits)
    proc = run("\n".join(body) + "\n", project)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "evaluated 3, skipped 0" in proc.stdout
    assert "evaluated 0, skipped 3 (already evaluated)" in proc.stdout
    results = project / "class" / "results"
    final = pd.read_csv(results / "private_leaderboard.csv")
    evaluations = pd.read_csv(results / "evaluations.csv")
    best = evaluations[evaluations["student"] == "alice"].sort_values("public").iloc[-1]
    assert sorted(final["submission"]) == [f"alice/{best['submission']}", "bob/forest"]
    assert (project / "class" / "published" / "index.html").is_file()
    assert "contributivity (share of the blend, mean over folds):" in proc.stdout
    assert list((project / "class" / "kit" / "outputs" / "titanic").iterdir())


def test_the_mlflow_page_runs_as_written(tmp_path, kits):
    """Its run and its sweep, logged to MLflow's default store, read back with its client."""
    from mlflow import MlflowClient

    scripts = [s for block in bash_blocks(REPO / "docs" / "mlflow.md")
               if (s := as_script(block)) is not None]
    assert len(scripts) == 1
    project = fresh_clone(tmp_path, kits)
    proc = run(scripts[0], project)
    assert proc.returncode == 0, proc.stderr[-3000:]
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("titanic").experiment_id])
    assert len(runs) == 3  # the run and two trials
    assert sorted(r.data.params.get("submission.params.C", "-") for r in runs) == \
        ["-", "0.1", "1.0"]
    logged = {json.loads(p.read_text())["run_id"]: p.parent for p in project.rglob("mlflow.json")}
    assert set(logged) == {r.info.run_id for r in runs}
    [single] = [r for r in runs if "rampconf.trial" not in r.data.tags]
    run_dir = logged[single.info.run_id]
    assert single.info.status == "FINISHED" and single.info.run_name == "starting_kit"
    params = single.data.params
    assert params["problem.name"] == "titanic" and params["submission.name"] == "starting_kit"
    assert params["problem.cv.n_splits"] == "8" and params["seed"] == "42"
    scores = pd.read_csv(run_dir / "scores.csv")
    valid = scores[(scores["step"] == "valid") & (scores["score"] == "auc")]
    history = client.get_metric_history(single.info.run_id, "valid_auc")
    assert sorted((m.step, m.value) for m in history) == \
        sorted(zip(valid["fold"], valid["value"], strict=True))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert single.data.metrics["bagged_test_auc"] == summary["bagged"]["test"]["auc"]
    assert single.data.metrics["mean_valid_BS Rel"] == summary["mean"]["valid"]["BS Rel"]
    assert single.data.tags["rampconf.status"] == "ok"
    artifacts = {a.path for a in client.list_artifacts(single.info.run_id)}
    assert {"report.html", "summary.json", "scores.csv"} <= artifacts
    page = client.download_artifacts(single.info.run_id, "report.html", str(tmp_path))
    assert "<h1>titanic / starting_kit</h1>" in Path(page).read_text()
