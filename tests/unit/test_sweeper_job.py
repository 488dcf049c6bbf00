"""A trial run by the sweeper's launcher is the job Hydra's ``run_job`` would run."""

from __future__ import annotations

import os
import shutil

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobStatus, run_job
from hydra.types import HydraContext, RunMode
from omegaconf import OmegaConf, open_dict

from hydra_plugins.rampconf_sweeper._compose import ReusingConfigLoader
from hydra_plugins.rampconf_sweeper._job import TrialLauncher, is_basic_launcher, run_trial_job
from rampconf.api import register_submissions
from rampconf.resources import packaged_conf_dir

TRIAL = "trial={storage: 'sqlite:///x.db', study_name: 's', number: 3, pruner: {type: none}}"


class Recorder:
    """Hydra's callbacks and a task function, recording what a job shows them."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.seen: dict[str, object] = {}

    def on_job_start(self, config, task_function) -> None:
        self.seen["start"] = OmegaConf.to_yaml(config)
        self.seen["start_readonly"] = OmegaConf.is_readonly(config.hydra)

    def on_job_end(self, config, job_return) -> None:
        self.seen["end"] = (OmegaConf.to_yaml(config), job_return.status)

    def task(self, cfg) -> float:
        node = HydraConfig.get()
        self.seen["task"] = OmegaConf.to_yaml(cfg)
        self.seen["hydra"] = OmegaConf.to_yaml(node)
        self.seen["hydra_flags"] = (OmegaConf.is_readonly(node), OmegaConf.is_struct(node))
        self.seen["job_name"] = node.job.name  # resolved through its parent
        self.seen["cwd"] = os.getcwd()
        self.seen["env"] = os.environ.get("RAMPCONF_TEST_JOB")
        self.seen["task_has_hydra"] = "hydra" in cfg
        if self.fail:
            raise ValueError("the task failed")
        return 0.5


@pytest.fixture
def loader():
    register_submissions([])
    with initialize_config_dir(config_dir=str(packaged_conf_dir()), version_base="1.3"):
        yield GlobalHydra.instance().config_loader()


def _job(loader, tmp_path, extra, run, fail=False):
    fixed = ["problem=titanic", "submission=logistic_regression", "hydra/sweeper=rampconf",
             f"hydra.sweep.dir={tmp_path / 'sweep'}", *extra]
    master = loader.load_configuration("config", fixed, RunMode.MULTIRUN)
    config = ReusingConfigLoader(loader).load_sweep_config(
        master, [*fixed, "submission.params.C=0.25", TRIAL])
    with open_dict(config):
        config.hydra.job.id = config.hydra.job.num = 7
    recorder = Recorder(fail)
    context = HydraContext(config_loader=loader, callbacks=recorder)  # type: ignore[arg-type]
    before, cwd = HydraConfig.instance().cfg, os.getcwd()
    ret = run(hydra_context=context, task_function=recorder.task, config=config,
              job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
    assert HydraConfig.instance().cfg is before and os.getcwd() == cwd  # both restored
    job_dir = tmp_path / "sweep" / "7"
    files = {p.relative_to(job_dir).as_posix(): p.read_text()
             for p in sorted(job_dir.rglob("*")) if p.is_file()}
    shutil.rmtree(job_dir)
    return ret, recorder.seen, files


def _ours(**kwargs):
    return run_trial_job(kwargs["hydra_context"], kwargs["task_function"], kwargs["config"],
                         kwargs["job_dir_key"], kwargs["job_subdir_key"])


@pytest.mark.parametrize("extra", [
    [],                                                   # hydra.output_subdir: .hydra files
    ["hydra.output_subdir=null"],                         # a light trial: none
    ["hydra.job.chdir=true", "++hydra.job.env_set.RAMPCONF_TEST_JOB=yes"],
    ["hydra.sweep.subdir=${hydra:job.num}"],              # the directory asks HydraConfig
], ids=["files", "no-files", "chdir-env", "hydra-resolver"])
@pytest.mark.parametrize("fail", [False, True], ids=["ok", "failed"])
def test_a_trial_job_is_the_job_hydra_runs(loader, tmp_path, extra, fail):
    theirs, seen_theirs, files_theirs = _job(loader, tmp_path, extra, run_job, fail)
    ours, seen_ours, files_ours = _job(loader, tmp_path, extra, _ours, fail)
    assert seen_ours == seen_theirs
    assert files_ours == files_theirs
    assert ("hydra.yaml" in "".join(files_ours)) == ("hydra.output_subdir=null" not in extra)
    for name in ("overrides", "working_dir", "task_name", "status"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert OmegaConf.to_yaml(ours.cfg) == OmegaConf.to_yaml(theirs.cfg)
    assert OmegaConf.to_yaml(ours.hydra_cfg) == OmegaConf.to_yaml(theirs.hydra_cfg)
    assert ours.hydra_cfg.hydra.runtime.output_dir == str(tmp_path / "sweep" / "7")
    for ret in (ours, theirs):
        assert OmegaConf.is_readonly(ret.hydra_cfg.hydra)
    assert [(OmegaConf.is_struct(n), OmegaConf.is_readonly(n)) for ret in (ours, theirs)
            for n in (ret.hydra_cfg, ret.hydra_cfg.hydra, ret.cfg)] == \
        [(OmegaConf.is_struct(n), OmegaConf.is_readonly(n)) for ret in (theirs, theirs)
         for n in (ret.hydra_cfg, ret.hydra_cfg.hydra, ret.cfg)]  # flags as Hydra's
    if fail:
        assert ours.status == JobStatus.FAILED
        with pytest.raises(ValueError, match="the task failed"):
            _ = ours.return_value
    else:
        assert ours.return_value == theirs.return_value == 0.5
    if "hydra.job.chdir=true" in extra:
        assert seen_ours["cwd"] == str(tmp_path / "sweep" / "7") and seen_ours["env"] == "yes"
        assert "RAMPCONF_TEST_JOB" not in os.environ


def test_only_hydras_basic_launcher_is_replaced():
    from hydra._internal.core_plugins.basic_launcher import BasicLauncher

    class Mine(BasicLauncher):
        pass

    assert is_basic_launcher(BasicLauncher())
    assert not is_basic_launcher(Mine()) and not is_basic_launcher(TrialLauncher())
