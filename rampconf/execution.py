"""How a run executes submission code: its executor and limits, and what it trusts.

Used by :func:`rampconf.runner.prepare`: the executor of a run (isolated by
default, see :mod:`rampconf.workers`), the limits of each fold, the modules
the fork server imports ahead of the folds, the parameters routed from the
isolated check's answer, and the data paths a problem may name.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampconf.errors import ConfigError, DataError, RegistryError, SubmissionError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

    from rampconf.predictions import BasePrediction
    from rampconf.readers import BaseReader
    from rampconf.runner import FoldResult, Plan
    from rampconf.schema import RunConfig
    from rampconf.submission import Submission
    from rampconf.workers import Executor, Limits, TaskOutcome
    from rampconf.workflows import BaseWorkflow

__all__ = [
    "cached_check",
    "check_data_paths",
    "check_key",
    "default_executor",
    "emit_warnings",
    "fold_result",
    "make_executor",
    "preload_modules",
    "remember_check",
    "routed_parameters",
    "start_check",
    "warm_up",
]

#: Packages the fork server may import ahead of the folds when a submission imports them:
#: well-known, fork-safe libraries (others are imported by the fold process itself).
PRELOADABLE = ("numpy", "pandas", "scipy", "sklearn")
#: What a fork server imports as soon as it starts, before any run asks (the modules of
#: most tabular submissions): on an idle core, while the runner gets ready.
WARM_MODULES = ("pandas", "sklearn", "sklearn.compose", "sklearn.ensemble", "sklearn.impute",
                "sklearn.linear_model", "sklearn.pipeline", "sklearn.preprocessing")
MAX_SOURCE_BYTES = 1 << 20


def make_executor(config: RunConfig, reader: BaseReader,
                  submission: Submission) -> tuple[Executor, Limits]:
    """The executor of a run (shared with earlier runs of this process) and its fold limits.

    Raises
    ------
    ConfigError
        When ``sandbox=bwrap`` is asked and bubblewrap cannot run here, or
        isolated folds are asked off Linux.
    """
    import sys

    from rampconf.workers import Limits, get_executor

    if sys.platform != "linux" and not config.unsafe_in_process:
        raise ConfigError(f"isolated folds need Linux (its /proc and process controls), this is "
                          f"{sys.platform}; unsafe_in_process=true runs the submission in this "
                          "process, without isolation (only for submissions you trust)")
    limits = Limits(timeout=config.fold_timeout, memory=config.fold_memory_bytes)
    sandbox = None
    if config.sandbox == "bwrap":
        from rampconf.sandbox import Sandbox

        sandbox = Sandbox.for_run(submission, reader, limits.memory)
    if config.backend == "dask":
        from rampconf.dask_backend import get_dask_executor

        assert config.dask_address is not None  # checked by the schema
        return get_dask_executor(config.dask_address, sandbox), limits
    return get_executor(sandbox, in_process=config.unsafe_in_process), limits


def default_executor(arguments: Sequence[str]) -> bool:
    """Whether command-line overrides leave the default executor (the fork server, no sandbox)."""
    return not any(arg.lstrip("+~").startswith(("sandbox=", "backend=", "unsafe_in_process="))
                   for arg in arguments)


def warm_up(arguments: Sequence[str]) -> None:
    """Start this process's fork server now, unless the arguments choose another executor.

    Its imports (NumPy, pandas, scikit-learn) then overlap Hydra's composition;
    it holds no data, so starting it before the config is known is safe (an
    unused one ends with the process).
    """
    import sys

    if sys.platform != "linux" or not default_executor(arguments):
        return
    from rampconf.workers import get_executor

    get_executor().preload(WARM_MODULES)


def _imports(path: Path) -> set[str]:
    """Absolute module names imported at any level of a Python file (not run: parsed)."""
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return set()
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def preload_modules(workflow: BaseWorkflow, prediction: BasePrediction,
                    submission: Submission) -> list[str]:
    """Modules the fork server imports once for all folds: the plugins', the submission's.

    The submission's files are parsed, never run, here; only modules of the
    :data:`PRELOADABLE` packages are taken (a name that is not a module is
    skipped by the server).
    """
    modules = {"pandas", "sklearn", "threadpoolctl", type(workflow).__module__,
               type(prediction).__module__}
    for path in sorted(submission.path.glob("*.py")):
        modules.update(name for name in _imports(path)
                       if name.split(".")[0] in PRELOADABLE)
    return sorted(modules)


_checks: dict[tuple[Any, ...], TaskOutcome] = {}


def check_key(workflow: BaseWorkflow, submission: Submission) -> tuple[Any, ...] | None:
    """What the isolated check of a submission depends on; None when it cannot be read.

    The check imports the submission's files and routes the parameter *names*
    (the values always come from the run's config), so two runs of one process
    (the trials of a sweep) with the same workflow, the same files (the
    ``.py`` files by content, the others by size and times) and parameters of
    the same names get the same answer: :func:`cached_check` gives it back
    instead of forking and importing again.
    """
    import hashlib

    def shape(params: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(sorted((str(k), shape(v) if isinstance(v, dict) else None)
                            for k, v in params.items()))

    try:
        files = []
        for path in sorted(p for p in submission.path.rglob("*") if p.is_file()):
            stat = path.stat()
            content = hashlib.sha256(path.read_bytes()).hexdigest() \
                if path.suffix == ".py" else (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
            files.append((str(path), content))
    except OSError:
        return None
    return (type(workflow).__module__, type(workflow).__qualname__,
            repr(getattr(workflow, "params", None)), str(submission.path), tuple(files),
            shape(submission.params), tuple(sorted(map(str, submission.extra_files.items()))))


def cached_check(key: tuple[Any, ...] | None) -> TaskOutcome | None:
    """The successful check answer recorded for ``key`` in this process, if any."""
    return None if key is None else _checks.get(key)


def remember_check(key: tuple[Any, ...] | None, outcome: TaskOutcome) -> None:
    """Record a successful check answer for later runs of this process."""
    if key is not None and outcome.status == "ok":
        _checks[key] = outcome


def routed_parameters(submission: Submission, outcome: TaskOutcome) -> dict[str, dict[str, Any]]:
    """Element -> keyword arguments, from the isolated check's answer (names only).

    The values come from the run's own configuration, never from the process
    that imported the submission.

    Raises
    ------
    ConfigError, SubmissionError
        The error the check reported (a crash or a time-out is a submission error).
    """
    emit_warnings(outcome.answer.get("warnings", []))
    if outcome.status == "ok":
        params = submission.params
        routed: dict[str, dict[str, Any]] = {}
        for element, names in dict(outcome.answer.get("routed", {})).items():
            routed[str(element)] = {}
            for name in names:
                nested = params.get(element)
                if isinstance(nested, dict) and name in nested:
                    routed[element][name] = nested[name]
                elif name in params:
                    routed[element][name] = params[name]
        return routed
    kinds = {"ConfigError": ConfigError, "RegistryError": RegistryError, "DataError": DataError}
    error_class = kinds.get(str(outcome.answer.get("kind")), SubmissionError)
    lines = outcome.error or [f"the check of submission {submission.name} {outcome.status}"]
    if outcome.status in ("timeout", "out_of_memory"):
        lines = [f"{submission.path}: importing the submission: {lines[0]}", *lines[1:]]
    raise error_class(lines[0], lines=lines)


def check_data_paths(reader: BaseReader, data_root: Path, allowed: bool) -> None:
    """Refuse data files and folders that leave ``data_root`` (``..``, absolute, symlinks out).

    Raises
    ------
    ConfigError
        One line per path outside, unless ``allowed`` (``allow_outside_data_root=true``).
    """
    if allowed:
        return
    root = data_root.resolve()
    paths = {**reader.files(), **reader.extra_files(), **reader.folders()}
    errors = []
    for role, path in paths.items():
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(root):
            errors.append(
                f"problem.data: the {role} path {path} leaves data_root {root} (it resolves "
                f"to {resolved}); data paths are relative to data_root and stay inside it; "
                "set allow_outside_data_root=true to accept it")
    if errors:
        raise ConfigError(errors[0], lines=errors)


_registry: dict[Any, Any] = {}  # what was shown already, as a module's __warningregistry__


def emit_warnings(records: Any) -> None:
    """Show the warnings a fold process recorded (category, message, file, line), each once."""
    for record in records if isinstance(records, list) else []:
        try:
            name, message, filename, lineno = (str(record[0]), str(record[1]),
                                               str(record[2]), int(record[3]))
        except (TypeError, ValueError, IndexError):
            continue
        warnings.warn_explicit(message, warning_category(name), filename, lineno,
                               registry=_registry)


def warning_category(name: str) -> type[Warning]:
    """The warning class a fold process named (``module.QualName``), as the runner can have it.

    A built-in class, or one of a module the runner imported already (scikit-learn's
    ``ConvergenceWarning``): that class itself, never an import. Otherwise a
    ``UserWarning`` subclass of that name from :mod:`rampconf.fold_warnings`.
    """
    import builtins
    import sys

    from rampconf import fold_warnings

    module_name, _, short = name.rpartition(".")
    found = getattr(sys.modules.get(module_name) or builtins, short, None)
    if isinstance(found, type) and issubclass(found, Warning):
        return found
    if not short.isidentifier() or short.startswith("__"):
        return UserWarning
    category: type[Warning] = getattr(fold_warnings, short)
    return category


def _predicting_file(plan: Plan) -> Path:
    return plan.submission.file(list(plan.workflow.elements)[-1])


def _checked(plan: Plan, y_pred: Any, y_true: np.ndarray, what: str) -> np.ndarray:
    try:
        return plan.prediction.check_y_pred(y_pred, y_true)
    except ValueError as exc:
        raise _PredictionError(f"{_predicting_file(plan)}: {what}: {exc}") from None


class _PredictionError(Exception):
    """A prediction of the wrong shape or with NaN (reported without our traceback)."""


def fold_result(plan: Plan, result: FoldResult, outcome: TaskOutcome, y_train: np.ndarray,
                y_test: np.ndarray) -> FoldResult:
    """Fill ``result`` from a fold task's outcome; predictions checked by the prediction type.

    The submission's warnings are shown here, once per place in its code (as
    they would be in one process), not once per fold process.
    """
    emit_warnings(outcome.answer.get("warnings", []))
    result.times = {k: float(v) for k, v in outcome.answer.get("times", {}).items()}
    if outcome.status != "ok":
        result.status = outcome.status if outcome.status in ("timeout", "out_of_memory") \
            else "failed"
        result.error = outcome.error or [f"fold {result.fold}: {outcome.status}"]
        return result
    predictions = outcome.answer["predictions"]
    try:
        result.y_pred_train = _checked(plan, predictions["train"], y_train,
                                       f"fold {result.fold}, predictions on the training data")
        result.y_pred_test = _checked(plan, predictions["test"], y_test,
                                      f"fold {result.fold}, predictions on the test data")
    except _PredictionError as exc:
        result.status = "failed"
        result.error = [str(exc)]
    return result


def start_check(config: RunConfig, data_root: Path, reader: BaseReader,
                prediction: BasePrediction, workflow: BaseWorkflow) -> tuple[Any, ...]:
    """Find the submission, make the executor, preload its modules and submit its check.

    Returns ``(submission, executor, limits, check key, check job)``; see
    :func:`rampconf.runner.prepare`.
    """
    from rampconf.isolation import CheckTask
    from rampconf.submission import Submission, find_submission
    from rampconf.workers import Job

    problem = config.problem
    folder = find_submission(problem.submissions_folder, config.submission.name,
                             config.submission.path, workflow.elements)
    submission = Submission(name=config.submission.name, path=folder,
                            params=dict(config.submission.params),
                            extra_files=reader.extra_files())
    check_data_paths(reader, data_root, config.allow_outside_data_root)
    executor, limits = make_executor(config, reader, submission)
    executor.preload(preload_modules(workflow, prediction, submission))
    key = check_key(workflow, submission)  # and where it ran (a sandbox, a cluster)
    key = None if key is None else (*key, config.sandbox, config.backend, config.dask_address)
    checked = cached_check(key)  # the same files and parameter names, checked by this process
    check = CheckTask(workflow, submission)
    job = Job(check, limits, outcome=checked) if checked else executor.submit(check, limits)
    return submission, executor, limits, key, job
