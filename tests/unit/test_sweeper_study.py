"""The sweeper's study side: per-trial seeds, the ask lock, stale trials, Optuna's log level."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

from hydra_plugins.rampconf_sweeper._plan import SweepPlan
from hydra_plugins.rampconf_sweeper._sampling import TrialSeededSampler, make_sampler, trial_seed
from hydra_plugins.rampconf_sweeper._space import parse_search_space
from hydra_plugins.rampconf_sweeper._storage import (
    count_trials,
    fail_stale,
    fail_stale_and_count,
    open_study,
    quiet_optuna,
    storage_lock,
)
from rampconf.errors import ConfigError
from rampconf.trial import PrunerConfig, open_storage

X = FloatDistribution(0.0, 1.0)


def alone(kind: str, seed: int) -> float:
    """What a fresh sampler of ``kind`` seeded with ``seed`` draws for x in an empty study."""
    with quiet_optuna():
        study = optuna.create_study(sampler=make_sampler(kind, seed))
    return study.ask().suggest_float("x", 0.0, 1.0)


@pytest.mark.parametrize("kind", ["random", "tpe"])
def test_trial_n_is_sampled_with_the_seed_of_n_whichever_worker_asks_it(kind):
    storage = optuna.storages.InMemoryStorage()
    with quiet_optuna():
        workers = [optuna.create_study(storage=storage, study_name="s",
                                       sampler=TrialSeededSampler(kind, 7), load_if_exists=True)
                   for _ in range(2)]
    drawn = {}
    for number in range(6):  # two workers take turns on one study
        study = workers[number % 2]
        trial = study.ask()
        assert trial.number == number
        drawn[number] = trial.suggest_float("x", 0.0, 1.0)
        assert isinstance(study.sampler, TrialSeededSampler)  # never swapped
    # nothing finished yet, so each trial draws what its own seeded sampler draws alone
    assert drawn == {n: alone(kind, trial_seed(7, n)) for n in range(6)}
    assert len(set(drawn.values())) == 6


def test_a_seeded_sweep_is_reproducible_and_the_seed_matters():
    def run(seed: int | None) -> list[float]:
        with quiet_optuna():
            study = optuna.create_study(sampler=TrialSeededSampler("tpe", seed))
        values = []
        for _ in range(14):  # past TPE's 10 random start-up trials
            trial = study.ask()
            values.append(trial.suggest_float("x", 0.0, 1.0))
            study.tell(trial, (values[-1] - 0.3) ** 2)
        return values

    assert run(0) == run(0)
    assert run(0) != run(1)
    assert run(None) != run(None)


def _proposals(liar: bool, running: int, url: str) -> tuple[list[tuple[float, str]], int]:
    """Sixteen TPE trials asked one by one (``running`` foreign trials left running);
    the proposals, and the study's writes of TPE's shared relative parameters."""
    with quiet_optuna():
        study = optuna.create_study(storage=open_storage(url), study_name="s")
        for _ in range(running):  # another worker's trial, running at the best point
            study.enqueue_trial({"x": 0.3, "c": "a"})
            study.ask({"x": X, "c": CategoricalDistribution(["a", "b"])})
        sampler = TrialSeededSampler("tpe", 3)
        study.sampler = sampler
        proposals = []
        for _ in range(16):  # past TPE's 10 random start-up trials
            sampler.liar = liar
            trial = study.ask()
            point = (trial.suggest_float("x", 0.0, 1.0),
                     trial.suggest_categorical("c", ["a", "b"]))
            study.tell(trial, (point[0] - 0.3) ** 2 + (point[1] == "b"))
            proposals.append(point)
    shared = sum(1 for t in study.get_trials() for key in t.system_attrs
                 if key.startswith("tpe:relative_params"))
    return proposals, shared


def test_a_lone_trial_is_proposed_without_the_constant_liar_and_the_same_point(tmp_path):
    """Asked alone (nothing running), TPE's constant liar would see the same trials: the
    same proposals, without its extra read and write per trial; with another worker's
    trial running it changes them, so the sweeper keeps it then."""
    lone, lone_writes = _proposals(False, 0, f"sqlite:///{tmp_path / 'a.db'}")
    liar, liar_writes = _proposals(True, 0, f"sqlite:///{tmp_path / 'b.db'}")
    assert lone == liar
    assert (lone_writes, liar_writes) == (0, 6)  # the 6 trials past TPE's start-up
    crowded, _ = _proposals(True, 1, f"sqlite:///{tmp_path / 'c.db'}")
    unaware, _ = _proposals(False, 1, f"sqlite:///{tmp_path / 'd.db'}")
    assert crowded != unaware
    sampler = TrialSeededSampler("tpe", 3)
    for size, running, expected in ((1, 0, False), (1, 1, True), (2, 0, True)):
        sampler.set_batch(size, running)
        assert sampler.liar is expected


def test_the_ask_lock_holds_across_processes(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    context = multiprocessing.get_context("spawn")
    held = context.Event()
    child = context.Process(target=_hold_lock, args=(url, held, 1.5))
    child.start()
    try:
        assert held.wait(60)
        start = time.monotonic()
        with storage_lock(url):
            waited = time.monotonic() - start
    finally:
        child.join(60)
    assert waited > 1.0  # we got the lock only once the other process let it go
    assert child.exitcode == 0


def _hold_lock(url: str, held, seconds: float) -> None:
    with storage_lock(url):
        held.set()
        time.sleep(seconds)


def plan_for(tmp_path: Path, direction: str = "maximize",
             expressions: tuple[str, ...] = ("x=interval(0, 1)",)) -> SweepPlan:
    return SweepPlan(space=parse_search_space(list(expressions)), direction=direction,
                     official="acc", precision=2, study_name="s",
                     storage=f"sqlite:///{tmp_path / 'study.db'}", sweep_dir=tmp_path,
                     pruner=PrunerConfig())


def test_opening_the_study_leaves_optuna_logging_alone(tmp_path, capfd):
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        study, storage = open_study(plan_for(tmp_path), TrialSeededSampler("tpe", 0))
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    assert "A new study created" not in capfd.readouterr().err
    assert study.direction.name == "MAXIMIZE"
    assert isinstance(storage, optuna.storages.BaseStorage)
    assert study.user_attrs["official_score"] == "acc"


def test_a_study_of_another_direction_or_space_is_refused(tmp_path):
    open_study(plan_for(tmp_path), TrialSeededSampler("tpe", 0))
    with pytest.raises(ConfigError, match="is to maximize, but acc is to minimize"):
        open_study(plan_for(tmp_path, direction="minimize"), TrialSeededSampler("tpe", 0))
    with pytest.raises(ConfigError, match="was created with another search space"):
        open_study(plan_for(tmp_path, expressions=("y=interval(0, 1)",)),
                   TrialSeededSampler("tpe", 0))


def _study_and_dead_pid(tmp_path):
    """A new SQLite study ``s`` (its URL and object) and the pid of a process that ended."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with quiet_optuna():
        study = optuna.create_study(storage=open_storage(url), study_name="s")
    return url, study, dead.pid


def test_a_trial_left_running_by_a_dead_worker_is_failed_and_not_counted(tmp_path):
    url, study, dead_pid = _study_and_dead_pid(tmp_path)
    orphan = study.ask({"x": X})
    orphan.set_user_attr("worker", f"{socket.gethostname()}:{dead_pid}")
    mine = study.ask({"x": X})
    mine.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    assert count_trials(study) == 2
    other = optuna.load_study(study_name="s", storage=open_storage(url))  # another worker
    other.tell(other.ask({"x": X}), 1.0)
    assert count_trials(study) == 3  # the other worker's trial counts
    fail_stale(study, open_storage(url))
    trials = optuna.load_study(study_name="s", storage=url).get_trials()
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.RUNNING, TrialState.COMPLETE]
    assert trials[0].user_attrs["interrupted"] is True
    assert trials[0].user_attrs["error"] == \
        f"interrupted: its sweeper process ({socket.gethostname()}:{dead_pid}) ended"
    assert count_trials(study) == 2  # run again, not counted in n_trials


def test_fail_stale_and_count_is_both_from_one_read(tmp_path):
    url, study, dead_pid = _study_and_dead_pid(tmp_path)
    for worker in (f"{socket.gethostname()}:{dead_pid}", f"{socket.gethostname()}:{os.getpid()}",
                   f"elsewhere:{dead_pid}"):  # another machine's: not ours to judge
        study.ask({"x": X}).set_user_attr("worker", worker)
    study.tell(study.ask({"x": X}), 1.0)
    # the dead worker's trial: run again; ours and the other machine's still run
    assert fail_stale_and_count(study, open_storage(url)) == (3, 2)
    states = [t.state for t in optuna.load_study(study_name="s", storage=url).get_trials()]
    assert states == [TrialState.FAIL, TrialState.RUNNING, TrialState.RUNNING,
                      TrialState.COMPLETE]
    assert fail_stale_and_count(study, open_storage(url)) == (3, 2)
    assert count_trials(study) == 3
