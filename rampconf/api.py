"""The plain Python API: compose, validate and run, as the command line does.

>>> import rampconf
>>> result = rampconf.run(problem="iris", overrides=["cv.n_splits=3"])  # doctest: +SKIP
>>> result.table("mean")  # doctest: +SKIP

:func:`run` composes the same config as ``python -m rampconf`` (packaged
``conf/``, your ``./conf`` first) with Hydra's compose API, which changes
neither the working directory nor the logging set-up.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rampconf.errors import ConfigError
from rampconf.resources import packaged_conf_dir

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Console

    from rampconf.outputs import RunResult
    from rampconf.runner import FoldResult

__all__ = ["compose", "register_submissions", "run", "run_config"]



def register_submissions(overrides: Sequence[str] = ()) -> None:
    """Make every submission folder found a ``submission=NAME`` option of Hydra.

    Folders are ``./submissions/<problem>/<name>/`` and the packaged ones. The
    ``params`` node accepts new keys, so ``submission.params.C=0.5`` needs no ``+``.
    A name chosen in ``overrides`` is an option too, found or not: the run
    then says which submissions the problem has and how to create one.
    """
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    from rampconf.submission import list_submissions, requested_submissions

    store = ConfigStore.instance()
    for name in sorted({*list_submissions(), *requested_submissions(list(overrides))}):
        node = OmegaConf.create({"name": name, "path": None, "params": {}})
        OmegaConf.set_struct(node.params, False)
        store.store(group="submission", name=name, node=node,
                    provider="rampconf")


def compose(overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Compose the configuration for ``overrides`` and resolve it to plain data.

    Also returns the Hydra run directory under the key ``hydra_run_dir``.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf, open_dict
    from omegaconf.errors import OmegaConfBaseException
    from yaml import YAMLError

    register_submissions(overrides)
    try:
        with initialize_config_dir(config_dir=str(packaged_conf_dir()), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides),
                                return_hydra_config=True)
            run_dir = str(cfg.hydra.run.dir)
            with open_dict(cfg):
                del cfg["hydra"]
            raw = OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException, YAMLError) as exc:
        from rampconf.hydra_errors import composition_error

        raise ConfigError(composition_error(exc)) from None
    assert isinstance(raw, dict)
    config = {str(key): value for key, value in raw.items()}
    config["hydra_run_dir"] = run_dir
    return config


def run(
    problem: str | None = None,
    submission: str | None = None,
    overrides: Sequence[str] = (),
    output_dir: str | os.PathLike[str] | None = None,
    quiet: bool = False,
) -> RunResult:
    """Run a submission on a problem and return its results.

    Parameters
    ----------
    problem, submission
        Shortcuts for the overrides ``problem=...`` and ``submission=...``.
    overrides
        Hydra overrides, as on the command line (``["cv.n_splits=3", "n_jobs=2"]``).
    output_dir
        Run directory; default ``outputs/<problem>/<submission>/<timestamp>``
        as for the command line.
    quiet
        Do not print tables or progress.

    Raises
    ------
    ConfigError, DataError, SubmissionError
        Bad configuration, data or submission (nothing has run).
    """
    items = list(overrides)
    if problem is not None:
        items.insert(0, f"problem={problem}")
    if submission is not None:
        items.insert(1 if problem is not None else 0, f"submission={submission}")
    raw = compose(items)
    default_dir = Path(raw.pop("hydra_run_dir")).resolve()
    run_dir = Path(output_dir).resolve() if output_dir is not None else _fresh(default_dir)
    return run_config(raw, run_dir=run_dir, overrides=items, quiet=quiet)


def _fresh(folder: Path) -> Path:
    """``folder``, or ``folder_1``, ``folder_2``... when runs start within the same second."""
    candidate, n = folder, 0
    while candidate.exists():
        n += 1
        candidate = folder.with_name(f"{folder.name}_{n}")
    return candidate


def _mean_std(fold_scores: dict[int, dict[str, dict[str, float]]]
              ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    mean: dict[str, dict[str, float]] = {}
    std: dict[str, dict[str, float]] = {}
    if not fold_scores:
        return mean, std
    first = next(iter(fold_scores.values()))
    for step, values in first.items():
        mean[step], std[step] = {}, {}
        for name in values:
            column = np.array([fold_scores[f][step][name] for f in sorted(fold_scores)])
            mean[step][name] = float(np.mean(column))
            std[step][name] = float(np.std(column))  # population std, as RAMP
    return mean, std


def _execute(plan: Any, train: Any, test: Any, on_fold: Any, quiet: bool,
             console: Console) -> dict[str, Any]:
    """Run the folds, with a progress bar unless ``quiet``."""
    from rampconf import runner

    if quiet:
        return runner.execute(plan, train, test, on_fold=on_fold)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    config = plan.config
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task(f"{config.problem.name} / {config.submission.name}: folds")
        return runner.execute(
            plan, train, test, on_fold=on_fold,
            progress=lambda done, total: bar.update(task, completed=done, total=total))


def _can_draw(prediction: Any, n_figures: int) -> bool:
    """Whether the pictures' extra is installed; a warning line on standard error if not."""
    extra = prediction.figures_require
    missing = extra.missing() if extra is not None else []
    if missing:
        print(f"warning: n_figures={n_figures}: no pictures drawn: {', '.join(missing)} not "
              f"installed (run {extra.install})", file=sys.stderr)
    return not missing


def run_config(
    raw: dict[str, Any],
    run_dir: Path,
    overrides: Sequence[str] = (),
    quiet: bool = False,
    console: Console | None = None,
) -> RunResult:
    """Validate a composed configuration, run it and write ``run_dir``.

    Raises
    ------
    RampconfError
        Before anything runs (bad config, data or submission); a failing fold
        is not an error here: the result's ``status`` is ``"failed"``.
    """
    from rampconf import local_plugins, runner
    from rampconf.outputs import RunResult, RunWriter, file_sha256, package_versions
    from rampconf.report import make_console, print_run
    from rampconf.schema import validate_config
    from rampconf.submission import describe_submission

    started = dt.datetime.now(dt.timezone.utc)
    config = validate_config(raw)
    plan = runner.prepare(config)
    draw_figures = config.n_figures > 0 and _can_draw(plan.prediction, config.n_figures)
    console = console or make_console()
    train, test = runner.load_data(plan)
    if config.quick and not quiet:
        console.print(f"quick=true: a smoke run on the first {config.quick_rows} rows of each "
                      f"split ({len(train)} training, {len(test)} test rows); not the problem's "
                      "scores", highlight=False)

    writer = RunWriter(run_dir, save_predictions=config.save_predictions,
                       pack=plan.prediction.pack)
    resolved = config.model_dump(mode="json")
    resolved["data_root"] = str(plan.data_root)
    writer.write_config(resolved)
    data_files = {**plan.reader.files(), **plan.reader.extra_files()}
    metadata: dict[str, Any] = {
        "overrides": list(overrides),
        "started": started.isoformat(),
        "submission_path": str(plan.submission.path),
        "versions": package_versions(),
        "data_files": {role: {"path": str(path), "sha256": file_sha256(path)}
                       for role, path in data_files.items()},
        "n_train": len(train), "n_test": len(test),
        "local_plugins": local_plugins.records_for(
            [plan.reader, plan.prediction, *plan.scores, plan.cv, plan.workflow]),
    }
    writer.write_metadata(metadata)

    reporter = None
    if config.trial is not None:
        from rampconf.trial import TrialReporter

        reporter = TrialReporter(config.trial, plan.official.name)

    def on_fold(result: FoldResult, scores: dict[str, dict[str, float]] | None) -> None:
        writer.write_fold(result, scores, len(train))
        if reporter is not None:
            reporter.report(result.fold, scores)

    clock = time.perf_counter()
    try:
        outcome = _execute(plan, train, test, on_fold, quiet or not config.progress, console)
    except Exception as exc:
        if type(exc).__name__ == "TrialPruned":  # keep what ran; the sweeper records it
            writer.write_summary({"problem": config.problem.name, "status": "pruned",
                                  "official_score": plan.official.name, "reason": str(exc),
                                  "seeds": {"run": config.seed}})
        raise
    elapsed = time.perf_counter() - clock

    results: list[FoldResult] = outcome["folds"]
    if draw_figures:
        for fold in results:
            if fold.status == "ok" and fold.y_pred_train is not None:
                plan.prediction.save_figures(run_dir / "figures", train.X, outcome["y_train"],
                                             fold.y_pred_train, fold.valid_idx[:config.n_figures],
                                             fold.fold)
    bagged_frame = writer.write_bagging(outcome["bagging_curve"], outcome["bagged_predictions"])
    retrain_scores = None
    if outcome["retrain"] is not None:
        writer.write_retrain(outcome["retrain"])
        retrain_scores = outcome["retrain"]["scores"]
    mean, std = _mean_std(outcome["fold_scores"])
    failed: list[int | str] = [r.fold for r in results if r.status != "ok"]
    if outcome["retrain"] is not None and outcome["retrain"]["result"].status != "ok":
        failed.append("retrain")
    summary = {
        "problem": config.problem.name,
        "submission": config.submission.name,
        "status": "ok" if not failed else "failed",
        "official_score": plan.official.name,
        "greater_is_better": plan.official.greater_is_better,
        "score_names": [s.name for s in plan.scores],
        "precisions": {s.name: s.precision for s in plan.scores},
        "directions": {s.name: "max" if s.greater_is_better else "min" for s in plan.scores},
        "n_folds": len(results),
        "n_folds_ok": len(results) - len([f for f in failed if f != "retrain"]),
        "failed_folds": failed,
        "mean": mean,
        "std": std,
        "bagged": outcome["bagging_curve"][-1] if outcome["bagging_curve"] else {},
        "retrain": retrain_scores,
        "undefined": outcome["undefined"],
        "seeds": {"run": config.seed, "folds": outcome["seeds"][:-1],
                  "retrain": outcome["seeds"][-1]},
        "elapsed_seconds": elapsed,
        "quick": config.quick,
        "description": describe_submission(plan.submission.path, list(plan.workflow.elements)),
    }
    metadata["finished"] = dt.datetime.now(dt.timezone.utc).isoformat()
    writer.write_metadata(metadata)
    writer.write_summary(summary)
    if reporter is not None:
        reporter.finish(summary)
    import pandas as pd

    result = RunResult(run_dir=run_dir, summary=summary, scores=writer.scores_frame(),
                       bagged=bagged_frame,
                       folds=pd.DataFrame(writer.fold_rows).sort_values("fold"),
                       config=resolved)
    if not quiet:
        print_run(result, console)
        console.print(f"run directory: {run_dir}")
    return result
