"""Run directories as the database: find runs and sweep trials, tell which are comparable.

Everything here reads what a run wrote (``summary.json``, ``folds.csv``,
``config.yaml``, ``metadata.json``, ``predictions/``); nothing is retrained.
Two runs are *comparable* (ranked together, their fold scores paired) when
they are of the same problem, with the same official score, on the same data
files and on the same folds: every fold's training and valid rows
(``folds.csv``'s ``indices_sha256``; for runs written before that column
existed, computed from their saved fold predictions).

>>> from rampconf.runs import find_runs
>>> runs = find_runs(["outputs", "multirun"])  # doctest: +SKIP
>>> [run.label for run in runs]  # doctest: +SKIP
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rampconf.outputs import RunResult, fold_indices_sha256, load_run

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["RunInfo", "as_run", "find_runs", "submission_defaults"]


@dataclass
class RunInfo:
    """One run directory read back: its results, metadata and place (a sweep's trial or not).

    Attributes
    ----------
    result : RunResult
        Summary, tidy scores, folds and configuration (:func:`rampconf.load_run`).
    metadata : dict
        ``metadata.json`` (overrides, times, versions, data file hashes).
    sweep_dir : pathlib.Path or None
        The sweep directory when the run is a trial of a sweep.
    """

    result: RunResult
    metadata: dict[str, Any] = field(default_factory=dict)
    sweep_dir: Path | None = None

    @property
    def run_dir(self) -> Path:
        """Where the run was written."""
        assert self.result.run_dir is not None
        return self.result.run_dir

    @property
    def summary(self) -> dict[str, Any]:
        return self.result.summary

    @property
    def config(self) -> dict[str, Any]:
        return self.result.config

    @property
    def problem(self) -> str:
        return str(self.summary.get("problem") or self.config.get("problem", {}).get("name"))

    @property
    def submission(self) -> str:
        return str(self.summary.get("submission") or self.config.get("submission", {}).get("name"))

    @property
    def status(self) -> str:
        """``ok``, ``failed``, ``interrupted`` or ``pruned`` (a sweep's trial stopped early)."""
        return str(self.summary.get("status", "unknown"))

    @property
    def official_score(self) -> str:
        return str(self.summary["official_score"])

    @property
    def started(self) -> str:
        """Start time (ISO 8601, UTC) from ``metadata.json``; empty when unknown."""
        return str(self.metadata.get("started", ""))

    @property
    def trial(self) -> int | None:
        """The trial number of a sweep's run (its folder name), else None."""
        if self.sweep_dir is None:
            return None
        trial = self.config.get("trial") or {}
        number = trial.get("number") if isinstance(trial, dict) else None
        if number is None and self.run_dir.name.isdigit():
            number = int(self.run_dir.name)
        return None if number is None else int(number)

    @property
    def label(self) -> str:
        """How tables name the run: the submission, with its sweep trial or its origin."""
        if "blend" in self.metadata:
            return f"blend of {len(self.metadata['blend']['members'])} runs"
        label = self.submission
        if self.trial is not None:
            label += f" (trial {self.trial})"
        if "rescored_from" in self.metadata:
            label += " (rescored)"
        return label

    @property
    def params(self) -> dict[str, Any]:
        """Submission parameters of this run that differ from the submission's defaults.

        The defaults are read from the submission's files without importing
        them (literal keyword defaults only); a parameter whose default cannot
        be read is shown.
        """
        given = dict((self.config.get("submission") or {}).get("params") or {})
        defaults = submission_defaults(self.metadata.get("submission_path"))
        return {key: value for key, value in given.items()
                if key not in defaults or defaults[key] != value}

    def table(self, stat: str) -> dict[str, dict[str, float | None]]:
        """``summary[stat]`` (``mean``, ``std``, ``bagged`` or ``retrain``) by step and score."""
        return self.summary.get(stat) or {}

    def fold_values(self, step: str, score: str) -> dict[int, float]:
        """The score of every successful fold at ``step``: ``{fold: value}`` (NaN kept)."""
        scores = self.result.scores
        if scores.empty:
            return {}
        rows = scores[(scores["step"] == step) & (scores["score"] == score)]
        return {int(f): float(v) for f, v in zip(rows["fold"], rows["value"], strict=True)}

    def mean_times(self) -> tuple[float | None, float | None]:
        """Mean training and predicting (valid + test) seconds over successful folds."""
        folds = self.result.folds
        if folds.empty or "train_time" not in folds:
            return None, None
        ok = folds[folds["status"] == "ok"]
        if ok.empty:
            return None, None
        return (float(ok["train_time"].mean()),
                float((ok["valid_time"] + ok["test_time"]).mean()))

    @cached_property
    def folds_id(self) -> str | None:
        """A hash of every fold's rows (None when not recorded: see :attr:`why_no_folds_id`)."""
        folds = self.result.folds
        if folds.empty:
            return None
        if "indices_sha256" in folds and folds["indices_sha256"].notna().all():
            hashes = [str(h) for h in folds.sort_values("fold")["indices_sha256"]]
        else:  # a run written before folds.csv had the column: from its saved predictions
            hashes = []
            for fold in sorted(int(f) for f in folds["fold"]):
                path = self.run_dir / "predictions" / f"fold_{fold}.npz"
                if not path.is_file():
                    return None
                with np.load(path, allow_pickle=False) as data:
                    hashes.append(fold_indices_sha256(data["train_idx"], data["valid_idx"]))
        n_folds = self.summary.get("n_folds", len(hashes))
        if len(hashes) != n_folds:
            return None
        return hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:12]

    @property
    def why_no_folds_id(self) -> str:
        return ("its folds' rows are not recorded (a run written before folds.csv had "
                "indices_sha256, without saved predictions for every fold)")

    @property
    def data_id(self) -> str:
        """A hash of the data files' SHA-256 (the files' contents, not their paths)."""
        files = self.metadata.get("data_files") or {}
        text = "\n".join(f"{role}={files[role].get('sha256')}" for role in sorted(files))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def comparable_key(self) -> tuple[str, str, str, str]:
        """Runs with equal keys are ranked together and their fold scores paired."""
        return (self.problem, self.official_score, self.data_id,
                self.folds_id or f"unknown:{self.run_dir}")

    @property
    def cv_text(self) -> str:
        """The CV scheme in force, as ``type key=value ...``."""
        spec = self.config.get("cv") or (self.config.get("problem") or {}).get("cv") or {}
        params = " ".join(f"{k}={v}" for k, v in spec.items() if k != "type" and v is not None)
        return f"{spec.get('type', '?')} {params}".strip()


def submission_defaults(path: str | None) -> dict[str, Any]:
    """Literal keyword defaults of the functions and methods in a submission's files."""
    defaults: dict[str, Any] = {}
    if not path or not Path(path).is_dir():
        return defaults
    for file in sorted(Path(path).glob("*.py")):
        try:
            tree = ast.parse(file.read_text(), filename=str(file))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = [*zip(positional[len(positional) - len(args.defaults):], args.defaults,
                          strict=True),
                     *((a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                       if d is not None)]
            for arg, default in pairs:
                try:
                    defaults.setdefault(arg.arg, ast.literal_eval(default))
                except ValueError:
                    continue
    return defaults


def as_run(run: RunInfo | RunResult | str | os.PathLike[str]) -> RunInfo:
    """A :class:`RunInfo` from a run directory path, a :class:`RunResult` or itself."""
    if isinstance(run, RunInfo):
        return run
    result = run if isinstance(run, RunResult) else load_run(run)
    if result.run_dir is None:
        raise ValueError("this run was not written to a run directory")
    folder = result.run_dir
    metadata_path = folder / "metadata.json"
    metadata = json.loads(metadata_path.read_text()) if metadata_path.is_file() else {}
    parent = folder.parent
    is_trial = (parent / "trials.csv").is_file() or (parent / "multirun.yaml").is_file()
    return RunInfo(result=result, metadata=metadata, sweep_dir=parent if is_trial else None)


def find_runs(paths: Iterable[str | os.PathLike[str]], problem: str | None = None
              ) -> list[RunInfo]:
    """Every run directory (one holding ``summary.json``) under ``paths``, sweep trials included.

    Parameters
    ----------
    paths
        Run directories or folders to search (e.g. ``outputs``, ``multirun``).
    problem
        Keep only the runs of this problem.

    Raises
    ------
    FileNotFoundError
        A path that does not exist.
    """
    found: dict[Path, RunInfo] = {}
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
        candidates = [path] if (path / "summary.json").is_file() else \
            sorted(p.parent for p in path.rglob("summary.json"))
        for folder in candidates:
            if any(part.startswith(".") for part in folder.relative_to(path).parts):
                continue
            try:
                run = as_run(folder)
            except (OSError, ValueError) as exc:  # a summary being written, or not ours
                warnings.warn(f"{folder}: skipped, not readable: {exc}", stacklevel=2)
                continue
            if problem is None or run.problem == problem:
                found[folder.resolve()] = run
    return list(found.values())
