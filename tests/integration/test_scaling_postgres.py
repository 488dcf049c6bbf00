"""Sweeps of several worker processes sharing one study on a real PostgreSQL server.

The server is started by the session fixture ``postgres`` (tests/postgres.py)
on 127.0.0.1. Four sweeper processes share one study; one of them is killed
with SIGKILL while its trial runs; a fifth process resumes the sweep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import cli_env

pytestmark = pytest.mark.slow

# A tree (good) or the majority class (bad: 1/3 accuracy on iris); ``stall`` makes the fit
# write that file and wait, so that the test can kill its worker while the trial runs.
TUNABLE = '''
import pathlib
import time

from sklearn.dummy import DummyClassifier
from sklearn.tree import DecisionTreeClassifier


def get_estimator(model="tree", max_depth=3, stall=None):
    if stall:
        pathlib.Path(stall).touch()
        time.sleep(600)
    if model == "dummy":
        return DummyClassifier(strategy="most_frequent")
    return DecisionTreeClassifier(max_depth=max_depth, random_state=0)
'''

N_STARTUP = 3


def sweep_command(storage: str, n_trials: int, worker: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "rampconf", "-m", "submission=tunable",
            "hydra/sweeper=rampconf", "progress=false", "save_predictions=false", "n_figures=0",
            "cv=kfold", "cv.n_splits=3", "cv.shuffle=true",
            f"hydra.sweeper.n_trials={n_trials}", "hydra.sweeper.sampler=random",
            "hydra.sweeper.pruner.type=median",
            f"hydra.sweeper.pruner.n_startup_trials={N_STARTUP}",
            "hydra.sweeper.pruner.n_warmup_steps=0", "hydra.sweeper.max_failure_rate=1",
            f"hydra.sweeper.storage={storage}", "hydra.sweeper.study_name=iris-pg",
            f"hydra.sweep.dir={worker}",
            "submission.params.model=choice(tree, dummy)",
            "submission.params.max_depth=range(2, 6)", *extra]


def test_four_workers_a_killed_one_and_a_resume_share_one_postgresql_study(postgres, tmp_path):
    import optuna

    folder = tmp_path / "submissions" / "iris" / "tunable"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(TUNABLE)
    storage = postgres.create_database("four_workers")
    marker = tmp_path / "stalled"
    workers = [subprocess.Popen(
        sweep_command(storage, 10, f"worker_{i}",
                      *([f"+submission.params.stall={marker}"] if i == 0 else [])),
        cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(4)]
    deadline = time.monotonic() + 120
    while not marker.exists():  # worker 0's trial is in the middle of its first fold
        assert workers[0].poll() is None and time.monotonic() < deadline, \
            workers[0].communicate()
        time.sleep(0.1)
    killed_pid = workers[0].pid
    os.kill(killed_pid, signal.SIGKILL)
    workers[0].wait(timeout=30)
    assert workers[0].returncode == -signal.SIGKILL
    for proc in workers[1:]:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="iris-pg", storage=storage)
    trials = study.get_trials()
    killed = [t for t in trials if t.user_attrs["worker"].endswith(f":{killed_pid}")]
    assert len(killed) == 1  # its first trial was its last
    assert killed[0].state.name == "FAIL"
    assert killed[0].user_attrs["error"].startswith("interrupted: its sweeper process")
    counted = [t for t in trials if not t.user_attrs.get("interrupted")]
    assert len(counted) == 10  # n_trials exactly, the killed trial not counted
    assert sorted(t.number for t in trials) == list(range(11))  # distinct, none lost
    assert {t.state.name for t in counted} <= {"COMPLETE", "PRUNED"}
    assert len({t.user_attrs["worker"] for t in counted}) == 3  # the three survivors

    # Pruning is decided across workers: some trial was pruned when its own worker had
    # completed fewer trials than the pruner's n_startup_trials (the study had enough).
    pruned = [t for t in counted if t.state.name == "PRUNED"]
    assert pruned and all(t.params["submission.params.model"] == "dummy" for t in pruned)
    assert all(len(t.intermediate_values) < 3 for t in pruned)

    def completed_before(trial, same_worker: bool) -> int:
        return sum(1 for t in counted if t.state.name == "COMPLETE"
                   and t.datetime_complete < trial.datetime_complete
                   and (t.user_attrs["worker"] == trial.user_attrs["worker"]) == same_worker)

    assert any(completed_before(t, True) < N_STARTUP
               <= completed_before(t, True) + completed_before(t, False) for t in pruned)

    # A fifth process resumes the same study up to a larger n_trials.
    fifth = subprocess.run(sweep_command(storage, 12, "worker_5"), cwd=tmp_path, env=cli_env(),
                           capture_output=True, text=True, timeout=300, check=False)
    assert fifth.returncode == 0, fifth.stderr
    assert "10 of 12 trials already there" in fifth.stdout
    trials = study.get_trials()
    counted = [t for t in trials if not t.user_attrs.get("interrupted")]
    assert len(counted) == 12
    assert sorted(t.number for t in trials) == list(range(13))
    earlier = {t.user_attrs["worker"] for t in counted if t.number < 11}
    resumed = {t.user_attrs["worker"] for t in counted if t.number >= 11}
    assert len(resumed) == 1 and not resumed & earlier
