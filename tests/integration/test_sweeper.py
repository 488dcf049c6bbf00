"""The Optuna sweeper (``-m hydra/sweeper=rampconf``) end to end, through the command line.

Iris (bundled data, a forest of a few trees) keeps each trial well under a
second; titanic and boston_housing run only where their score direction or
the packaged search space is what is tested.
"""

from __future__ import annotations

import json
import math
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import cli_env

pytestmark = pytest.mark.slow

IRIS = ["submission=random_forest_10_10", "hydra/sweeper=rampconf", "progress=false",
        "save_predictions=false", "n_figures=0"]

FLAKY = '''
from sklearn.ensemble import RandomForestClassifier


def get_estimator(n_estimators=5, fail=False):
    if fail:
        raise ValueError("flaky: asked to fail")
    return RandomForestClassifier(n_estimators=n_estimators, random_state=0)
'''


def load_study(storage, name: str):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=storage)


def trials_csv(sweep_dir: Path) -> pd.DataFrame:
    return pd.read_csv(sweep_dir / "trials.csv")


def flaky_submission(root: Path) -> None:
    folder = root / "submissions" / "iris" / "flaky"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(FLAKY)


def assert_short_error(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 4, proc.stderr


def test_sweep_maximises_writes_outputs_and_the_rerun_command_reproduces_the_best(
        run_cli, tmp_path):
    proc = run_cli("-m", *IRIS, "hydra.sweeper.n_trials=4", "hydra.sweep.dir=sweep",
                   "submission.params.n_estimators=range(2, 30)",
                   "submission.params.max_leaf_nodes=choice(2, 8)")
    assert proc.returncode == 0, proc.stderr
    sweep = tmp_path / "sweep"
    frame = trials_csv(sweep)
    assert frame["number"].tolist() == [0, 1, 2, 3]
    assert set(frame["state"]) == {"COMPLETE"}
    assert {"submission.params.n_estimators", "submission.params.max_leaf_nodes", "value",
            "mean_test_score", "n_folds", "valid_fold_0", "valid_fold_1", "duration_s",
            "error"} <= set(frame.columns)
    assert (frame["n_folds"] == 2).all()
    assert frame["value"].tolist() == pytest.approx(
        ((frame["valid_fold_0"] + frame["valid_fold_1"]) / 2).tolist())
    best = yaml.safe_load((sweep / "best_params.yaml").read_text())
    assert best["direction"] == "maximize" and best["official_score"] == "acc"
    assert best["value"] == pytest.approx(frame["value"].max())
    study = load_study(best["storage"], best["study_name"])
    assert best["storage"] == f"sqlite:///{sweep / 'optuna.db'}"
    assert study.direction.name == "MAXIMIZE"
    assert study.best_trial.number == best["best_trial"]
    assert set(study.best_trial.user_attrs["fold_valid_scores"]) == {"0", "1"}
    assert "mean_test_score" in study.best_trial.user_attrs
    for number in range(4):  # one run directory per trial, named by its number
        assert (sweep / str(number) / "summary.json").is_file()
    assert "best trials (mean valid acc, maximised)" in proc.stdout
    assert f"rerun the best: {best['command']}" in proc.stdout

    # the printed command reruns the best trial with the same mean valid score
    command = shlex.split(best["command"])
    assert command[:3] == ["python", "-m", "rampconf"]
    rerun = run_cli(*command[3:], "hydra.run.dir=rerun")
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads((tmp_path / "rerun" / "summary.json").read_text())
    assert summary["mean"]["valid"]["acc"] == pytest.approx(best["value"])


def test_a_minimised_score_is_minimised(run_cli, tmp_path, kits):
    proc = run_cli("-m", "problem=boston_housing", f"data_root={kits}",
                   "submission=random_forest", "hydra/sweeper=rampconf", "progress=false",
                   "save_predictions=false", "hydra.sweeper.n_trials=3", "hydra.sweep.dir=sweep",
                   "submission.params.n_estimators=range(5, 20)",
                   "submission.params.max_features=interval(0.2, 1.0)")
    assert proc.returncode == 0, proc.stderr
    frame = trials_csv(tmp_path / "sweep")
    assert len(frame) == 3 and set(frame["state"]) == {"COMPLETE"}
    best = yaml.safe_load((tmp_path / "sweep" / "best_params.yaml").read_text())
    assert best["direction"] == "minimize" and best["official_score"] == "rmse"
    assert best["value"] == pytest.approx(frame["value"].min())
    assert load_study(best["storage"], "boston_housing-random_forest").direction.name == \
        "MINIMIZE"
    assert "best trials (mean valid rmse, minimised)" in proc.stdout


def test_rerunning_the_command_resumes_the_study_up_to_n_trials(run_cli, tmp_path):
    args = ["-m", *IRIS, "hydra.sweep.dir=sweep", "submission.params.n_estimators=range(2, 200)",
            "submission.params.max_leaf_nodes=range(2, 200)"]
    assert run_cli(*args, "hydra.sweeper.n_trials=3").returncode == 0
    proc = run_cli(*args, "hydra.sweeper.n_trials=5")
    assert proc.returncode == 0, proc.stderr
    assert "3 of 5 trials already there" in proc.stdout
    frame = trials_csv(tmp_path / "sweep")
    assert frame["number"].tolist() == [0, 1, 2, 3, 4]
    assert set(frame["state"]) == {"COMPLETE"}
    pairs = set(zip(frame["submission.params.n_estimators"],
                    frame["submission.params.max_leaf_nodes"], strict=True))
    assert len(pairs) == 5  # no proposal repeated


def test_pruning_stops_clearly_worse_trials_after_their_first_folds(run_cli, tmp_path):
    proc = run_cli("-m", *IRIS, "cv=kfold", "cv.n_splits=5", "cv.shuffle=true",
                   "hydra.sweeper.n_trials=6", "hydra.sweeper.sampler=random",
                   "hydra.sweeper.pruner.type=median", "hydra.sweeper.pruner.n_startup_trials=2",
                   "hydra.sweeper.pruner.n_warmup_steps=0", "hydra.sweep.dir=sweep",
                   "submission.params.max_leaf_nodes=choice(2, 16)")
    assert proc.returncode == 0, proc.stderr
    frame = trials_csv(tmp_path / "sweep")
    pruned = frame[frame["state"] == "PRUNED"]
    complete = frame[frame["state"] == "COMPLETE"]
    assert len(pruned) >= 1 and len(complete) >= 2
    assert (pruned["n_folds"] < 5).all()  # stopped early
    assert (complete["n_folds"] == 5).all()
    assert (pruned["submission.params.max_leaf_nodes"] == 2).all()  # the bad ones
    assert pruned["error"].str.contains("pruned after").all()
    number = int(pruned["number"].iloc[0])
    summary = json.loads((tmp_path / "sweep" / str(number) / "summary.json").read_text())
    assert summary["status"] == "pruned"


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(run_cli, tmp_path):
    flaky_submission(tmp_path)
    proc = run_cli("-m", "submission=flaky", "hydra/sweeper=rampconf", "progress=false",
                   "hydra.sweeper.n_trials=6", "hydra.sweeper.sampler=random",
                   "hydra.sweeper.max_failure_rate=1", "hydra.sweep.dir=sweep",
                   "submission.params.fail=choice(false, true)")
    assert proc.returncode == 0, proc.stderr
    frame = trials_csv(tmp_path / "sweep")
    assert len(frame) == 6
    assert set(frame["state"]) == {"COMPLETE", "FAIL"}
    failed = frame[frame["state"] == "FAIL"]
    assert failed["submission.params.fail"].all()
    assert failed["error"].str.contains("flaky: asked to fail").all()
    assert frame[frame["state"] == "COMPLETE"]["error"].isna().all()


def test_the_failure_budget_stops_a_sweep_where_every_trial_fails(run_cli, tmp_path):
    flaky_submission(tmp_path)
    proc = run_cli("-m", "submission=flaky", "hydra/sweeper=rampconf", "progress=false",
                   "submission.params.fail=true", "hydra.sweeper.n_trials=10",
                   "hydra.sweeper.max_failures=2", "hydra.sweep.dir=sweep",
                   "submission.params.n_estimators=range(2, 10)")
    assert proc.returncode == 1
    assert ("the sweep stopped: 3 of the 3 trials this process ran failed, more than "
            "hydra.sweeper.max_failures=2") in proc.stderr
    assert "flaky: asked to fail" in proc.stderr
    frame = trials_csv(tmp_path / "sweep")
    assert len(frame) == 3 and set(frame["state"]) == {"FAIL"}
    assert not (tmp_path / "sweep" / "best_params.yaml").exists()


def test_two_processes_on_one_storage_share_the_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    procs = [subprocess.Popen(
        [sys.executable, "-m", "rampconf", "-m", *IRIS, "hydra.sweeper.n_trials=8",
         "hydra.sweeper.pruner.type=none", f"hydra.sweeper.storage={storage}",
         "hydra.sweeper.study_name=shared", f"hydra.sweep.dir=worker_{i}",
         "submission.params.n_estimators=range(2, 200)",
         "submission.params.max_leaf_nodes=range(2, 200)"],
        cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    trials = load_study(storage, "shared").get_trials()
    assert sorted(t.number for t in trials) == list(range(8))
    assert {t.state.name for t in trials} == {"COMPLETE"}
    assert all("fold_valid_scores" in t.user_attrs for t in trials)
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both processes ran trials
    params = {tuple(sorted(t.params.items())) for t in trials}
    assert len(params) == 8


def test_the_joblib_launcher_runs_a_batch_of_trials_in_parallel(run_cli, tmp_path):
    import hydra_plugins.hydra_joblib_launcher  # noqa: F401 - the test extra installs it
    proc = run_cli("-m", *IRIS, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                   "hydra.sweeper.n_jobs=2", "hydra.sweeper.n_trials=2", "hydra.sweep.dir=sweep",
                   "submission.params.n_estimators=range(2, 50)")
    assert proc.returncode == 0, proc.stderr
    assert "is launching 2 jobs" in proc.stdout + proc.stderr  # one batch of two jobs
    frame = trials_csv(tmp_path / "sweep")
    assert frame["number"].tolist() == [0, 1]
    assert set(frame["state"]) == {"COMPLETE"}
    assert (frame["n_folds"] == 2).all()  # each job reported its folds through the storage
    assert all((tmp_path / "sweep" / str(n) / "summary.json").is_file() for n in range(2))


def test_bad_sweep_syntax_is_a_short_error_and_nothing_runs(run_cli, tmp_path):
    # in a search-space file of ./conf/search/
    search = tmp_path / "conf" / "search"
    search.mkdir(parents=True)
    (search / "broken.yaml").write_text(
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n"
        "      submission.params.n_estimators: range(2,\n")
    proc = run_cli("-m", *IRIS, "+search=broken", "hydra.sweep.dir=sweep")
    assert proc.returncode == 2, proc.stderr
    assert "submission.params.n_estimators=range(2,: bad sweep syntax" in proc.stderr
    assert_short_error(proc)
    # an impossible distribution, and a bad sweeper setting, all reported at once
    proc = run_cli("-m", *IRIS, "hydra.sweep.dir=sweep", "hydra.sweeper.sampler=grid",
                   "submission.params.n_estimators=tag(log, int(interval(0, 10)))")
    assert proc.returncode == 2, proc.stderr
    assert "hydra.sweeper.sampler: one of tpe, random, got 'grid'" in proc.stderr
    assert "tag(log, ...) needs a positive lower bound, got 0" in proc.stderr
    assert_short_error(proc)
    assert not (tmp_path / "sweep").exists()
    # on the command line, Hydra parses the overrides before the sweeper starts
    proc = run_cli("-m", *IRIS, "hydra.sweep.dir=sweep",
                   "submission.params.n_estimators=interval(1,")
    assert "interval(1," in proc.stderr
    assert_short_error(proc)
    assert not (tmp_path / "sweep").exists()
    assert proc.returncode == 2


def test_an_unknown_parameter_name_is_refused_before_any_trial(run_cli, tmp_path, kits):
    storage = tmp_path / "study.db"
    proc = run_cli("-m", "problem=titanic", f"data_root={kits}", "submission=logistic_regression",
                   "hydra/sweeper=rampconf", f"hydra.sweeper.storage={storage}",
                   "hydra.sweep.dir=sweep", "submission.params.Cx=interval(0, 1)")
    assert proc.returncode == 2, proc.stderr
    assert "config error: submission.params.Cx: unknown parameter" in proc.stderr
    assert "valid parameters: C, imputer" in proc.stderr
    assert_short_error(proc)
    assert not storage.exists()
    assert not (tmp_path / "sweep").exists()


def test_the_packaged_search_space_runs(run_cli, tmp_path, kits):
    proc = run_cli("-m", "+search=titanic_logreg", f"data_root={kits}", "progress=false",
                   "save_predictions=false", "n_figures=0", "cv=kfold", "cv.n_splits=2",
                   "hydra.sweeper.n_trials=2", "hydra.sweep.dir=sweep")
    assert proc.returncode == 0, proc.stderr
    frame = trials_csv(tmp_path / "sweep")
    assert len(frame) == 2 and set(frame["state"]) == {"COMPLETE"}
    assert frame["submission.params.C"].between(0.001, 100).all()
    assert set(frame["submission.params.imputer"]) <= {"mean", "median"}
    best = yaml.safe_load((tmp_path / "sweep" / "best_params.yaml").read_text())
    assert best["study_name"] == "titanic-logistic_regression"
    assert best["official_score"] == "auc" and best["direction"] == "maximize"
    assert best["command"].startswith("python -m rampconf +search=titanic_logreg")


def test_a_journal_file_storage(run_cli, tmp_path):
    import rampconf.trial

    proc = run_cli("-m", *IRIS, "hydra.sweeper.n_trials=2", "hydra.sweeper.storage=study.log",
                   "hydra.sweep.dir=sweep", "submission.params.n_estimators=range(2, 50)")
    assert proc.returncode == 0, proc.stderr
    storage = rampconf.trial.open_storage(f"journal://{tmp_path / 'study.log'}")
    trials = load_study(storage, "iris-random_forest_10_10").get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]
    assert all(math.isfinite(t.value) and "fold_valid_scores" in t.user_attrs for t in trials)


BROKEN_SEARCH = ("# @package _global_\nhydra:\n  sweeper:\n    params:\n"
                 "      submission.params.n_estimators: range(2,\n")


@pytest.mark.parametrize(("args", "code", "line"), [
    pytest.param(["+search=broken"], 2,
                 "config error: submission.params.n_estimators=range(2,: bad sweep syntax",
                 id="bad-syntax-in-a-search-yaml"),
    pytest.param(["submission.params.n_estimators=tag(log, int(interval(0, 10)))"], 2,
                 "config error: submission.params.n_estimators=tag(log, int(interval(0, 10))): "
                 "tag(log, ...) needs a positive lower bound, got 0",
                 id="impossible-distribution"),
    pytest.param(["submission=flaky", "submission.params.fail=true",
                  "hydra.sweeper.max_failure_rate=1", "hydra.sweeper.n_trials=2",
                  "submission.params.n_estimators=range(2, 10)"], 1,
                 "error: no trial of the study 'iris-flaky' completed (errors in ",
                 id="no-complete-trial"),
])
def test_a_sweeper_error_reaches_the_command_line_as_one_line(run_cli, tmp_path, args, code,
                                                              line):
    (tmp_path / "conf" / "search").mkdir(parents=True)
    (tmp_path / "conf" / "search" / "broken.yaml").write_text(BROKEN_SEARCH)
    flaky_submission(tmp_path)
    proc = run_cli("-m", *IRIS, "hydra.sweep.dir=sweep", *args)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()], proc.stderr  # one line
    assert proc.stderr.startswith(line)
    assert "HYDRA_FULL_ERROR" not in proc.stderr  # not Hydra's own error report


def test_debug_shows_the_traceback_of_a_sweeper_error(run_cli):
    proc = run_cli("-m", *IRIS, "hydra.sweep.dir=sweep", "debug=true",
                   "submission.params.n_estimators=tag(log, int(interval(0, 10)))")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "in make_plan" in proc.stderr
    assert proc.stderr.rstrip().endswith("needs a positive lower bound, got 0")


SLOW = '''
import time

from sklearn.ensemble import RandomForestClassifier


class SlowForest(RandomForestClassifier):
    def fit(self, X, y):
        open(MARKER, "w").close()
        time.sleep(120)
        return super().fit(X, y)


def get_estimator(n_estimators=5):
    return SlowForest(n_estimators=n_estimators, random_state=0)
'''


def test_ctrl_c_records_the_running_trial_and_exits_130(tmp_path):
    folder = tmp_path / "submissions" / "iris" / "slow"
    folder.mkdir(parents=True)
    marker = tmp_path / "fit_started"
    (folder / "estimator.py").write_text(f"MARKER = {str(marker)!r}\n" + SLOW)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rampconf", "-m", *IRIS, "submission=slow",
         "hydra.sweeper.n_trials=3", "hydra.sweep.dir=sweep",
         "submission.params.n_estimators=range(2, 10)"],
        cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A background job starts with SIGINT ignored, and so would the child: restore it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not marker.exists():  # the job is sleeping in fit
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip() == ("interrupted: trial(s) 0 recorded as FAIL (interrupted, not counted "
                           "in n_trials); run the same command to resume")
    frame = trials_csv(tmp_path / "sweep")
    assert frame["number"].tolist() == [0]
    assert frame["state"].tolist() == ["FAIL"]
    assert frame["error"].tolist() == ["interrupted: KeyboardInterrupt"]


ATTACKS = '''
import ctypes
import os
import pathlib
import sys

from sklearn.ensemble import RandomForestClassifier

CALLS = pathlib.Path(__file__).resolve().parent / "calls.txt"  # two per trial (two folds)


def get_estimator(n_estimators=5):
    with CALLS.open("a") as calls:
        calls.write("1")
    attack = (len(CALLS.read_text()) - 1) // 2 % 4  # trials 0 and 4 fit, 1-3 attack
    if attack == 1:
        sys.exit(0)
    if attack == 2:
        os._exit(0)
    if attack == 3:
        ctypes.string_at(0)
    return RandomForestClassifier(n_estimators=n_estimators, random_state=0)
'''


def test_exits_and_crashes_in_a_trial_fail_that_trial_only(run_cli, tmp_path):
    folder = tmp_path / "submissions" / "iris" / "attacks"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(ATTACKS)
    proc = run_cli("-m", *IRIS, "submission=attacks", "hydra.sweeper.n_trials=5",
                   "hydra.sweeper.max_failure_rate=1", "hydra.sweep.dir=sweep",
                   "submission.params.n_estimators=range(2, 10)")
    assert proc.returncode == 0, proc.stderr
    frame = trials_csv(tmp_path / "sweep")
    assert frame["state"].tolist() == ["COMPLETE", "FAIL", "FAIL", "FAIL", "COMPLETE"]
    for number, text in ((1, "called sys.exit(0)"),
                         (2, "ended with exit code 0 before it returned"),
                         (3, "killed by SIGSEGV")):
        assert text in frame["error"].iloc[number]


SLEEPY = '''
import time

from sklearn.ensemble import RandomForestClassifier


def get_estimator(n_estimators=5):
    if n_estimators > 4:
        time.sleep(600)
    return RandomForestClassifier(n_estimators=n_estimators, random_state=0)
'''


@pytest.mark.parametrize("limit", ["trial_timeout", "timeout"])
def test_a_trial_is_stopped_at_its_time_limit_while_it_runs(run_cli, tmp_path, limit):
    folder = tmp_path / "submissions" / "iris" / "sleepy"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(SLEEPY)
    start = time.monotonic()
    proc = run_cli("-m", *IRIS, "submission=sleepy", "hydra.sweeper.n_trials=3",
                   "hydra.sweeper.max_failure_rate=1", "hydra.sweep.dir=sweep",
                   f"hydra.sweeper.{limit}=8", "submission.params.n_estimators=choice(6, 7)")
    assert time.monotonic() - start < 150
    assert proc.returncode == 1  # no trial completed
    frame = trials_csv(tmp_path / "sweep")
    assert len(frame) == (3 if limit == "trial_timeout" else 1)
    assert set(frame["state"]) == {"FAIL"}
    assert frame["error"].str.contains("the run's time limit was reached").all()


def test_light_trial_output_keeps_scores_and_the_best_trials_predictions(run_cli, tmp_path):
    base = ["-m", "submission=random_forest_10_10", "hydra/sweeper=rampconf", "progress=false",
            "hydra.sweeper.n_trials=3", "hydra.sweeper.pruner.type=none",
            "submission.params.n_estimators=range(2, 30)"]
    proc = run_cli(*base, "hydra.sweep.dir=light")  # light is the default
    assert proc.returncode == 0, proc.stderr
    sweep = tmp_path / "light"
    best = yaml.safe_load((sweep / "best_params.yaml").read_text())
    for number in range(3):
        run = sweep / str(number)
        # scores, parameters and what reruns it; no Hydra files, no pictures
        for name in ("summary.json", "scores.csv", "folds.csv", "bagged_scores.csv",
                     "config.yaml", "metadata.json"):
            assert (run / name).is_file(), (number, name)
        assert not (run / ".hydra").exists() and not (run / "figures").exists()
        overrides = json.loads((run / "metadata.json").read_text())["overrides"]
        assert any(o.startswith("submission.params.n_estimators=") for o in overrides)
        assert (run / "predictions").is_dir() == (number == best["best_trial"])
    assert f"predictions of the best trial of this sweep: {sweep / str(best['best_trial'])}" \
        in proc.stdout

    # the best trial's predictions are those a plain run of its command writes
    rerun = run_cli(*shlex.split(best["command"])[3:], "hydra.run.dir=rerun")
    assert rerun.returncode == 0, rerun.stderr
    kept = sweep / str(best["best_trial"]) / "predictions"
    fresh = tmp_path / "rerun" / "predictions"
    assert sorted(p.name for p in kept.iterdir()) == sorted(p.name for p in fresh.iterdir())
    for path in fresh.iterdir():
        with np.load(path) as a, np.load(kept / path.name) as b:
            assert sorted(a.files) == sorted(b.files)
            for key in a.files:
                np.testing.assert_array_equal(a[key], b[key])

    # full: every trial's directory is a single run's
    proc = run_cli(*base, "hydra.sweep.dir=full", "hydra.sweeper.trial_output=full")
    assert proc.returncode == 0, proc.stderr
    for number in range(3):
        assert (tmp_path / "full" / str(number) / ".hydra" / "overrides.yaml").is_file()
        assert (tmp_path / "full" / str(number) / "predictions" / "bagged.npz").is_file()

