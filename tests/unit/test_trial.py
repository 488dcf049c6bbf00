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
