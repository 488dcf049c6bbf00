"""A run that is one trial of a sweep: fold reports reach the study, global logging untouched."""

from __future__ import annotations

import optuna
import pytest

from rampconf.trial import PrunerConfig, TrialConfig, TrialReporter


@pytest.fixture
def verbosity():
    """The caller's Optuna verbosity (a notebook's choice), restored after the test."""
    old = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.DEBUG)
    yield optuna.logging.DEBUG
    optuna.logging.set_verbosity(old)


def test_reporting_folds_leaves_optunas_log_level_alone(tmp_path, verbosity):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    trial = study.ask()
    config = TrialConfig(storage=storage, study_name="s", number=trial.number,
                         pruner=PrunerConfig(type="none"))
    reporter = TrialReporter(config, "acc")
    reporter.report(0, {"valid": {"acc": 0.5}, "test": {"acc": 0.25}})
    reporter.report(1, {"valid": {"acc": 0.75}, "test": {"acc": 0.5}})
    assert optuna.logging.get_verbosity() == verbosity
    stored = optuna.load_study(study_name="s", storage=storage).trials[0]
    assert stored.intermediate_values == {1: 0.5, 2: 0.625}
    assert stored.user_attrs["fold_valid_scores"] == {"0": 0.5, "1": 0.75}


def test_folds_before_the_pruner_can_act_are_written_once_at_the_end(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    for value in (0.9, 0.8):  # two complete trials: the median pruner may act (startup 2)
        done = study.ask()
        for step in (1, 2, 3):
            done.report(value, step=step)
        study.tell(done, value)
    trial = study.ask()
    config = TrialConfig(storage=storage, study_name="s", number=trial.number,
                         pruner=PrunerConfig(type="median", n_startup_trials=2,
                                             n_warmup_steps=3), record_each_fold=False)

    def stored():
        return optuna.load_study(study_name="s", storage=storage).trials[-1]

    reporter = TrialReporter(config, "acc")
    reporter.report(0, {"valid": {"acc": 0.95}, "test": {"acc": 0.5}})
    reporter.report(1, {"valid": {"acc": 0.85}, "test": {"acc": 0.5}})
    assert stored().intermediate_values == {}  # warm-up folds: no transaction yet
    with pytest.raises(optuna.TrialPruned, match="pruned after 3 fold"):
        reporter.report(2, {"valid": {"acc": 0.1}, "test": {"acc": 0.5}})
    pruned = stored()  # pruned at step 3 (below the median 0.85): every value is there
    assert pruned.intermediate_values == pytest.approx({1: 0.95, 2: 0.9, 3: 0.6333333333})
    assert pruned.user_attrs["fold_valid_scores"] == {"0": 0.95, "1": 0.85, "2": 0.1}

    second = study.ask()
    reporter = TrialReporter(config.model_copy(update={"number": second.number}), "acc")
    for fold, value in enumerate((0.9, 0.9, 0.9)):
        reporter.report(fold, {"valid": {"acc": value}, "test": {"acc": 0.5}})
    assert stored().intermediate_values == {3: 0.9}  # the step the pruner was asked at
    reporter.finish({"mean": {"test": {"acc": 0.5}}})
    assert stored().intermediate_values == {1: 0.9, 2: 0.9, 3: 0.9}
    assert stored().user_attrs["n_folds_run"] == 3


def test_without_a_pruner_a_sweep_trial_writes_its_folds_when_it_ends(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    config = TrialConfig(storage=storage, study_name="s", number=study.ask().number,
                         pruner=PrunerConfig(type="none"), record_each_fold=False)
    reporter = TrialReporter(config, "acc")
    reporter.report(0, {"valid": {"acc": 0.5}, "test": {"acc": 0.25}})
    reporter.report(1, {"valid": {"acc": 0.75}, "test": {"acc": 0.5}})
    assert optuna.load_study(study_name="s", storage=storage).trials[0].intermediate_values == {}
    reporter.finish({"mean": {"test": {"acc": 0.375}}})
    stored = optuna.load_study(study_name="s", storage=storage).trials[0]
    assert stored.intermediate_values == {1: 0.5, 2: 0.625}
    assert stored.user_attrs["fold_valid_scores"] == {"0": 0.5, "1": 0.75}
    assert stored.user_attrs["fold_test_scores"] == {"0": 0.25, "1": 0.5}
    assert stored.user_attrs["mean_test_score"] == 0.375


def test_trials_run_in_one_process_share_the_study_and_see_other_workers_trials(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    config = TrialConfig(storage=storage, study_name="s", number=study.ask().number,
                         pruner=PrunerConfig(type="median", n_startup_trials=2,
                                             n_warmup_steps=1), record_each_fold=False)
    first = TrialReporter(config, "acc")
    first.report(0, {"valid": {"acc": 0.1}, "test": {"acc": 0.5}})  # no complete trial: runs on
    first.finish({"mean": {"test": {"acc": 0.5}}})
    other = optuna.load_study(study_name="s", storage=storage)  # another worker's process
    for value in (0.9, 0.8):
        done = other.ask()
        done.report(value, step=1)
        other.tell(done, value)
    second = TrialReporter(config.model_copy(update={"number": study.ask().number}), "acc")
    assert second.trial.study is first.trial.study  # one study, its cache read once
    with pytest.raises(optuna.TrialPruned):  # it sees the other worker's complete trials
        second.report(0, {"valid": {"acc": 0.1}, "test": {"acc": 0.5}})


def _finished_trial(storage: str, commits: list[int] | None = None):
    """Trial 0 of a new study, reported two folds and finished; what the storage holds."""
    from rampconf.trial import open_storage

    study = optuna.create_study(study_name="s", storage=open_storage(storage),
                                direction="maximize")
    config = TrialConfig(storage=storage, study_name="s", number=study.ask().number,
                         pruner=PrunerConfig(type="none"), record_each_fold=False)
    reporter = TrialReporter(config, "acc")
    reporter.report(0, {"valid": {"acc": 0.5}, "test": {"acc": 0.25}})
    reporter.report(1, {"valid": {"acc": 0.75}, "test": {"acc": 0.5}})
    if commits is None:
        reporter.finish({"mean": {"test": {"acc": 0.375}}}, run_dir="/runs/0")
    else:
        import sqlalchemy

        engine = open_storage(storage).engine

        def count(connection):
            commits.append(1)

        sqlalchemy.event.listen(engine, "commit", count)
        reporter.finish({"mean": {"test": {"acc": 0.375}}}, run_dir="/runs/0")
        sqlalchemy.event.remove(engine, "commit", count)
    return optuna.load_study(study_name="s", storage=open_storage(storage)).trials[0]


def test_a_trial_ends_in_one_database_transaction_with_what_a_journal_gets_call_by_call(
        tmp_path):
    commits: list[int] = []
    database = _finished_trial(f"sqlite:///{tmp_path / 'study.db'}", commits)
    assert len(commits) == 1  # the intermediate values and every attribute together
    journal = _finished_trial(f"journal:///{tmp_path / 'study.log'}")
    for stored in (database, journal):
        assert stored.intermediate_values == {1: 0.5, 2: 0.625}
        assert stored.user_attrs == {
            "fold_valid_scores": {"0": 0.5, "1": 0.75},
            "fold_test_scores": {"0": 0.25, "1": 0.5},
            "mean_test_score": 0.375, "n_folds_run": 2, "job_dir": "/runs/0"}


def test_a_light_trial_holds_its_predictions_only_for_a_sweeper_in_its_process(tmp_path):
    from pathlib import Path

    import numpy as np

    from rampconf import trial as trial_module

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    held = [(Path(tmp_path / "predictions" / "bagged.npz"), {"valid": np.zeros(3)})]
    for number, sweeper_here in ((study.ask().number, False), (study.ask().number, True)):
        if sweeper_here:
            trial_module.hold_for_sweeper()
        config = TrialConfig(storage=storage, study_name="s", number=number,
                             pruner=PrunerConfig(type="none"), record_each_fold=False,
                             output="light")
        reporter = TrialReporter(config, "acc")
        reporter.report(0, {"valid": {"acc": 0.5}, "test": {"acc": 0.25}})
        reporter.finish({"mean": {"test": {"acc": 0.25}}}, held=held)
    try:
        assert trial_module.take_held(storage, "s", 0) is None  # no sweeper to take them
        assert trial_module.take_held(storage, "s", 1) is held
        assert trial_module.take_held(storage, "s", 1) is None  # taken once
    finally:
        trial_module._held_for = None


def test_a_batch_writes_what_optunas_own_calls_write_on_a_database_and_a_journal(tmp_path):
    """Non-finite values, after a value reported before, an attribute written twice: a batch
    on SQLite and on a journal file gives the trial that ``Trial.report`` and
    ``Trial.set_user_attr``, called one by one, give."""
    import math

    from rampconf.trial import open_storage, write_batch

    values = {1: 0.5, 3: math.nan, 4: math.inf, 5: -math.inf}
    first, second = {"a": 1, "b": "x"}, {"b": {"y": [1, 2]}, "c": None}
    stored = []
    for url, batched in ((f"sqlite:///{tmp_path / 'study.db'}", True),
                         (f"journal:///{tmp_path / 'study.log'}", True),
                         (f"journal:///{tmp_path / 'reference.log'}", False)):
        storage = open_storage(url)
        trial = optuna.create_study(study_name="s", storage=storage).ask()
        trial.report(0.1, step=2)
        if batched:
            write_batch(storage, trial._trial_id, values, first)
            write_batch(storage, trial._trial_id, {}, second)
        else:
            for step, value in values.items():
                trial.report(value, step=step)
            for key, value in {**first, **second}.items():
                trial.set_user_attr(key, value)
        frozen = optuna.load_study(study_name="s", storage=open_storage(url)).trials[0]
        stored.append((repr(sorted(frozen.intermediate_values.items())), frozen.user_attrs))
    assert stored[0] == stored[1] == stored[2] == (
        "[(1, 0.5), (2, 0.1), (3, nan), (4, inf), (5, -inf)]",
        {"a": 1, "b": {"y": [1, 2]}, "c": None})


def test_a_batch_on_a_journal_appends_its_records_at_once(tmp_path, monkeypatch):
    from optuna.storages.journal import JournalFileBackend

    from rampconf.trial import open_storage, write_batch

    storage = open_storage(f"journal:///{tmp_path / 'study.log'}")
    study = optuna.create_study(study_name="s", storage=storage)
    trial = study.ask()
    appends: list[int] = []
    original = JournalFileBackend.append_logs
    monkeypatch.setattr(JournalFileBackend, "append_logs",
                        lambda self, logs: appends.append(len(logs)) or original(self, logs))
    write_batch(storage, trial._trial_id, {1: 0.5, 2: 0.25}, {"a": 1, "b": 2, "c": 3})
    assert appends == [5]
    assert storage.get_trial(trial._trial_id).user_attrs == {"a": 1, "b": 2, "c": 3}
    study.tell(trial, 1.0)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        write_batch(storage, trial._trial_id, {3: 0.1}, {})  # as trial.report would


def test_a_batch_that_meets_an_attribute_written_meanwhile_is_written_call_by_call(
        tmp_path, monkeypatch):
    """Another process wrote an attribute after the batch looked: nothing is lost."""
    from rampconf import trialwrite
    from rampconf.trial import open_storage, write_batch

    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    trial = optuna.create_study(study_name="s", storage=storage).ask()
    trial.set_user_attr("a", 1)
    monkeypatch.setattr(trialwrite, "_stored_attrs", lambda *args: {})  # did not see it
    write_batch(storage, trial._trial_id, {1: 0.5}, {"a": 2, "b": 3})
    frozen = storage.get_trial(trial._trial_id)
    assert frozen.user_attrs == {"a": 2, "b": 3} and frozen.intermediate_values == {1: 0.5}


def _pragmas(engine) -> tuple[str, int]:
    with engine.connect() as connection:
        return (connection.exec_driver_sql("PRAGMA journal_mode").scalar(),
                connection.exec_driver_sql("PRAGMA synchronous").scalar())


def test_a_sqlite_study_is_written_ahead_without_waiting_for_the_disk_and_survives_a_killed_writer(
        tmp_path):
    """Every connection of the storage, and of a pickled copy, is in WAL mode with
    synchronous=NORMAL (1); trials a process committed before it was killed are read back
    by plain Optuna, the write-ahead log not yet folded into the file."""
    import pickle
    import subprocess
    import sys
    import textwrap

    from rampconf.trial import open_storage

    url = f"sqlite:///{tmp_path / 'study.db'}"
    storage = open_storage(url)
    assert _pragmas(storage.engine) == ("wal", 1)
    assert _pragmas(pickle.loads(pickle.dumps(storage)).engine) == ("wal", 1)
    writer = textwrap.dedent(f"""
        import os, optuna
        from rampconf.trial import open_storage
        study = optuna.create_study(study_name="s", storage=open_storage({url!r}))
        for x in (0.25, 0.5, 0.75):
            study.tell(study.ask(), x)
        os._exit(0)  # no clean close: the log stays beside the file
        """)
    subprocess.run([sys.executable, "-c", writer], check=True)
    assert (tmp_path / "study.db-wal").stat().st_size > 0
    plain = optuna.storages.RDBStorage(url)
    assert [t.value for t in optuna.load_study(study_name="s", storage=plain).trials] == [
        0.25, 0.5, 0.75]
