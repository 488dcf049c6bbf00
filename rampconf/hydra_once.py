"""Hydra's command line without the work it repeats: compose once, list groups once.

:func:`compose_once` wraps ``hydra.main`` for one command line (see
:mod:`rampconf.cli`): a run's config is composed once instead of twice, and
``--help`` lists the config groups from one copy of the config repository
instead of one copy per group (Hydra deep-copies its repository, the
submissions registered in its config store included, for every group it
lists, twice: about two thirds of the time of ``--help``). What Hydra prints
and passes to the task is unchanged.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["compose_once"]

_CONFIG = object()  # Hydra's default filter of group options (configs, not groups)


@contextlib.contextmanager
def compose_once(argv: list[str]) -> Iterator[None]:
    """Hydra's ``main`` for ``argv``, composing a run once and listing groups once."""
    with _compose_once_run(argv), _groups_listed_once():
        yield


@contextlib.contextmanager
def _compose_once_run(argv: list[str]) -> Iterator[None]:
    """Let Hydra compose the config of a single run once, not twice.

    Before a run, Hydra composes the config only to read ``hydra.mode`` (is it
    a multirun?), then composes it again to run. Here the first composition is
    made as the run's own (RUN mode, sweep overrides refused) and handed to the
    second, with the ``hydra.mode=RUN`` override Hydra then adds applied to it.
    A composition error is raised from there (Hydra would compose again, in the
    same mode, to raise it). Multiruns, and a composition that fails while the
    command line holds a sweep override (the config may set ``hydra.mode:
    MULTIRUN``), go Hydra's own way.
    """
    from hydra._internal.hydra import Hydra
    from hydra.types import RunMode

    if any(arg in ("-m", "--multirun") for arg in argv):
        yield
        return
    original = Hydra.get_mode

    def get_mode(self: Any, config_name: str | None, overrides: list[str]) -> Any:
        try:
            cfg = self.compose_config(config_name=config_name, overrides=list(overrides),
                                      run_mode=RunMode.RUN)
        except Exception:
            if _has_sweep(overrides):  # a config that sets hydra.mode: MULTIRUN may accept it
                return original(self, config_name, overrides)
            raise  # the run's own composition would fail the same way: once is enough
        mode = cfg.hydra.mode
        if mode not in (None, RunMode.RUN):
            return mode
        expected = [*overrides, "hydra.mode=RUN"] if mode is None else list(overrides)
        loader = self.config_loader

        def load_configuration(**kwargs: Any) -> Any:
            del loader.load_configuration  # serves once
            if kwargs.get("config_name") != config_name \
                    or list(kwargs.get("overrides", ())) != expected \
                    or kwargs.get("run_mode") != RunMode.RUN:
                return loader.load_configuration(**kwargs)
            if mode is None:  # what the override hydra.mode=RUN does, as the last override
                cfg.hydra.mode = RunMode.RUN
                cfg.hydra.overrides.hydra.append("hydra.mode=RUN")
            return cfg

        loader.load_configuration = load_configuration
        return mode

    Hydra.get_mode = get_mode  # type: ignore[method-assign]
    try:
        yield
    finally:
        Hydra.get_mode = original  # type: ignore[method-assign]


def _has_sweep(overrides: list[str]) -> bool:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return any(o.is_sweep_override()
                   for o in OverridesParser.create().parse_overrides(list(overrides)))
    except Exception:
        return True


@contextlib.contextmanager
def _groups_listed_once() -> Iterator[None]:
    """``--help``: the groups and their options read from one copy of the repository.

    And, when nothing can change the help (no override, no ``./conf/config.yaml``,
    no other primary config, a template without ``$CONFIG``), its text is taken
    from the packaged ``config.yaml`` without composing the whole config (the
    default problem, its scores...): the same text (a test compares them).
    """
    from hydra._internal.hydra import Hydra

    original = Hydra.app_help

    def app_help(self: Any, config_name: str | None, args_parser: Any, args: Any) -> Any:
        loader = self.config_loader
        _, repository = loader._parse_overrides_and_create_caching_repo(None, [])
        listed = loader.get_group_options

        def get_group_options(group_name: str, results_filter: Any = _CONFIG,
                              config_name: str | None = None,
                              overrides: list[str] | None = None) -> Any:
            from hydra.core.object_type import ObjectType

            if config_name is None and not overrides:
                return repository.get_group_options(
                    group_name, ObjectType.CONFIG if results_filter is _CONFIG else results_filter)
            if results_filter is _CONFIG:
                return listed(group_name, config_name=config_name, overrides=overrides)
            return listed(group_name, results_filter, config_name, overrides)

        loader.get_group_options = get_group_options
        try:
            help_cfg = _packaged_help(config_name, args)
            if help_cfg is None:
                return original(self, config_name=config_name, args_parser=args_parser,
                                args=args)
            from omegaconf import OmegaConf

            print(self.get_help(help_cfg, OmegaConf.create(), args_parser, args.resolve))
            return None
        finally:
            del loader.get_group_options

    Hydra.app_help = app_help  # type: ignore[method-assign]
    try:
        yield
    finally:
        Hydra.app_help = original  # type: ignore[method-assign]


def _packaged_help(config_name: str | None, args: Any) -> Any:
    """``hydra.help`` of the packaged primary config, when it is the one Hydra would use."""
    import os

    from rampconf.resources import packaged_conf_dir

    if config_name != "config" or args.overrides or args.config_dir \
            or args.config_path or args.config_name \
            or os.path.exists(os.path.join(os.getcwd(), "conf", "config.yaml")):
        return None
    from omegaconf import OmegaConf

    primary = OmegaConf.load(packaged_conf_dir() / "config.yaml")
    help_cfg = OmegaConf.select(primary, "hydra.help")
    defaults = [str(entry) for entry in OmegaConf.select(primary, "defaults", default=[])]
    if help_cfg is None or any("hydra/help" in entry for entry in defaults) \
            or not {"app_name", "header", "footer", "template"} <= set(help_cfg) \
            or "$CONFIG" in str(help_cfg.template):
        return None
    return help_cfg
