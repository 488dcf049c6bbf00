"""Trials run in the sweeper's process: Hydra's basic launcher, with cheaper copies.

Hydra's ``run_job`` makes four deep copies of each job's config: two for
``HydraConfig`` (one before the job's output directory is known, one after),
one for the task (the config less its ``hydra`` node) and one for the
``JobReturn``. A titanic trial's config has about 270 nodes, and the four
copies took about 20 ms of each trial (a trial of 8 small folds is ~0.4 s).
:class:`TrialLauncher` replaces Hydra's basic launcher in a sweep (only that
one: any other launcher is used as configured) and runs each job with
:func:`run_trial_job`, which does what ``run_job`` does, in the same order,
but makes its copies by unpickling the config three times (pickled once):
about 5 ms. What a job sees is the same: ``HydraConfig`` holds the ``hydra``
node (read-only, its parent the full config, the job's output directory in
``hydra.runtime.output_dir``), callbacks get the full config, the task gets
its own copy without ``hydra``, the ``JobReturn`` holds its own copy of the
``hydra`` node, the working directory, logging, ``.hydra/`` files (when
``hydra.output_subdir`` is set) and ``hydra.job.env_set`` are handled as
Hydra does. A config that does not pickle is run by Hydra's ``run_job``.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra._internal.core_plugins.basic_launcher import BasicLauncher

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hydra.core.utils import JobReturn
    from hydra.types import HydraContext, TaskFunction
    from omegaconf import DictConfig

__all__ = ["TrialLauncher", "is_basic_launcher", "run_trial_job"]

#: Hydra's basic launcher logs under its module's name ("[HYDRA] Launching 1 jobs locally").
log = logging.getLogger("hydra._internal.core_plugins.basic_launcher")


def is_basic_launcher(launcher: Any) -> bool:
    """Whether ``launcher`` is Hydra's own basic launcher (not a subclass, not another)."""
    kind = type(launcher)
    return (kind.__module__, kind.__qualname__) == (
        "hydra._internal.core_plugins.basic_launcher", "BasicLauncher")


class TrialLauncher(BasicLauncher):
    """Hydra's basic launcher (jobs one after the other, in this process) over
    :func:`run_trial_job`: its :meth:`launch` is the basic launcher's, with that call."""

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        from hydra.core.utils import configure_log, filter_overrides, setup_globals
        from omegaconf import open_dict

        assert self.config is not None and self.hydra_context is not None
        assert self.task_function is not None
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        log.info(f"Launching {len(job_overrides)} jobs locally")
        runs = []
        for number, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{number} : {' '.join(filter_overrides(overrides))}")
            config = self.hydra_context.config_loader.load_sweep_config(
                self.config, list(overrides))
            with open_dict(config):
                config.hydra.job.id = number
                config.hydra.job.num = number
            runs.append(run_trial_job(self.hydra_context, self.task_function, config,
                                      "hydra.sweep.dir", "hydra.sweep.subdir"))
            configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        return runs


def _hydra_node(pickled: bytes, output_dir: str | None) -> DictConfig:
    """A config holding only the ``hydra`` node of the pickled config, as
    ``OmegaConf.masked_copy(config, "hydra")`` makes it (no flags of its own)."""
    from omegaconf import OmegaConf, open_dict, read_write

    copy = pickle.loads(pickled)
    with read_write(copy), open_dict(copy):
        for key in [key for key in copy if key != "hydra"]:
            del copy[key]
    if output_dir is not None:
        with read_write(copy.hydra.runtime), open_dict(copy.hydra.runtime):
            copy.hydra.runtime.output_dir = output_dir
    OmegaConf.set_readonly(copy, None)
    OmegaConf.set_struct(copy, None)
    return copy


def run_trial_job(hydra_context: HydraContext, task_function: TaskFunction,
                  config: DictConfig, job_dir_key: str, job_subdir_key: str | None
                  ) -> JobReturn:
    """Run one job as Hydra's ``run_job`` does (see the module docstring), with cheaper copies.

    Returns
    -------
    JobReturn
        Its status, return value (or exception), configs, overrides and working directory.
    """
    from hydra import version
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import (
        JobReturn,
        JobRuntime,
        JobStatus,
        _flush_loggers,
        _save_config,
        configure_log,
        env_override,
        run_job,
    )
    from omegaconf import OmegaConf, open_dict, read_write

    OmegaConf.set_readonly(config.hydra, True)  # as HydraConfig.set_config does
    try:
        pickled: bytes | None = pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # e.g. a value of a class pickle cannot reach
        pickled = None
    if pickled is None or (config.hydra.job.chdir is None and not version.base_at_least("1.2")):
        # (an old version_base: Hydra's run_job warns, then changes directory)
        return run_job(task_function=task_function, config=config, job_dir_key=job_dir_key,
                       job_subdir_key=job_subdir_key, hydra_context=hydra_context)
    callbacks = hydra_context.callbacks
    old_cwd = os.getcwd()
    hydra_config = HydraConfig.instance()
    previous = hydra_config.cfg
    # the job's directory may interpolate ${hydra:...}: HydraConfig holds this job's node first
    node = _hydra_node(pickled, None)
    node.hydra._set_parent(config)
    hydra_config.cfg = node  # type: ignore[assignment]
    chdir = None
    try:
        output_dir = str(OmegaConf.select(config, job_dir_key))
        if job_subdir_key is not None:
            output_dir = os.path.join(output_dir, str(OmegaConf.select(config, job_subdir_key)))
        absolute = os.path.abspath(output_dir)
        for holder in (config, node):
            with read_write(holder.hydra.runtime), open_dict(holder.hydra.runtime):
                holder.hydra.runtime.output_dir = absolute
        ret = JobReturn()
        task_config = pickle.loads(pickled)
        with read_write(task_config), open_dict(task_config):
            del task_config["hydra"]
        ret.cfg = task_config
        ret.hydra_cfg = hydra_cfg = _hydra_node(pickled, absolute)
        overrides = OmegaConf.to_container(config.hydra.overrides.task)
        assert isinstance(overrides, list)
        ret.overrides = overrides
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        chdir = bool(hydra_cfg.hydra.job.chdir)  # None: False since version_base 1.2
        if chdir:
            os.chdir(output_dir)
            ret.working_dir = output_dir
        else:
            ret.working_dir = os.getcwd()
        configure_log(config.hydra.job_logging, config.hydra.verbose)
        if config.hydra.output_subdir is not None:
            folder = Path(config.hydra.runtime.output_dir) / Path(config.hydra.output_subdir)
            _save_config(task_config, "config.yaml", folder)
            _save_config(hydra_cfg, "hydra.yaml", folder)
            _save_config(config.hydra.overrides.task, "overrides.yaml", folder)
        with env_override(hydra_cfg.hydra.job.env_set):
            callbacks.on_job_start(config=config, task_function=task_function)
            try:
                ret.return_value = task_function(task_config)
                ret.status = JobStatus.COMPLETED
            except Exception as exc:
                ret.return_value = exc
                ret.status = JobStatus.FAILED
        ret.task_name = JobRuntime.instance().get("name")
        _flush_loggers()
        callbacks.on_job_end(config=config, job_return=ret)
        return ret
    finally:
        hydra_config.cfg = previous
        if chdir:
            os.chdir(old_cwd)
