"""The sweep plan: settings, search space and a few points of it checked before anything runs.

:func:`make_plan` checks the ``hydra.sweeper.*`` settings, parses the search
space (``hydra.sweeper.params``, then the command line: the later expression
of a key wins), then composes, validates and prepares the job config of a few
points of the space (the low ends / first choices, the high ends, every other
choice) and checks the data files, as a run would. Every error is raised as
a :class:`~rampconf.errors.RampconfError` (one line per problem) before any
study, trial or sweep directory is created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException

from rampconf.errors import ConfigError, RampconfError

from ._sampling import SAMPLERS
from ._space import (
    SYNTAX_HELP,
    SearchSpace,
    check_points,
    format_value,
    is_int,
    parse_search_space,
)
from ._storage import normalize_storage

if TYPE_CHECKING:
    from hydra.types import HydraContext

    from rampconf.trial import PrunerConfig

__all__ = ["SweepPlan", "check_settings", "make_plan"]


@dataclass
class SweepPlan:
    """Everything validated before the sweep starts."""

    space: SearchSpace
    direction: str  # "maximize" or "minimize", from the official score
    official: str  # the official score's name
    precision: int  # its printed precision
    study_name: str
    storage: str  # an absolute Optuna storage URL
    sweep_dir: Path
    pruner: PrunerConfig


def check_settings(settings: dict[str, Any]) -> PrunerConfig:
    """Check the ``hydra.sweeper.*`` settings; the pruner's, validated.

    Raises
    ------
    ConfigError
        One line per bad setting.
    """
    from pydantic import ValidationError

    from rampconf.trial import PrunerConfig

    s = settings
    errors = []

    def integer(key: str, minimum: int, allow_none: bool = False) -> None:
        value = s[key]
        if value is None and allow_none:
            return
        if not is_int(value) or value < minimum:
            errors.append(f"hydra.sweeper.{key}: an integer >= {minimum}"
                          f"{' or null' if allow_none else ''}, got {value!r}")

    integer("n_trials", 1)
    integer("n_jobs", 1)
    integer("seed", 0, allow_none=True)
    integer("max_failures", 0, allow_none=True)
    integer("n_best", 0)
    if s["sampler"] not in SAMPLERS:
        errors.append(f"hydra.sweeper.sampler: one of {', '.join(SAMPLERS)}, "
                      f"got {s['sampler']!r}")
    if s["trial_output"] not in ("full", "light"):
        errors.append(f"hydra.sweeper.trial_output: full or light, got {s['trial_output']!r}")
    rate = s["max_failure_rate"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        errors.append(f"hydra.sweeper.max_failure_rate: a number in [0, 1], got {rate!r}")
    for key in ("timeout", "trial_timeout"):
        timeout = s[key]
        if timeout is not None and (isinstance(timeout, bool)
                                    or not isinstance(timeout, (int, float)) or timeout <= 0):
            errors.append(f"hydra.sweeper.{key}: a positive number of seconds or null, "
                          f"got {timeout!r}")
    if s["params"] is not None and not isinstance(s["params"], dict):
        errors.append("hydra.sweeper.params: a mapping of override keys to sweep "
                      f"expressions, got {s['params']!r}")
    pruner = None
    try:
        pruner = PrunerConfig.model_validate(s["pruner"])
    except ValidationError as exc:
        messages: dict[str, list[str]] = {}
        inputs: dict[str, Any] = {}
        for item in exc.errors():  # a union gives one error per member: join them
            where = str(item["loc"][0]) if item["loc"] else "type"
            text = item["msg"][:1].lower() + item["msg"][1:]
            if text not in messages.setdefault(where, []):
                messages[where].append(text)
            inputs.setdefault(where, item.get("input"))
        errors.extend(f"hydra.sweeper.pruner.{where}: {' or '.join(texts)}, "
                      f"got {inputs[where]!r}" for where, texts in messages.items())
    errors = list(dict.fromkeys(errors))
    if errors:
        raise ConfigError(errors[0], lines=errors)
    assert pruner is not None
    return pruner


def _expressions(params: dict[str, Any] | None, arguments: Sequence[str]) -> list[str]:
    """``hydra.sweeper.params`` as ``key=EXPR`` overrides, then the command line's."""
    expressions = []
    for key, value in (params or {}).items():
        if isinstance(value, (list, dict)):
            raise ConfigError(f"hydra.sweeper.params.{key}: a sweep expression such as "
                              f"choice(a, b) or interval(0, 1), got {value!r}")
        text = format_value(value) if not isinstance(value, str) else value
        expressions.append(f"{key}={text}")
    return [*expressions, *arguments]


def _compose(hydra_context: HydraContext, config: DictConfig,
             overrides: list[str]) -> dict[str, Any]:
    """The resolved job config of ``overrides``, as the job will get it."""
    try:
        cfg = hydra_context.config_loader.load_sweep_config(
            master_config=config, sweep_overrides=list(overrides))
        with read_write(cfg), open_dict(cfg):
            del cfg["hydra"]
        raw = OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException) as exc:
        from rampconf.hydra_errors import composition_error

        raise ConfigError(composition_error(exc)) from None
    assert isinstance(raw, dict)
    return {str(k): v for k, v in raw.items()}


def make_plan(settings: dict[str, Any], hydra_context: HydraContext, config: DictConfig,
              arguments: Sequence[str]) -> SweepPlan:
    """Check everything a sweep needs, creating nothing.

    Raises
    ------
    ConfigError
        Bad settings or sweep expressions (every one reported), nothing to
        sweep, an official score that differs across the space.
    RampconfError
        A point of the space fails as a run would (its ``lines`` end with the point).
    """
    from rampconf.runner import prepare
    from rampconf.schema import validate_config

    errors: list[str] = []
    pruner = space = None
    try:
        pruner = check_settings(settings)
    except ConfigError as exc:
        errors.extend(exc.lines)
    try:
        space = parse_search_space(_expressions(settings["params"], arguments),
                                   hydra_context.config_loader)
    except ConfigError as exc:
        errors.extend(exc.lines)
    if errors:
        raise ConfigError(errors[0], lines=errors)
    assert pruner is not None and space is not None
    if not space.params:
        raise ConfigError("hydra.sweeper: nothing to sweep; give at least one sweep "
                          f"expression on the command line or in hydra.sweeper.params "
                          f"({SYNTAX_HELP})")
    first = None
    for point in check_points(space):
        overrides = space.overrides(point)
        try:
            run_config = validate_config(_compose(hydra_context, config, overrides))
            plan = prepare(run_config)
            plan.reader.check_files()
        except RampconfError as exc:
            exc.lines = [*exc.lines, f"  (while checking the sweep at: "
                         f"{' '.join(p.override(point[p.name]) for p in space.params)})"]
            raise
        direction = "maximize" if plan.official.greater_is_better else "minimize"
        if first is None:
            first = (run_config, plan, direction)
        elif (plan.official.name, direction) != (first[1].official.name, first[2]):
            raise ConfigError(
                f"the official score differs across the search space: "
                f"{first[1].official.name} ({first[2]}) and {plan.official.name} "
                f"({direction}) at {' '.join(overrides)}; sweep one problem at a time")
    assert first is not None
    run_config, plan, direction = first
    sweep_dir = Path(str(config.hydra.sweep.dir)).expanduser().resolve()
    storage = normalize_storage(settings["storage"], sweep_dir)
    name = settings["study_name"] or f"{run_config.problem.name}-{run_config.submission.name}"
    return SweepPlan(space=space, direction=direction, official=plan.official.name,
                     precision=int(getattr(plan.official, "precision", 4) or 4),
                     study_name=str(name), storage=storage, sweep_dir=sweep_dir, pruner=pruner)
