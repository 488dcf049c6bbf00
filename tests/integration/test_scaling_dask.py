"""Folds of a run on a real Dask cluster (``backend=dask``): a ``distributed.LocalCluster``
of two worker processes started here, on 127.0.0.1."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import rampconf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as local:
        yield local
        from rampconf.dask_backend import close_all

        close_all()  # this process's clients, before their scheduler goes


def task_counts(cluster) -> dict[str, int]:
    """Tasks of each key prefix whose result the scheduler received (transitions to memory)."""
    return {name: prefix.state_counts["memory"]
            for name, prefix in cluster.scheduler.task_prefixes.items()}


def write_submission(root: Path, name: str, code: str) -> None:
    folder = root / "submissions" / "iris" / name
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(textwrap.dedent(code))


def test_folds_on_a_dask_cluster_give_the_numbers_of_a_local_run(cluster, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = ["cv=kfold", "cv.n_splits=4", "cv.shuffle=true", "retrain=true", "n_figures=0"]
    local = rampconf.run(problem="iris", submission="random_forest_10_10",
                         overrides=[*common, "n_jobs=1"], quiet=True)
    before = task_counts(cluster)
    remote = rampconf.run(problem="iris", submission="random_forest_10_10",
                          overrides=[*common, "n_jobs=-1", "backend=dask",
                                     f"dask_address={cluster.scheduler_address}"], quiet=True)
    after = task_counts(cluster)
    # the check of the submission, 4 folds and the retrain ran as Dask tasks
    ran = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    assert ran.get("rampconf-fold", 0) == 4, ran
    assert ran.get("rampconf-the-retrain", 0) == 1, ran
    assert ran.get("rampconf-the-check-of-submission", 0) == 1, ran
    assert remote.summary["status"] == "ok" and remote.summary["n_folds_ok"] == 4
    assert len(local.scores) == len(remote.scores) > 0
    numbers = [c for c in local.scores.columns if "time" not in c]
    pd.testing.assert_frame_equal(local.scores[numbers], remote.scores[numbers])
    assert local.summary["mean"] == remote.summary["mean"]
    assert local.summary["bagged"] == remote.summary["bagged"]


def test_fold_limits_hold_on_the_dask_workers(cluster, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_submission(tmp_path, "hanging", """
        import time


        def get_estimator():
            time.sleep(600)
        """)
    write_submission(tmp_path, "greedy", """
        import numpy as np
        from sklearn.tree import DecisionTreeClassifier


        def get_estimator():
            np.ones(2 * 10**9 // 8)  # 2 GB, every page written
            return DecisionTreeClassifier()
        """)
    dask = ["backend=dask", f"dask_address={cluster.scheduler_address}", "n_jobs=2",
            "n_figures=0"]
    start = time.monotonic()
    hanging = rampconf.run(problem="iris", submission="hanging",
                           overrides=[*dask, "fold_timeout=3"], quiet=True)
    assert time.monotonic() - start < 60
    assert hanging.folds["status"].tolist() == ["timeout", "timeout"]
    assert "ran longer than fold_timeout=3 s" in hanging.folds["error"].iloc[0]
    greedy = rampconf.run(problem="iris", submission="greedy",
                          overrides=[*dask, "fold_memory=300MB"], quiet=True)
    assert greedy.folds["status"].tolist() == ["out_of_memory", "out_of_memory"]
    assert "used more than fold_memory" in greedy.folds["error"].iloc[0]
    # the workers survived their folds' deaths and run the next run
    workers = cluster.scheduler_info["workers"]
    assert len(workers) == 2
    assert all(os.getpid() != w.get("pid") for w in workers.values())
