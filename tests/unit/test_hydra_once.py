"""A single run's config is composed once, and is the config Hydra composes in two passes."""

from __future__ import annotations

import contextlib

from hydra._internal.hydra import Hydra
from hydra._internal.utils import create_automatic_config_search_path
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import OmegaConf

from rampconf.api import register_submissions
from rampconf.hydra_once import compose_once
from rampconf.resources import packaged_conf_dir


def make_hydra() -> Hydra:
    GlobalHydra.instance().clear()
    path = create_automatic_config_search_path(None, None, str(packaged_conf_dir()))
    return Hydra.create_main_hydra2(task_name="rampconf", config_search_path=path)


def run_config(overrides: list[str], once: bool) -> tuple[str, int]:
    """What Hydra's ``_run_app`` composes for a run: ``get_mode``, then the run's config."""
    with compose_once(overrides) if once else contextlib.nullcontext():
        hydra = make_hydra()
        loader = hydra.config_loader
        load = loader.load_configuration
        calls = []

        def counted(**kwargs):
            calls.append(kwargs["run_mode"])
            return load(**kwargs)

        loader.load_configuration = counted
        args = list(overrides)
        mode = hydra.get_mode(config_name="config", overrides=args)
        if mode is None:
            args.append("hydra.mode=RUN")
        cfg = hydra.compose_config(config_name="config", overrides=args, run_mode=RunMode.RUN)
    GlobalHydra.instance().clear()
    return OmegaConf.to_yaml(cfg), len(calls)


def test_a_run_is_composed_once_into_the_config_hydra_composes_twice(tmp_path):
    overrides = ["problem=titanic", "seed=3", "problem.cv.n_splits=4",
                 f"hydra.run.dir={tmp_path}"]
    register_submissions(overrides)
    once, n_once = run_config(overrides, once=True)
    twice, n_twice = run_config(overrides, once=False)
    assert (n_once, n_twice) == (1, 2)
    assert once == twice
    assert "mode: RUN" in once and "- hydra.mode=RUN" in once
