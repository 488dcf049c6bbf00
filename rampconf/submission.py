"""Submissions: a folder of workflow-element files, loaded and parametrised.

A submission is ``submissions/<problem>/<name>/`` with one Python file per
workflow element (``estimator.py``, ``classifier.py``, ...). Its
hyperparameters are the keyword arguments (with defaults) of the callables
the workflow uses (``get_estimator(...)``, ``Classifier.__init__(...)``);
``submission.params`` overrides them, checked against those signatures.
"""

from __future__ import annotations

import atexit
import hashlib
import inspect
import shutil
import sys
import tempfile
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rampconf.errors import ConfigError, SubmissionError
from rampconf.resources import packaged_submissions_dir

__all__ = ["Submission", "describe_submission", "find_submission", "requested_submissions",
           "submission_traceback"]

_module_cache: dict[tuple[str, str], types.ModuleType] = {}


def search_dirs() -> list[Path]:
    """Folders searched for ``<problem>/<name>``: ``./submissions`` first, then the package's."""
    return [Path.cwd() / "submissions", packaged_submissions_dir()]


def list_submissions(problem: str | None = None) -> list[str]:
    """Names of the submissions found for ``problem`` (or for every problem)."""
    names: set[str] = set()
    for root in search_dirs():
        problems = [root / problem] if problem else (root.iterdir() if root.is_dir() else [])
        for folder in problems:
            if folder.is_dir():
                names.update(p.name for p in folder.iterdir()
                             if p.is_dir() and not p.name.startswith(("_", ".")))
    return sorted(names)


def requested_submissions(overrides: list[str]) -> list[str]:
    """Names chosen by ``submission=NAME`` overrides (Hydra must know them to compose)."""
    return [arg.split("=", 1)[1] for arg in overrides
            if arg.startswith("submission=") and arg.split("=", 1)[1] not in ("", "null")]


def find_submission(problem: str, name: str, path: str | None = None,
                    elements: dict[str, str] | None = None) -> Path:
    """The folder of submission ``name`` of ``problem``, or of ``path`` when given.

    Parameters
    ----------
    elements
        The workflow's element files and callables (``{"estimator":
        "get_estimator"}``), named by the error that says how to create a
        submission that does not exist.

    Raises
    ------
    ConfigError
        No such folder: the submissions the problem has (with the closest),
        where they were looked for, and what a new one holds.
    """
    if path:
        folder = Path(path).expanduser().resolve()
        if not folder.is_dir():
            raise ConfigError(f"submission.path: folder {folder} does not exist")
        return folder
    looked = []
    for root in search_dirs():
        folder = root / problem / name
        looked.append(str(folder))
        if folder.is_dir():
            return folder.resolve()
    from rampconf.registry import closest

    names = list_submissions(problem)
    needs = ", ".join(f"{element}.py defining {attribute}"
                      for element, attribute in (elements or {}).items())
    create = f"./submissions/{problem}/{name}/" + (f" holding {needs}" if needs else "")
    elsewhere = f"or a folder anywhere: submission={name} submission.path=DIR"
    if not names:
        raise ConfigError(f"submission: problem {problem!r} has no submission yet (looked in "
                          f"{', '.join(str(Path(f).parent) for f in looked)}); create the folder "
                          f"{create}, {elsewhere}")
    hint = closest(name, names)
    did_you_mean = f"did you mean {hint!r}? " if hint else ""
    raise ConfigError(f"submission: unknown submission option {name!r} for problem {problem!r}; "
                      f"{did_you_mean}valid names: {', '.join(names)} (looked in "
                      f"{', '.join(looked)}); a new submission is the folder {create}, "
                      f"{elsewhere}")


def describe_submission(folder: Path, elements: list[str]) -> str:
    """What a submission is, in its own words: the first paragraph of a module docstring.

    The docstring of the first of ``elements`` (workflow element files) that
    has one, read without importing the file; empty when none has one.
    """
    import ast

    for element in elements:
        path = folder / f"{element}.py"
        try:
            doc = ast.get_docstring(ast.parse(path.read_text()))
        except (OSError, SyntaxError, ValueError):
            continue
        if doc:
            return " ".join(doc.split("\n\n")[0].split())
    return ""


def _staging_dir(folder: Path, extra_files: dict[str, Path]) -> Path:
    """A folder beside which the submission sees the problem's extra files.

    RAMP submissions read extra data as ``os.path.join(os.path.dirname(__file__), NAME)``;
    their modules get ``__file__`` in this folder, which links the submission's
    files and the extra files, while tracebacks still show the real files.
    """
    key = hashlib.sha1(repr((str(folder), sorted(extra_files.items()))).encode()).hexdigest()[:12]
    staging = Path(tempfile.gettempdir()) / f"rampconf-{key}-{id(_module_cache)}"
    if not staging.exists():
        staging.mkdir(parents=True)
        atexit.register(shutil.rmtree, staging, True)
        for item in folder.iterdir():
            (staging / item.name).symlink_to(item.resolve())
        for name, target in extra_files.items():
            link = staging / name
            if not link.exists():
                link.symlink_to(Path(target).resolve())
    return staging


@dataclass(frozen=True)
class Submission:
    """A submission folder with its parameter overrides; cheap to pickle to workers.

    Attributes
    ----------
    name : str
        Name shown in tables and the run directory.
    path : pathlib.Path
        The submission's folder.
    params : dict
        Overrides of the keyword arguments, either ``{name: value}`` (a name
        that exactly one element takes) or ``{element: {name: value}}``.
    extra_files : dict
        File name -> path of extra data the submission may read beside itself.
    """

    name: str
    path: Path
    params: dict[str, Any] = field(default_factory=dict)
    extra_files: dict[str, Path] = field(default_factory=dict)

    def file(self, element: str) -> Path:
        """Path of the file of ``element`` (``<element>.py``)."""
        return self.path / f"{element}.py"

    def module(self, element: str) -> types.ModuleType:
        """Import ``<element>.py`` (once per process).

        Raises
        ------
        SubmissionError
            When the file is missing or fails to import (with the submission's traceback).
        """
        key = (str(self.path), element)
        if key in _module_cache:
            return _module_cache[key]
        path = self.file(element)
        if not path.is_file():
            present = sorted(p.name for p in self.path.glob("*.py"))
            raise SubmissionError(
                f"{path}: missing workflow element file {path.name!r}; the workflow expects "
                f"{path.name}, the submission has {', '.join(present) or 'no .py file'}"
            )
        module = types.ModuleType(f"rampconf_submission_{abs(hash(key))}_{element}")
        shown = path
        if self.extra_files:
            shown = _staging_dir(self.path, self.extra_files) / path.name
        module.__file__ = str(shown)
        sys.modules[module.__name__] = module
        try:
            code = compile(path.read_text(), str(path), "exec")
            exec(code, module.__dict__)
        except Exception as exc:
            del sys.modules[module.__name__]
            raise SubmissionError(
                f"{path}: importing the submission failed: {type(exc).__name__}: {exc}",
                lines=submission_traceback(exc, self.path),
            ) from exc
        _module_cache[key] = module
        return module

    def callable(self, element: str, attribute: str) -> Any:
        """The callable ``attribute`` of ``element`` (a class or a function)."""
        module = self.module(element)
        obj = getattr(module, attribute, None)
        if obj is None or not callable(obj):
            defined = sorted(n for n, v in vars(module).items()
                             if callable(v) and not n.startswith("_")
                             and getattr(v, "__module__", None) == module.__name__)
            raise SubmissionError(
                f"{self.file(element)}: missing {attribute!r}; the workflow expects "
                f"a callable {attribute} in {element}.py, the file defines "
                f"{', '.join(defined) or 'nothing callable'}"
            )
        return obj

    def build(self, element: str, attribute: str, routed: dict[str, Any]) -> Any:
        """Call ``attribute`` of ``element`` with its routed parameter overrides."""
        return self.callable(element, attribute)(**routed.get(element, {}))


def signature_defaults(obj: Any) -> dict[str, Any]:
    """Keyword arguments (with defaults) of a function or a class constructor."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return {}
    return {
        name: p.default
        for name, p in signature.parameters.items()
        if name != "self" and p.default is not inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def route_params(submission: Submission, callables: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Assign each parameter override to the element whose callable takes it.

    Parameters
    ----------
    callables
        Element -> name of its callable (``{"classifier": "Classifier"}``).

    Raises
    ------
    ConfigError
        Unknown or ambiguous parameter names, listing the valid ones.
    """
    defaults = {el: signature_defaults(submission.callable(el, attr))
                for el, attr in callables.items()}
    valid = sorted({f"{name}" for d in defaults.values() for name in d})
    routed: dict[str, dict[str, Any]] = {el: {} for el in callables}
    for key, value in submission.params.items():
        if key in callables and isinstance(value, dict):
            for name, inner in value.items():
                if name not in defaults[key]:
                    raise ConfigError(_unknown_param(submission, f"{key}.{name}", key,
                                                     sorted(defaults[key])))
                routed[key][name] = inner
            continue
        owners = [el for el, d in defaults.items() if key in d]
        if not owners:
            raise ConfigError(_unknown_param(submission, key, None, valid))
        if len(owners) > 1:
            raise ConfigError(
                f"submission.params.{key}: ambiguous, taken by {' and '.join(owners)}; write "
                + " or ".join(f"submission.params.{owner}.{key}=VALUE" for owner in owners)
            )
        routed[owners[0]][key] = value
    return routed


def _unknown_param(submission: Submission, key: str, element: str | None,
                   valid: list[str]) -> str:
    from rampconf.registry import closest

    hint = closest(key.split(".")[-1], valid)
    where = f"{element}.py" if element else "the submission's callables"
    did_you_mean = f"did you mean {hint!r}? " if hint else ""
    return (f"submission.params.{key}: unknown parameter of {submission.path.name} "
            f"({where}); {did_you_mean}valid parameters: {', '.join(valid) or 'none'}")


def submission_traceback(exc: BaseException, folder: Path) -> list[str]:
    """The traceback of ``exc``, frames of the submission's own files first.

    Returns lines: the submission's frames (``file:line in function`` and the
    source line), then the exception, then the rest of the traceback.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    folder_text = str(folder.resolve())
    own = [f for f in frames if f.filename.startswith(folder_text)]
    lines = [f"{f.filename}:{f.lineno} in {f.name}: {(f.line or '').strip()}"
             for f in reversed(own)]
    lines.append("".join(traceback.format_exception_only(type(exc), exc)).strip())
    lines.append("full traceback:")
    lines.extend("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
                 .splitlines())
    return lines
