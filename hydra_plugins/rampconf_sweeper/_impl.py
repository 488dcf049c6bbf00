"""The rampconf sweeper: Hydra's sweep syntax, Optuna's ask-and-tell, rampconf's runs as trials.

One sweep, in order:

1. **Search space**: ``hydra.sweeper.params`` (e.g. from ``+search=NAME``)
   then the command line (the later expression of a key wins). A sweep
   expression becomes an Optuna distribution: ``interval(a, b)`` a float in
   ``[a, b]`` (``int(interval(a, b))`` an integer), ``range(a, b[, step])``
   the values Hydra's range gives (an integer or stepped float
   distribution), ``choice(x, y)`` and ``x,y`` a categorical one,
   ``tag(log, ...)`` a log scale. Any other override is passed to every job
   unchanged.
2. **Validation**, before anything is created: the job config of a few
   points of the space (the low ends / first choices, the high ends, every
   other choice) is composed, validated and prepared as a run would, and the
   data files are checked. Any error is printed in one line per problem and
   the process exits with the error's code (2 for configuration), with no
   study, trial or sweep directory created.
3. **Study** in the storage (``sqlite:///<sweep dir>/optuna.db`` by default),
   created or loaded (with retries: several workers may create it at once);
   direction from the official score. A study created with another search
   space or direction is refused.
4. **Batches** of ``n_jobs`` trials: count the study's trials (every worker's)
   and ask at most ``n_trials - count`` (under a file lock for SQLite and
   journal files), sample trial N with a sampler seeded from ``(seed, N)``,
   launch the jobs with ``trial={storage, study_name, number, pruner}`` so
   each run reports its folds to its trial (and is pruned) through the
   storage, then tell each trial COMPLETE, PRUNED or FAIL (with the error).
   ``trials.csv`` and ``best_params.yaml`` are rewritten atomically after
   every batch; the failure budget is checked.
5. A table of the best trials, the best parameters and the command that
   reruns the best one.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import re
import shlex
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException

from rampconf.errors import ConfigError, RampconfError

if TYPE_CHECKING:
    import optuna
    from hydra.core.utils import JobReturn
    from hydra.plugins.launcher import Launcher
    from hydra.types import HydraContext, TaskFunction
    from rich.console import Console

    from rampconf.trial import PrunerConfig

__all__ = [
    "FailureBudget",
    "RampconfSweeperImpl",
    "SearchSpace",
    "SweepParam",
    "format_value",
    "job_outcome",
    "normalize_storage",
    "open_storage",
    "parse_search_space",
    "trial_seed",
]

SAMPLERS = ("tpe", "random")
RATE_MIN_TRIALS = 5  # max_failure_rate applies once this many trials have finished
MAX_CHECKED_POINTS = 24  # points of the space composed and prepared before the sweep
SYNTAX_HELP = ("sweep expressions: interval(a, b), int(interval(a, b)), range(a, b[, step]), "
               "choice(x, y), x,y, tag(log, interval(a, b))")


# --------------------------------------------------------------------------- search space


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


def _is_int(value: Any) -> bool:
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
        if all(_is_int(v) for v in (sweep.start, sweep.stop, sweep.step)):
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
        if _is_int(low) and _is_int(high):
            return IntDistribution(int(low), int(high), log=log), {}
        return FloatDistribution(float(low), float(high), log=log), {}
    raise ValueError(f"{type(sweep).__name__} is not supported")


def _one_line(exc: BaseException) -> str:
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
            errors.append(f"{expression}: bad sweep syntax: {_one_line(exc)} ({SYNTAX_HELP})")
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
            errors.append(f"{expression}: {_one_line(exc)}")
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


# --------------------------------------------------------------------------- storage


def normalize_storage(storage: str | None, sweep_dir: Path) -> str:
    """An absolute storage URL that every job can open, wherever it runs.

    ``None``: ``sqlite:///<sweep dir>/optuna.db``. A path ending in ``.log``,
    ``.journal`` or ``.jsonl``, or ``journal://PATH``: an Optuna journal file
    (``journal:///abs/path``). A path ending in ``.db``, ``.sqlite`` or
    ``.sqlite3``: SQLite. Other URLs (``postgresql://...``) are kept.
    """
    if storage is None or not str(storage).strip():
        return f"sqlite:///{(sweep_dir / 'optuna.db').resolve()}"
    storage = str(storage).strip()
    if storage.startswith("journal://"):
        return f"journal://{Path(storage[len('journal://'):]).expanduser().resolve()}"
    if storage.startswith("sqlite:"):
        rest = storage[len("sqlite:///"):] if storage.startswith("sqlite:///") else ""
        if not rest or rest.startswith(":memory:") or rest.startswith("file::memory:"):
            raise ConfigError(f"hydra.sweeper.storage: an in-memory SQLite database cannot be "
                              f"shared with the jobs, got {storage!r}; give a file "
                              "(sqlite:///path/optuna.db)")
        return f"sqlite:///{Path(rest).expanduser().resolve()}"
    if "://" not in storage:
        path = Path(storage).expanduser().resolve()
        if path.suffix in (".log", ".journal", ".jsonl"):
            return f"journal://{path}"
        if path.suffix in (".db", ".sqlite", ".sqlite3"):
            return f"sqlite:///{path}"
        raise ConfigError(f"hydra.sweeper.storage: not an Optuna storage URL nor a .db / .log "
                          f"file, got {storage!r} (e.g. sqlite:///optuna.db, journal.log, "
                          "postgresql://user:password@host/db)")
    return storage


def _storage_file(url: str) -> Path | None:
    """The local file behind a SQLite or journal storage URL."""
    for prefix in ("sqlite:///", "journal://"):
        if url.startswith(prefix):
            return Path(url[len(prefix):])
    return None


def _open_storage(url: str) -> Any:
    """The Optuna storage of a URL: journal files, SQLite with a long lock timeout, others."""
    import optuna

    path = _storage_file(url)
    if url.startswith("journal://") and path is not None:
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(str(path)))
    if url.startswith("sqlite:///") and path is not None:
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
    return url


def open_storage(url: str) -> Any:
    """``rampconf.trial.open_storage`` when the engine has it (jobs use the same), else ours."""
    import rampconf.trial

    opener = getattr(rampconf.trial, "open_storage", _open_storage)
    return opener(url)


@contextlib.contextmanager
def storage_lock(url: str) -> Iterator[None]:
    """Serialise count-then-ask between workers on one SQLite or journal file."""
    path = _storage_file(url)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        path = None
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # not "<path>.lock": that is the lock file of Optuna's journal backend
    with open(f"{path}.ask-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _create_study(url: str, study_name: str, direction: str, attempts: int = 30) -> Any:
    """Create the study or load it; several workers may race to create it."""
    import optuna
    import sqlalchemy.exc

    path = _storage_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(attempts):
        try:
            return optuna.create_study(storage=open_storage(url), study_name=study_name,
                                       direction=optuna.study.StudyDirection[direction.upper()],
                                       load_if_exists=True)
        except (optuna.exceptions.DuplicatedStudyError, sqlalchemy.exc.IntegrityError,
                sqlalchemy.exc.OperationalError):
            # another worker created the tables or the study between our check and insert
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 + random.random() * 0.25)
    raise AssertionError("unreachable")


def trial_seed(seed: int, number: int) -> int:
    """The sampler seed of trial ``number``: NumPy's ``SeedSequence([seed, number])``.

    Trial numbers are unique in a study, so no two trials share a seed,
    whichever worker asks them; nearby numbers give unrelated seeds.
    """
    import numpy as np

    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def make_sampler(kind: str, seed: int | None) -> Any:
    import optuna

    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


# --------------------------------------------------------------------------- outcomes


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, RampconfError):
        lines = []
        for line in exc.lines:
            if line == "full traceback:":
                break
            lines.append(line.strip())
        return " | ".join(lines)
    if isinstance(exc, RuntimeError) and type(exc) is RuntimeError:
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def job_outcome(ret: JobReturn) -> tuple[str, float | None, str | None]:
    """``(state, value, error)`` of a finished job: COMPLETE, PRUNED or FAIL."""
    import optuna
    from hydra.core.utils import JobStatus

    if ret.status == JobStatus.COMPLETED:
        value = ret.return_value
        if value is None:
            return "FAIL", None, "the run gave no score (returned None)"
        try:
            number = float(value)
        except (TypeError, ValueError):
            return "FAIL", None, f"the run returned {value!r}, not a number"
        if not math.isfinite(number):
            return "FAIL", None, f"the run returned {number} as its score"
        return "COMPLETE", number, None
    exc = ret._return_value
    if isinstance(exc, optuna.TrialPruned):
        return "PRUNED", None, str(exc) or "pruned"
    if isinstance(exc, BaseException):
        return "FAIL", None, _error_text(exc)
    return "FAIL", None, f"the job did not finish (status {ret.status.name})"


@dataclass
class FailureBudget:
    """Stops a sweep when too many of this process's trials failed (pruned ones are fine)."""

    max_failures: int | None
    max_failure_rate: float
    finished: int = 0
    failed: int = 0
    last_error: str = ""

    def record(self, state: str, error: str | None, number: int) -> None:
        self.finished += 1
        if state == "FAIL":
            self.failed += 1
            self.last_error = f"trial {number}: {error}"

    def exceeded(self) -> str | None:
        """Why the sweep must stop, or None."""
        if self.max_failures is not None and self.failed > self.max_failures:
            limit = f"more than hydra.sweeper.max_failures={self.max_failures}"
        elif (self.finished >= RATE_MIN_TRIALS
              and self.failed / self.finished > self.max_failure_rate):
            limit = (f"more than hydra.sweeper.max_failure_rate={self.max_failure_rate:g} "
                     f"of them")
        else:
            return None
        return (f"the sweep stopped: {self.failed} of the {self.finished} trials this process "
                f"ran failed, {limit}; last error, {self.last_error}")


# --------------------------------------------------------------------------- the sweeper


@dataclass
class _Plan:
    """Everything validated before the sweep starts."""

    space: SearchSpace
    direction: str
    official: str
    precision: int
    study_name: str
    storage: str
    sweep_dir: Path
    pruner: PrunerConfig


def _program() -> list[str]:
    """How this process was started: ``python -m rampconf`` or the ``rampconf`` script."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("rampconf")
    if argv0.name == "__main__.py":
        return ["python", "-m", argv0.parent.name]
    return [argv0.name]


def _atomic_write(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class RampconfSweeperImpl:
    """The sweeper's work (``hydra_plugins.rampconf_sweeper.RampconfSweeper`` delegates here)."""

    def __init__(
        self,
        n_trials: Any = 20,
        n_jobs: Any = 1,
        sampler: Any = "tpe",
        seed: Any = 0,
        storage: Any = None,
        study_name: Any = None,
        pruner: Any = None,
        max_failures: Any = None,
        max_failure_rate: Any = 0.5,
        timeout: Any = None,
        n_best: Any = 5,
        params: Any = None,
    ) -> None:
        self.settings: dict[str, Any] = {
            "n_trials": n_trials, "n_jobs": n_jobs, "sampler": sampler, "seed": seed,
            "storage": storage, "study_name": study_name, "max_failures": max_failures,
            "max_failure_rate": max_failure_rate, "timeout": timeout, "n_best": n_best,
            "pruner": OmegaConf.to_container(pruner) if isinstance(pruner, DictConfig)
            else dict(pruner or {}),
            "params": OmegaConf.to_container(params) if isinstance(params, DictConfig)
            else params,
        }
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    # ---------------------------------------------------------------- validation

    def _check_settings(self) -> PrunerConfig:
        from pydantic import ValidationError

        from rampconf.trial import PrunerConfig

        s = self.settings
        errors = []

        def integer(key: str, minimum: int, allow_none: bool = False) -> None:
            value = s[key]
            if value is None and allow_none:
                return
            if not _is_int(value) or value < minimum:
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
        rate = s["max_failure_rate"]
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            errors.append(f"hydra.sweeper.max_failure_rate: a number in [0, 1], got {rate!r}")
        timeout = s["timeout"]
        if timeout is not None and (isinstance(timeout, bool)
                                    or not isinstance(timeout, (int, float)) or timeout <= 0):
            errors.append(f"hydra.sweeper.timeout: a positive number of seconds or null, "
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

    def _expressions(self, arguments: Sequence[str]) -> list[str]:
        expressions = []
        for key, value in (self.settings["params"] or {}).items():
            if isinstance(value, (list, dict)):
                raise ConfigError(f"hydra.sweeper.params.{key}: a sweep expression such as "
                                  f"choice(a, b) or interval(0, 1), got {value!r}")
            text = format_value(value) if not isinstance(value, str) else value
            expressions.append(f"{key}={text}")
        return [*expressions, *arguments]

    def _compose(self, overrides: list[str]) -> dict[str, Any]:
        """The resolved job config of ``overrides``, as the job will get it."""
        assert self.hydra_context is not None and self.config is not None
        try:
            cfg = self.hydra_context.config_loader.load_sweep_config(
                master_config=self.config, sweep_overrides=list(overrides))
            with read_write(cfg), open_dict(cfg):
                del cfg["hydra"]
            raw = OmegaConf.to_container(cfg, resolve=True)
        except (HydraException, OmegaConfBaseException) as exc:
            raise ConfigError(f"config: {_one_line(exc)}") from None
        assert isinstance(raw, dict)
        return {str(k): v for k, v in raw.items()}

    def _validate(self, arguments: Sequence[str]) -> _Plan:
        from rampconf.runner import prepare
        from rampconf.schema import validate_config

        assert self.hydra_context is not None and self.config is not None
        errors: list[str] = []
        pruner = space = None
        try:
            pruner = self._check_settings()
        except ConfigError as exc:
            errors.extend(exc.lines)
        try:
            space = parse_search_space(self._expressions(arguments),
                                       self.hydra_context.config_loader)
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
                config = validate_config(self._compose(overrides))
                plan = prepare(config)
                plan.reader.check_files()
            except RampconfError as exc:
                exc.lines = [*exc.lines, f"  (while checking the sweep at: "
                             f"{' '.join(p.override(point[p.name]) for p in space.params)})"]
                raise
            direction = "maximize" if plan.official.greater_is_better else "minimize"
            if first is None:
                first = (config, plan, direction)
            elif (plan.official.name, direction) != (first[1].official.name, first[2]):
                raise ConfigError(
                    f"the official score differs across the search space: "
                    f"{first[1].official.name} ({first[2]}) and {plan.official.name} "
                    f"({direction}) at {' '.join(overrides)}; sweep one problem at a time")
        assert first is not None
        config, plan, direction = first
        sweep_dir = Path(str(self.config.hydra.sweep.dir)).expanduser().resolve()
        storage = normalize_storage(self.settings["storage"], sweep_dir)
        name = self.settings["study_name"] or f"{config.problem.name}-{config.submission.name}"
        return _Plan(space=space, direction=direction, official=plan.official.name,
                     precision=int(getattr(plan.official, "precision", 4) or 4),
                     study_name=str(name), storage=storage, sweep_dir=sweep_dir, pruner=pruner)

    # ---------------------------------------------------------------- the sweep

    def sweep(self, arguments: list[str]) -> Any:
        debug = (os.environ.get("RAMPCONF_DEBUG", "") not in ("", "0")
                 or "debug=true" in arguments)
        try:
            plan = self._validate(arguments)
            plan.sweep_dir.mkdir(parents=True, exist_ok=True)
            study = self._open_study(plan)
        except RampconfError as exc:
            from rampconf.cli import print_error

            print_error(exc, debug)
            sys.exit(exc.exit_code)
        return self._run(plan, study)

    def _open_study(self, plan: _Plan) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            study = _create_study(plan.storage, plan.study_name, plan.direction)
        except Exception as exc:
            raise ConfigError(f"hydra.sweeper.storage: cannot open the study "
                              f"{plan.study_name!r} in {plan.storage}: {_one_line(exc)}") from None
        wanted = optuna.study.StudyDirection.MAXIMIZE if plan.direction == "maximize" \
            else optuna.study.StudyDirection.MINIMIZE
        if study.direction != wanted:
            raise ConfigError(
                f"hydra.sweeper.study_name: the study {plan.study_name!r} in {plan.storage} "
                f"is to {study.direction.name.lower()}, but {plan.official} is to "
                f"{plan.direction}; choose another study name")
        space = plan.space.describe()
        stored = study.user_attrs.get("search_space")
        if stored is not None and stored != space:
            raise ConfigError(
                f"hydra.sweeper.study_name: the study {plan.study_name!r} in {plan.storage} "
                f"was created with another search space ({_describe_space(stored)}); this "
                f"sweep has {_describe_space(space)}; choose another hydra.sweeper.study_name "
                "(or storage) for a new study")
        if stored is None:
            study.set_user_attr("search_space", space)
            study.set_user_attr("official_score", plan.official)
            study.set_user_attr("fixed_overrides", plan.space.fixed)
        return study

    def _launch(self, batch: list[tuple[Any, list[str]]]) -> list[JobReturn]:
        """Launch a batch; job number = trial number (consecutive runs launched together)."""
        assert self.launcher is not None
        groups: list[list[tuple[Any, list[str]]]] = []
        for item in batch:
            if groups and item[0].number == groups[-1][-1][0].number + 1:
                groups[-1].append(item)
            else:
                groups.append([item])
        returns: list[JobReturn] = []
        for group in groups:
            returns.extend(self.launcher.launch([overrides for _, overrides in group],
                                                initial_job_idx=group[0][0].number))
        return returns

    def _fail_stale(self, study: Any) -> None:
        """Trials left RUNNING by a sweeper process of this machine that is gone: FAIL."""
        from optuna.trial import TrialState

        host = socket.gethostname()
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            worker = str(trial.user_attrs.get("worker", ""))
            owner, _, pid = worker.rpartition(":")
            if owner != host or not pid.isdigit() or _alive(int(pid)):
                continue
            storage = study._storage
            storage.set_trial_user_attr(trial._trial_id, "error",
                                        f"interrupted: its sweeper process ({worker}) ended")
            storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)

    @staticmethod
    def _count(study: Any) -> int:
        """Trials that count towards n_trials: all but the interrupted ones."""
        return sum(1 for t in study.get_trials(deepcopy=False)
                   if not t.user_attrs.get("interrupted"))

    def _ask(self, study: Any, plan: _Plan, size: int) -> list[tuple[Any, list[str]]]:
        from rampconf.trial import trial_override

        seed = self.settings["seed"]
        batch = []
        for _ in range(size):
            trial = study.ask()
            # trial numbers are unique in the study, so no two trials of any worker share a seed
            study.sampler = make_sampler(self.settings["sampler"],
                                         None if seed is None else trial_seed(seed, trial.number))
            values = {p.name: sample(trial, p) for p in plan.space.params}
            trial.set_user_attr("worker", self.worker)
            overrides = [*plan.space.overrides(values),
                         trial_override(plan.storage, plan.study_name, trial.number,
                                        plan.pruner)]
            batch.append((trial, overrides))
        return batch

    def _run(self, plan: _Plan, study: Any) -> Any:
        from optuna.trial import TrialState

        from rampconf.report import make_console

        assert self.config is not None
        console = make_console()
        OmegaConf.save(self.config, plan.sweep_dir / "multirun.yaml")
        n_trials = self.settings["n_trials"]
        budget = FailureBudget(self.settings["max_failures"], self.settings["max_failure_rate"])
        with storage_lock(plan.storage):
            self._fail_stale(study)
        console.print(
            f"sweep: study [bold]{plan.study_name}[/bold] in {plan.storage}: "
            f"{'maximise' if plan.direction == 'maximize' else 'minimise'} the mean valid "
            f"{plan.official}; {self._count(study)} of {n_trials} trials already there",
            highlight=False)
        all_returns: list[Sequence[JobReturn]] = []
        stop_message = None
        timeout, start = self.settings["timeout"], time.monotonic()
        while stop_message is None:
            if timeout is not None and time.monotonic() - start >= timeout:
                console.print(f"hydra.sweeper.timeout={timeout:g} s reached: no new trial",
                              highlight=False)
                break
            with storage_lock(plan.storage):
                self._fail_stale(study)
                size = min(self.settings["n_jobs"], n_trials - self._count(study))
                if size <= 0:
                    if not all_returns:
                        console.print(f"the study has its {n_trials} trials: nothing to run "
                                      "(raise hydra.sweeper.n_trials to run more)",
                                      highlight=False)
                    break
                batch = self._ask(study, plan, size)
            try:
                returns = self._launch(batch)
            except BaseException as exc:
                for trial, _ in batch:
                    with contextlib.suppress(Exception):
                        trial.set_user_attr("error", f"interrupted: {type(exc).__name__}")
                        trial.set_user_attr("interrupted", True)
                        study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
                self._write_outputs(study, plan)
                if isinstance(exc, KeyboardInterrupt):
                    print(f"interrupted: trial(s) {', '.join(str(t.number) for t, _ in batch)} "
                          "recorded as FAIL (interrupted, not counted in n_trials); run the "
                          "same command to resume", file=sys.stderr)
                    sys.exit(130)
                raise
            all_returns.append(returns)
            for (trial, _), ret in zip(batch, returns, strict=True):
                state, value, error = job_outcome(ret)
                if error is not None:
                    trial.set_user_attr("error", error)
                if ret.hydra_cfg is not None:
                    with contextlib.suppress(Exception):
                        trial.set_user_attr("job_dir",
                                            str(ret.hydra_cfg.hydra.runtime.output_dir))
                study.tell(trial, values=value, state=TrialState[state], skip_if_finished=True)
                budget.record(state, error, trial.number)
                self._print_trial(console, plan, trial, state, value, error)
            self._write_outputs(study, plan)
            stop_message = budget.exceeded()
        self._write_outputs(study, plan)
        self._print_summary(console, study, plan)
        if stop_message is not None:
            print(f"error: {stop_message}", file=sys.stderr)
            sys.exit(1)
        if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            print(f"error: no trial of the study {plan.study_name!r} completed "
                  f"(errors in {plan.sweep_dir / 'trials.csv'})", file=sys.stderr)
            sys.exit(1)
        return all_returns

    # ---------------------------------------------------------------- outputs

    def _print_trial(self, console: Console, plan: _Plan, trial: Any, state: str,
                     value: float | None, error: str | None) -> None:
        params = "  ".join(f"{_label(plan.space, name)}={_show(v)}"
                           for name, v in trial.params.items())
        digits = max(4, plan.precision + 2)
        if state == "COMPLETE":
            outcome = f"valid {plan.official} {value:.{digits}f}"
        else:
            outcome = error or ""
        style = {"COMPLETE": "green", "PRUNED": "yellow"}.get(state, "red")
        console.print(f"trial {trial.number} [{style}]{state}[/{style}]  {params}  {outcome}",
                      highlight=False, soft_wrap=True)

    def _write_outputs(self, study: Any, plan: _Plan) -> None:
        import yaml

        frame = trials_frame(study, plan.space)
        _atomic_write(plan.sweep_dir / "trials.csv", lambda p: frame.to_csv(p, index=False))
        best = best_trial(study)
        if best is None:
            return
        overrides = plan.space.overrides(best.params)
        document = {
            "study_name": plan.study_name,
            "storage": plan.storage,
            "official_score": plan.official,
            "direction": plan.direction,
            "best_trial": best.number,
            "value": best.value,
            "mean_test_score": best.user_attrs.get("mean_test_score"),
            "params": dict(best.params),
            "overrides": overrides,
            "command": shlex.join([*_program(), *overrides]),
        }
        _atomic_write(plan.sweep_dir / "best_params.yaml",
                      lambda p: p.write_text(yaml.safe_dump(document, sort_keys=False)))

    def _print_summary(self, console: Console, study: Any, plan: _Plan) -> None:
        from optuna.trial import TrialState
        from rich.table import Table

        trials = study.get_trials(deepcopy=False)
        counts = {state: sum(1 for t in trials if t.state == state) for state in TrialState}
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        complete.sort(key=lambda t: t.value, reverse=plan.direction == "maximize")
        digits = max(4, plan.precision + 2)
        word = "maximised" if plan.direction == "maximize" else "minimised"
        console.print(f"study {plan.study_name}: {len(trials)} trials, "
                      f"{counts[TrialState.COMPLETE]} complete, {counts[TrialState.PRUNED]} "
                      f"pruned, {counts[TrialState.FAIL]} failed, "
                      f"{counts[TrialState.RUNNING]} running", highlight=False)
        table = Table(title=f"best trials (mean valid {plan.official}, {word})",
                      title_justify="left")
        table.add_column("trial", justify="right", style="bold")
        table.add_column(f"valid {plan.official}", justify="right")
        table.add_column(f"test {plan.official}", justify="right")
        table.add_column("folds", justify="right")
        for param in plan.space.params:
            table.add_column(_label(plan.space, param.name), justify="right")
        table.add_column("time (s)", justify="right")
        for trial in complete[:self.settings["n_best"]]:
            test = trial.user_attrs.get("mean_test_score")
            table.add_row(
                str(trial.number), f"{trial.value:.{digits}f}",
                "—" if test is None else f"{test:.{digits}f}",
                str(len(trial.user_attrs.get("fold_valid_scores", {}))),
                *[_show(trial.params.get(p.name, "—")) for p in plan.space.params],
                "—" if trial.duration is None else f"{trial.duration.total_seconds():.1f}")
        if complete and self.settings["n_best"]:
            console.print(table)
        best = complete[0] if complete else None
        if best is not None:
            console.print(f"best: trial {best.number}, mean valid {plan.official} "
                          f"{best.value:.{digits}f} (test scores are recorded, never used "
                          "to choose)", highlight=False)
            console.print("best parameters: " + "  ".join(
                f"{p.name}={p.text(best.params[p.name])}" for p in plan.space.params
                if p.name in best.params), highlight=False, soft_wrap=True)
            command = shlex.join([*_program(), *plan.space.overrides(best.params)])
            console.print(f"rerun the best: {command}", highlight=False, soft_wrap=True,
                          markup=False)
        best_file = f"  best: {plan.sweep_dir / 'best_params.yaml'}" if best is not None else ""
        console.print(f"trials: {plan.sweep_dir / 'trials.csv'}{best_file}  study: "
                      f"{plan.storage} ({plan.study_name})", highlight=False, soft_wrap=True,
                      markup=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe_space(space: dict[str, str]) -> str:
    import json

    parts = []
    for name, text in space.items():
        spec = json.loads(text)
        attrs = spec.get("attributes", {})
        if "choices" in attrs:
            parts.append(f"{name}: choice of {len(attrs['choices'])}")
        else:
            parts.append(f"{name}: {attrs.get('low')}..{attrs.get('high')}"
                         f"{' log' if attrs.get('log') else ''}")
    return ", ".join(parts) or "no parameter"


def _label(space: SearchSpace, name: str) -> str:
    """A short column label: the last part of the key when that is unambiguous."""
    last = name.rsplit(".", 1)[-1]
    lasts = [p.name.rsplit(".", 1)[-1] for p in space.params]
    return last if lasts.count(last) == 1 else name


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def best_trial(study: Any) -> Any:
    """The best complete trial, or None."""
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return None
    maximize = study.direction.name == "MAXIMIZE"
    return (max if maximize else min)(complete, key=lambda t: t.value)


def trials_frame(study: Any, space: SearchSpace) -> Any:
    """One row per trial: number, state, parameters, value, folds, duration, error."""
    import pandas as pd

    trials = study.get_trials(deepcopy=False)
    names = [p.name for p in space.params]
    for trial in trials:
        names.extend(n for n in trial.params if n not in names)
    n_folds = max((len(t.user_attrs.get("fold_valid_scores", {})) for t in trials), default=0)
    rows = []
    for trial in trials:
        folds = trial.user_attrs.get("fold_valid_scores", {})
        row: dict[str, Any] = {"number": trial.number, "state": trial.state.name}
        row.update({name: trial.params.get(name) for name in names})
        row["value"] = trial.value
        row["mean_test_score"] = trial.user_attrs.get("mean_test_score")
        row["n_folds"] = len(folds)
        row.update({f"valid_fold_{k}": folds.get(str(k)) for k in range(n_folds)})
        row["duration_s"] = None if trial.duration is None else \
            round(trial.duration.total_seconds(), 3)
        row["error"] = trial.user_attrs.get("error")
        row["job_dir"] = trial.user_attrs.get("job_dir")
        row["worker"] = trial.user_attrs.get("worker")
        rows.append(row)
    columns = ["number", "state", *names, "value", "mean_test_score", "n_folds",
               *[f"valid_fold_{k}" for k in range(n_folds)], "duration_s", "error", "job_dir",
               "worker"]
    return pd.DataFrame(rows, columns=columns)
