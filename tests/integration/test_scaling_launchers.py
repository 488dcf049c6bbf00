"""Trials as submitit jobs (``hydra/launcher=submitit_local``, what ``submitit_slurm`` runs
on a Slurm cluster), and optuna-dashboard reading the finished sweep's storage over HTTP."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import cli_env

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "scaling.md"


def doc_block(needle: str) -> str:
    """The ```bash block of docs/tutorials/scaling.md that contains ``needle``."""
    blocks = [b for b in re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S) if needle in b]
    assert len(blocks) == 1, needle
    return blocks[0]


@pytest.fixture(scope="module")
def submitit_sweep(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The documentation's sweep whose trials run as submitit jobs (two batches of two)."""
    root = tmp_path_factory.mktemp("submitit")
    env = cli_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["bash", "-c", "set -e\n" + doc_block("submitit_local")], cwd=root,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    return root / "multirun" / "iris-submitit", proc


def test_submitit_jobs_run_the_trials_of_a_sweep_with_pruning(submitit_sweep):
    sweep, proc = submitit_sweep
    assert proc.returncode == 0, proc.stderr
    assert "Submitit 'local' sweep output dir" in proc.stdout + proc.stderr
    frame = pd.read_csv(sweep / "trials.csv")
    assert frame["number"].tolist() == [0, 1, 2, 3]
    assert set(frame["state"]) <= {"COMPLETE", "PRUNED"}
    # each trial was a submitit job: its own process, its result pickled by submitit
    results = sorted(sweep.glob(".submitit/*/*_result.pkl"))
    assert len(results) == 4
    pids = {str(w).rpartition(":")[2] for w in frame["worker"]}
    assert len(pids) == 1  # one sweeper process asked them all
    # the jobs reported their folds through the storage, and a bad one was pruned
    pruned = frame[frame["state"] == "PRUNED"]
    assert len(pruned) >= 1
    assert (pruned["submission.params.max_leaf_nodes"] == 2).all()  # the weak ones
    assert (pruned["n_folds"] < 3).all()
    complete = frame[frame["state"] == "COMPLETE"]
    assert (complete["n_folds"] == 3).all() and (complete["value"] > 0).all()
    for number in frame["number"]:
        assert (sweep / str(number) / "summary.json").is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_optuna_dashboard_serves_the_trials_and_their_folds(submitit_sweep):
    sweep, proc = submitit_sweep
    assert proc.returncode == 0, proc.stderr
    port = _free_port()
    storage = f"sqlite:///{sweep / 'optuna.db'}"
    server = subprocess.Popen(["optuna-dashboard", storage, "--host", "127.0.0.1",
                               "--port", str(port)], env=cli_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}/api"
        deadline = time.monotonic() + 60
        while True:
            try:
                studies = _get(f"{base}/studies")["study_summaries"]
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, \
                    server.communicate()[0]
                time.sleep(0.2)
        assert [s["study_name"] for s in studies] == ["iris-starting_kit"]
        assert studies[0]["directions"] == ["maximize"]
        study = _get(f"{base}/studies/{studies[0]['study_id']}?after=0")
    finally:
        server.terminate()
        server.wait(timeout=30)

    frame = pd.read_csv(sweep / "trials.csv").set_index("number")
    trials = {t["number"]: t for t in study["trials"]}
    assert sorted(trials) == [0, 1, 2, 3]
    for number, trial in trials.items():
        row = frame.loc[number]
        assert trial["state"] == {"COMPLETE": "Complete", "PRUNED": "Pruned"}[row["state"]]
        params = {p["name"]: p["param_external_value"] for p in trial["params"]}
        key = "submission.params.max_leaf_nodes"
        assert params == {key: str(row[key])}  # the dashboard shows values as text
        assert trial["values"] == [pytest.approx(row["value"])]
        attrs = {a["key"]: a["value"] for a in trial["user_attrs"]}
        folds = json.loads(attrs["fold_valid_scores"])
        assert len(folds) == row["n_folds"]
        # the per-fold intermediate values: the running mean valid score after each fold
        steps = {v["step"]: v["value"] for v in trial["intermediate_values"]}
        assert sorted(steps) == list(range(1, int(row["n_folds"]) + 1))
        scores = [folds[str(k)] for k in range(int(row["n_folds"]))]
        for step, value in steps.items():
            assert value == pytest.approx(sum(scores[:step]) / step)
    assert study["has_intermediate_values"] is True
