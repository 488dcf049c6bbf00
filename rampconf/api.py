"""The plain Python API: compose, validate and run, as the command line does.

>>> import rampconf
>>> result = rampconf.run(problem="iris", overrides=["cv.n_splits=3"])  # doctest: +SKIP
>>> result.table("mean")  # doctest: +SKIP

:func:`run` composes the same config as ``python -m rampconf`` (packaged
``conf/``, your ``./conf`` first) with Hydra's compose API, which changes
neither the working directory nor the logging set-up.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    config, _ = _compose(overrides)
    return config


def _compose(overrides: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """:func:`compose`, and the ``${oc.env:...}`` values (key path -> interpolation)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf, open_dict
    from omegaconf.errors import OmegaConfBaseException
    from yaml import YAMLError

    from rampconf.configguard import env_interpolations
    from rampconf.errors import ErrorExit

    register_submissions(overrides)
    try:
        with initialize_config_dir(config_dir=str(packaged_conf_dir()), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides),
                                return_hydra_config=True)
            run_dir = str(cfg.hydra.run.dir)
            with open_dict(cfg):
                del cfg["hydra"]
            masked = env_interpolations(cfg)
            raw = OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException, YAMLError) as exc:
        from rampconf.hydra_errors import composition_error

        raise ConfigError(composition_error(exc)) from None
    except ErrorExit as abort:  # a config file refused by the guard
        raise abort.error from None
    assert isinstance(raw, dict)
    config = {str(key): value for key, value in raw.items()}
    config["hydra_run_dir"] = run_dir
    return config, masked


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
        as for the command line. A directory that holds anything already (an
        earlier run) is not reused: the run takes ``<dir>_1``, ``<dir>_2``...
        (``result.run_dir`` says which).
    quiet
        Do not print tables or progress.

    Raises
    ------
    ConfigError, DataError, SubmissionError
        Bad configuration, data or submission (nothing has run).
    """
    from rampconf.execution import warm_up

    items = list(overrides)
    warm_up(items)
    if problem is not None:
        items.insert(0, f"problem={problem}")
    if submission is not None:
        items.insert(1 if problem is not None else 0, f"submission={submission}")
    raw, masked = _compose(items)
    default_dir = Path(raw.pop("hydra_run_dir")).resolve()
    from rampconf.errors import OutputError
    from rampconf.rundir import claim_run_dir

    wanted = Path(output_dir).resolve() if output_dir is not None else default_dir
    try:
        run_dir = claim_run_dir(wanted)
    except OSError as exc:
        raise OutputError(f"{wanted}: cannot create the run directory: "
                          f"{exc.strerror or exc}") from None
    return run_config(raw, run_dir=run_dir, overrides=items, quiet=quiet, masked=masked)


def _execute(plan: Any, train: Any, test: Any, on_fold: Any, quiet: bool,
             console: Console, deadline: float | None) -> dict[str, Any]:
    """Run the folds, with a progress bar unless ``quiet``."""
    from rampconf import runner

    if quiet:
        return runner.execute(plan, train, test, on_fold=on_fold, deadline=deadline,
                              settle=False)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    config = plan.config
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task(f"{config.problem.name} / {config.submission.name}: folds")
        return runner.execute(
            plan, train, test, on_fold=on_fold, deadline=deadline, settle=False,
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
    masked: dict[str, str] | None = None,
) -> RunResult:
    """Validate a composed configuration, run it and write ``run_dir``.

    Parameters
    ----------
    masked
        Key path -> text written in ``config.yaml`` instead of the value (the
        ``${oc.env:...}`` interpolations, whose values are not saved).

    Raises
    ------
    RampconfError
        Before anything runs (bad config, data or submission); a failing fold
        is not an error here: the result's ``status`` is ``"failed"``.
        :class:`~rampconf.errors.OutputError` when the run directory cannot be written.
    RunInterrupted
        On SIGINT or SIGTERM, once the folds that finished are saved
        (``summary.json`` with status ``interrupted``).
    """
    from rampconf.schema import validate_config

    started = dt.datetime.now(dt.timezone.utc)
    config = validate_config(raw)  # a config error is reported before the heavy imports
    from rampconf import local_plugins, runner
    from rampconf.errors import DataError, OutputError, RunInterrupted
    from rampconf.outputs import RunResult, RunWriter, file_sha256, package_versions
    from rampconf.report import make_console, print_run

    plan = runner.prepare(config, wait=False)  # the isolated check runs while data loads
    light = config.trial is not None and config.trial.output == "light"  # no figures either
    draw_figures = config.n_figures > 0 and not light and _can_draw(plan.prediction,
                                                                   config.n_figures)
    console = console or make_console()
    try:
        train, test = runner.load_data(plan)
    except DataError:
        plan.finish_check()  # a submission error is reported first, as before
        raise
    plan.finish_check()
    if config.quick and not quiet:
        console.print(f"quick=true: a smoke run on the first {config.quick_rows} rows of each "
                      f"split ({len(train)} training, {len(test)} test rows); not the problem's "
                      "scores", highlight=False)
    deadline = None
    if config.trial is not None and config.trial.timeout is not None:
        deadline = time.monotonic() + config.trial.timeout

    writer: Any = None
    metadata: dict[str, Any] = {}
    try:
        writer = RunWriter(run_dir, save_predictions=config.save_predictions,
                           pack=plan.prediction.pack, light=light)
        resolved = config.model_dump(mode="json")
        resolved["data_root"] = str(plan.data_root)
        writer.write_config(_masked(resolved, masked or {}))
        data_files = {**plan.reader.files(), **plan.reader.extra_files()}
        metadata = {
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
            outcome = _execute(plan, train, test, on_fold, quiet or not config.progress,
                               console, deadline)
        except Exception as exc:
            if type(exc).__name__ == "TrialPruned":  # keep what ran; the sweeper records it
                writer.write_summary({"problem": config.problem.name, "status": "pruned",
                                      "official_score": plan.official.name,
                                      "reason": str(exc), "seeds": {"run": config.seed}})
            raise
        elapsed = time.perf_counter() - clock

        results: list[FoldResult] = outcome["folds"]
        if draw_figures:
            for fold in results:
                if fold.status == "ok" and fold.y_pred_train is not None:
                    plan.prediction.save_figures(run_dir / "figures", train.X,
                                                 outcome["y_train"], fold.y_pred_train,
                                                 fold.valid_idx[:config.n_figures], fold.fold)
        summary = _finish(plan, writer, outcome, metadata, elapsed)
        if reporter is not None:
            reporter.finish(summary, str(run_dir), writer.held)
    except KeyboardInterrupt as exc:
        interrupted = exc if isinstance(exc, RunInterrupted) else RunInterrupted()
        interrupted.run_dir = run_dir
        if writer is not None:
            with contextlib.suppress(OSError):
                _finish(plan, writer, interrupted.partial, metadata, None, interrupted)
        raise interrupted from None
    except OSError as exc:
        raise OutputError(f"{run_dir}: cannot write the run directory: "
                          f"{exc.strerror or exc}{f' ({exc.filename})' if exc.filename else ''}"
                          "; the run stopped and left no summary.json") from None
    finally:  # the last folds' processes ended while the run wrote its files (runner.execute)
        plan.executor.settle()
    import pandas as pd

    result = RunResult(run_dir=run_dir, summary=summary, scores=writer.scores_frame(),
                       bagged=writer.bagged_frame,
                       folds=pd.DataFrame(writer.fold_rows).sort_values("fold"),
                       config=resolved)
    if not quiet:
        print_run(result, console)
        console.print(f"run directory: {run_dir}")
    return result


def _masked(resolved: dict[str, Any], masked: dict[str, str]) -> dict[str, Any]:
    """``resolved`` with the values at the ``masked`` key paths replaced by their text."""
    for path, text in masked.items():
        node: Any = resolved
        *parents, last = path.split(".")
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and last in node:
            node[last] = text
    return resolved


def _finish(plan: Any, writer: Any, outcome: dict[str, Any], metadata: dict[str, Any],
            elapsed: float | None, interrupted: Any = None) -> dict[str, Any]:
    """Write the bagging, the retrain, the metadata and ``summary.json`` (last)."""
    from rampconf.scoring import mean_std
    from rampconf.submission import describe_submission

    config = plan.config
    results: list[FoldResult] = outcome.get("folds", [])
    writer.write_tables()  # complete even if an interrupt came while a fold was being written
    writer.bagged_frame = writer.write_bagging(outcome.get("bagging_curve", []),
                                               outcome.get("bagged_predictions", {}))
    retrain = outcome.get("retrain")
    if retrain is not None:
        writer.write_retrain(retrain)
    mean, std = mean_std(outcome.get("fold_scores", {}))
    failed: list[int | str] = [r.fold for r in results if r.status != "ok"]
    if retrain is not None and retrain["result"].status != "ok":
        failed.append("retrain")
    seeds = outcome.get("seeds", [])
    status = "interrupted" if interrupted is not None else "ok" if not failed else "failed"
    n_folds = outcome.get("n_folds", len(results))
    summary = {
        "problem": config.problem.name,
        "submission": config.submission.name,
        "status": status,
        "official_score": plan.official.name,
        "greater_is_better": plan.official.greater_is_better,
        "score_names": [s.name for s in plan.scores],
        "precisions": {s.name: s.precision for s in plan.scores},
        "directions": {s.name: "max" if s.greater_is_better else "min" for s in plan.scores},
        "n_folds": n_folds,
        "n_folds_ok": len(results) - len([f for f in failed if f != "retrain"]),
        "failed_folds": failed,
        "mean": mean,
        "std": std,
        "bagged": outcome["bagging_curve"][-1] if outcome.get("bagging_curve") else {},
        "retrain": None if retrain is None else retrain["scores"],
        "undefined": outcome.get("undefined", []),
        "seeds": {"run": config.seed, "folds": seeds[:-1],
                  "retrain": seeds[-1] if seeds else None},
        "elapsed_seconds": elapsed,
        "quick": config.quick,
        "description": describe_submission(plan.submission.path, list(plan.workflow.elements)),
    }
    if interrupted is not None:
        summary["n_folds_done"] = len(results)
        summary["interrupted_by"] = signal.Signals(interrupted.signal).name
    metadata["finished"] = dt.datetime.now(dt.timezone.utc).isoformat()
    writer.write_metadata(metadata)
    writer.write_summary(summary)
    return summary
