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
    ids = {json.loads(p.read_text())["run_id"] for p in project.rglob("mlflow.json")}
    assert ids == {r.info.run_id for r in runs}
