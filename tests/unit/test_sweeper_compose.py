"""A sweep composes its base config once: each trial's config is the one Hydra composes."""

from __future__ import annotations

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import OmegaConf

from hydra_plugins.rampconf_sweeper._compose import ReusingConfigLoader
from rampconf.api import register_submissions
from rampconf.resources import packaged_conf_dir

TRIAL = "trial={storage: 'sqlite:///x.db', study_name: 's', number: 3, pruner: {type: none}}"


@pytest.fixture
def loader():
    register_submissions([])
    with initialize_config_dir(config_dir=str(packaged_conf_dir()), version_base="1.3"):
        yield GlobalHydra.instance().config_loader()


@pytest.mark.parametrize("fixed", [
    ["problem=titanic", "submission=logistic_regression", "seed=3"],
    ["problem=iris", "cv=kfold", "cv.n_splits=3"],  # a group choice and a key of it
])
def test_each_trial_gets_the_config_hydra_composes(loader, fixed, tmp_path):
    master = loader.load_configuration(
        "config", [*fixed, "hydra/sweeper=rampconf", f"hydra.sweep.dir={tmp_path}"],
        RunMode.MULTIRUN)
    reusing = ReusingConfigLoader(loader)
    for value in (0.5, 2.0, 0.5):
        overrides = [*fixed, f"submission.params.C={value}", "problem.cv.random_state=1",
                     TRIAL]
        expected = loader.load_sweep_config(master, overrides)
        got = reusing.load_sweep_config(master, overrides)
        assert OmegaConf.to_yaml(got) == OmegaConf.to_yaml(expected)
        assert got.submission.params["C"] == value
        for node in ("hydra", "submission.params", "problem"):  # flags and types kept
            a, b = OmegaConf.select(got, node), OmegaConf.select(expected, node)
            assert (OmegaConf.is_struct(a), OmegaConf.is_readonly(a)) == \
                (OmegaConf.is_struct(b), OmegaConf.is_readonly(b))
        assert OmegaConf.get_type(got, "hydra") is OmegaConf.get_type(expected, "hydra")
    assert len(reusing._bases) == 1  # composed once for the three trials


def test_a_trial_that_changes_a_group_or_a_bad_key_goes_hydras_way(loader, tmp_path):
    from hydra.errors import ConfigCompositionException

    master = loader.load_configuration(
        "config", ["problem=iris", "hydra/sweeper=rampconf", f"hydra.sweep.dir={tmp_path}"],
        RunMode.MULTIRUN)
    reusing = ReusingConfigLoader(loader)
    for cv in ("kfold", "shuffle_split"):
        overrides = ["problem=iris", f"cv={cv}", TRIAL]
        assert OmegaConf.to_yaml(reusing.load_sweep_config(master, overrides)) == \
            OmegaConf.to_yaml(loader.load_sweep_config(master, overrides))
    assert len(reusing._bases) == 2
    with pytest.raises(ConfigCompositionException, match="Could not override 'no_such_key'"):
        reusing.load_sweep_config(master, ["problem=iris", "no_such_key=1"])


def test_a_config_that_does_not_pickle_is_deep_copied(loader, tmp_path, monkeypatch):
    """As in joblib's workers, where a plugin's config class is imported twice."""
    import pickle

    from hydra_plugins.rampconf_sweeper import _compose

    def refuse(*args, **kwargs):
        raise pickle.PicklingError("not the same object")

    monkeypatch.setattr(_compose.pickle, "dumps", refuse)
    fixed = ["problem=iris", "hydra/sweeper=rampconf", f"hydra.sweep.dir={tmp_path}"]
    master = loader.load_configuration("config", fixed, RunMode.MULTIRUN)
    reusing = ReusingConfigLoader(loader)
    for value in (3, 4):
        overrides = ["problem=iris", f"submission.params.n_estimators={value}", TRIAL]
        got = reusing.load_sweep_config(master, overrides)
        assert OmegaConf.to_yaml(got) == \
            OmegaConf.to_yaml(loader.load_sweep_config(master, overrides))
        assert got.submission.params.n_estimators == value


def test_an_interpolation_in_a_hydra_override_is_left_to_each_trial(loader, tmp_path):
    """``hydra.sweep.subdir=${hydra:job.num}`` is each job's number, not the master's."""
    from hydra.core.hydra_config import HydraConfig

    fixed = ["problem=iris", "hydra/sweeper=rampconf", f"hydra.sweep.dir={tmp_path}",
             "hydra.sweep.subdir=trial_${hydra:job.num}"]
    master = loader.load_configuration("config", fixed, RunMode.MULTIRUN)
    HydraConfig.instance().set_config(master)  # as Hydra has it while a sweep runs
    try:
        reusing = ReusingConfigLoader(loader)
        for number in (4, 5):
            overrides = ["problem=iris", f"submission.params.n_estimators={number}", TRIAL]
            got = reusing.load_sweep_config(master, overrides)
            expected = loader.load_sweep_config(master, overrides)
            assert OmegaConf.to_yaml(got) == OmegaConf.to_yaml(expected)
            assert OmegaConf.to_container(got.hydra.sweep)["subdir"] == "trial_${hydra:job.num}"
    finally:
        HydraConfig.instance().cfg = None
