"""Search space: Hydra sweep expressions become Optuna distributions, sampled values overrides.

``interval(a, b)`` is a float in ``[a, b]`` (``int(interval(a, b))`` an
integer), ``range(a, b[, step])`` the values Hydra's range gives (an integer or
stepped float distribution), ``choice(x, y)`` and ``x,y`` a categorical one,
``tag(log, ...)`` a log scale. Any other override is passed to every job
unchanged. A sampled value is written back as override text that Hydra parses
to the same value and type.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hydra.core.override_parser.types import (
    ChoiceSweep,
    Glob,
    IntervalSweep,
    Override,
    RangeSweep,
    Transformer,
)
from hydra.errors import HydraException

from rampconf.errors import ConfigError

if TYPE_CHECKING:
    import optuna

__all__ = [
    "SYNTAX_HELP",
    "SearchSpace",
    "SweepParam",
    "check_points",
    "format_value",
    "is_int",
    "one_line",
    "parse_search_space",
    "sample",
]

MAX_CHECKED_POINTS = 24  # points of the space composed and prepared before the sweep
SYNTAX_HELP = ("sweep expressions: interval(a, b), int(interval(a, b)), range(a, b[, step]), "
               "choice(x, y), x,y, tag(log, interval(a, b))")


@dataclass
class SweepParam:
    """One swept key: its Optuna distribution and how a sampled value is written back."""

    name: str  # the Optuna parameter name: the override key without +, ++ or ~
    key: str  # written before "=" in each job's override (with its +, @package)
    distribution: Any  # an optuna.distributions.BaseDistribution
    texts: dict[tuple[str, str], str] = field(default_factory=dict)  # categorical: override text

    def text(self, value: Any) -> str:
        """How ``value`` is written in a Hydra override (keeps its type: ``'1'`` stays a string)."""
        if self.texts:
            return self.texts[_choice_key(value)]
        return format_value(value)

    def override(self, value: Any) -> str:
        return f"{self.key}={self.text(value)}"

    def ends(self) -> tuple[Any, Any]:
        """The low end (or first choice) and the high end (or last choice)."""
        dist = self.distribution
        if hasattr(dist, "choices"):
            return dist.choices[0], dist.choices[-1]
        return dist.low, dist.high


@dataclass
class SearchSpace:
    """The swept parameters and the overrides every job gets unchanged."""

    params: list[SweepParam]
    fixed: list[str]

    def distributions(self) -> dict[str, Any]:
        return {p.name: p.distribution for p in self.params}

    def overrides(self, values: dict[str, Any]) -> list[str]:
        """A job's overrides for a point of the space."""
        return [*self.fixed, *(p.override(values[p.name]) for p in self.params)]

    def describe(self) -> dict[str, str]:
        """The space as JSON strings of its distributions (stored with the study)."""
        from optuna.distributions import distribution_to_json

        return {p.name: distribution_to_json(p.distribution) for p in self.params}


def _choice_key(value: Any) -> tuple[str, str]:
    # True == 1 in a dict: key on the type too
    return type(value).__name__, repr(value)


def _override_parser(config_loader: Any = None) -> Any:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create(config_loader=config_loader)


def _parses_to(text: str, value: str) -> bool:
    try:
        override = _override_parser().parse_override(f"k={text}")
    except HydraException:
        return False
    parsed = override.value()
    return not override.is_sweep_override() and isinstance(parsed, str) and parsed == value


def _quoted(text: str, minimal: bool) -> str:
    if minimal:  # Hydra: a backslash needs escaping only before a quote or at the end
        body = re.sub(r"(\\*)'", lambda m: m.group(1) * 2 + "\\'", text)
        body = re.sub(r"(\\+)$", lambda m: m.group(1) * 2, body)
    else:
        body = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{body}'"


def format_value(value: Any) -> str:
    """``value`` written as a Hydra override value that parses back to the same value and type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    for candidate in (Transformer.str(text), _quoted(text, True), _quoted(text, False)):
        if _parses_to(candidate, text):
            return candidate
    raise ValueError(f"cannot write {text!r} as a Hydra override value")


def is_int(value: Any) -> bool:
    """An integer that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _distribution(override: Override) -> tuple[Any, dict[tuple[str, str], str]]:
    """The Optuna distribution of a sweep override (and the override text of each choice)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    sweep = override.value()
    tags = set(getattr(sweep, "tags", None) or ())
    if tags - {"log"}:
        raise ValueError(f"unknown tag {', '.join(sorted(tags - {'log'}))}: only 'log' is "
                         "understood, as in tag(log, interval(0.001, 100))")
    log = "log" in tags
    if isinstance(sweep, (ChoiceSweep, Glob)):
        if log:
            raise ValueError("tag(log, ...) applies to interval(...) or an integer range(...), "
                             "not to a choice")
        texts: dict[tuple[str, str], str] = {}
        choices: list[Any] = []
        if isinstance(sweep, Glob):
            elements: list[Any] = list(override.sweep_string_iterator())
        else:
            elements = list(sweep.list)
        for element in elements:
            value: Any
            if isinstance(sweep, Glob) or isinstance(element, (list, dict)):
                value = text = element if isinstance(element, str) else Transformer.str(element)
            elif isinstance(element, (str, int, float, bool)) or element is None:
                value, text = element, format_value(element)
            else:
                raise ValueError(f"a choice cannot hold {element!r}")
            if _choice_key(value) in texts:
                raise ValueError(f"the choice {text} is given twice")
            texts[_choice_key(value)] = text
            choices.append(value)
        if not choices:
            raise ValueError("nothing to choose from")
        return CategoricalDistribution(choices), texts
    if isinstance(sweep, RangeSweep):
        assert sweep.start is not None and sweep.stop is not None
        values: list[Any] = list(override.sweep_iterator())
        if not values:
            raise ValueError(f"the range is empty (from {sweep.start} to {sweep.stop}, "
                             f"step {sweep.step}; the end is excluded as in Python)")
        low, high, step = min(values), max(values), abs(sweep.step)
        if all(is_int(v) for v in (sweep.start, sweep.stop, sweep.step)):
            if log and step != 1:
                raise ValueError("tag(log, range(...)) needs step 1")
            if log and low < 1:
                raise ValueError(f"tag(log, ...) needs a positive lower bound, got {low}")
            return IntDistribution(int(low), int(high), log=log, step=int(step)), {}
        if log:
            raise ValueError("tag(log, ...) applies to interval(...) or an integer range(...); "
                             "a stepped float range has no log scale")
        high = round(float(low) + float(step) * (len(values) - 1), 12)
        return FloatDistribution(float(low), high, step=float(step)), {}
    if isinstance(sweep, IntervalSweep):
        assert sweep.start is not None and sweep.end is not None
        low, high = sweep.start, sweep.end
        if low > high:
            raise ValueError(f"interval({low}, {high}): the low end is above the high end")
        if log and low <= 0:
            raise ValueError(f"tag(log, ...) needs a positive lower bound, got {low}")
        if is_int(low) and is_int(high):
            return IntDistribution(int(low), int(high), log=log), {}
        return FloatDistribution(float(low), float(high), log=log), {}
    raise ValueError(f"{type(sweep).__name__} is not supported")


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, without Hydra's "See https://..." footer."""
    lines = [line.strip() for line in str(exc).splitlines()]
    lines = [line for line in lines if line and not line.startswith("See https://")
             and not line.startswith("Error parsing override")]
    return " ".join(lines) or type(exc).__name__


def parse_search_space(expressions: Sequence[str], config_loader: Any = None) -> SearchSpace:
    """The search space of sweep expressions ``key=EXPR`` (later keys win over earlier ones).

    Raises
    ------
    ConfigError
        One line per expression that does not parse or is not a valid distribution.
    """
    parser = _override_parser(config_loader)
    errors: list[str] = []
    swept: dict[str, SweepParam] = {}
    fixed: dict[str, str] = {}
    for expression in expressions:
        try:
            (override,) = parser.parse_overrides([expression])
        except HydraException as exc:
            errors.append(f"{expression}: bad sweep syntax: {one_line(exc)} ({SYNTAX_HELP})")
            continue
        key = override.get_key_element()
        name = key.lstrip("+~")
        if not override.is_sweep_override():
            swept.pop(name, None)
            if override.is_delete() and override.value() is None:
                fixed[name] = key
            else:
                fixed[name] = f"{key}={override.get_value_element_as_str()}"
            continue
        fixed.pop(name, None)
        if override.is_delete():
            errors.append(f"{expression}: a deletion (~) cannot be swept")
            continue
        try:
            distribution, texts = _distribution(override)
        except (ValueError, HydraException) as exc:
            errors.append(f"{expression}: {one_line(exc)}")
            continue
        swept[name] = SweepParam(name=name, key=key, distribution=distribution, texts=texts)
    if errors:
        raise ConfigError(errors[0], lines=errors)
    return SearchSpace(params=list(swept.values()), fixed=list(fixed.values()))


def sample(trial: optuna.trial.Trial, param: SweepParam) -> Any:
    """Ask the trial for ``param`` with Optuna's public suggest API."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    dist = param.distribution
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(param.name, dist.choices)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(param.name, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_float(param.name, dist.low, dist.high, step=dist.step, log=dist.log)


def check_points(space: SearchSpace) -> list[dict[str, Any]]:
    """Points composed and prepared before the sweep: low ends, high ends, every other choice."""
    low = {p.name: p.ends()[0] for p in space.params}
    high = {p.name: p.ends()[1] for p in space.params}
    points = [low]
    if high != low:
        points.append(high)
    for param in space.params:
        for choice in getattr(param.distribution, "choices", ())[1:-1]:
            points.append({**low, param.name: choice})
    return points[:MAX_CHECKED_POINTS]
