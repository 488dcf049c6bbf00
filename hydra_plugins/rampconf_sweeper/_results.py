"""Results of a sweep: ``trials.csv``, ``best_params.yaml`` and what is printed.

``trials.csv`` has one row per trial of the study (every worker's):
``number, state``, one column per parameter, ``value`` (mean valid official
score), ``mean_test_score``, ``n_folds``, ``valid_fold_<k>``, ``duration_s``,
``error``, ``job_dir``, ``worker``. ``best_params.yaml`` holds the best
complete trial (by valid score; test scores are never used to choose), its
parameters, overrides and the command that reruns it. Both are rewritten
atomically after every batch.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampconf.outputs import write_atomic

if TYPE_CHECKING:
    import optuna
    import pandas as pd
    from rich.console import Console

    from ._plan import SweepPlan
    from ._space import SearchSpace

__all__ = ["best_trial", "print_summary", "print_trial", "trials_frame", "write_results"]


def program() -> list[str]:
    """How this process was started: ``python -m rampconf`` or the ``rampconf`` script."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("rampconf")
    if argv0.name == "__main__.py":
        return ["python", "-m", argv0.parent.name]
    return [argv0.name]


def _label(space: SearchSpace, name: str) -> str:
    """A short column label: the last part of the key when that is unambiguous."""
    last = name.rsplit(".", 1)[-1]
    lasts = [p.name.rsplit(".", 1)[-1] for p in space.params]
    return last if lasts.count(last) == 1 else name


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _value(trial: optuna.trial.FrozenTrial) -> float:
    """The value of a complete trial."""
    assert trial.value is not None
    return trial.value


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The best complete trial, or None."""
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return None
    maximize = study.direction.name == "MAXIMIZE"
    return (max if maximize else min)(complete, key=_value)


def trials_frame(study: optuna.Study, space: SearchSpace) -> pd.DataFrame:
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


def write_results(study: optuna.Study, plan: SweepPlan) -> None:
    """Rewrite ``trials.csv`` and (once a trial completed) ``best_params.yaml``, atomically."""
    import yaml

    frame = trials_frame(study, plan.space)
    write_atomic(plan.sweep_dir / "trials.csv", frame.to_csv(index=False))
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
        "command": shlex.join([*program(), *overrides]),
    }
    write_atomic(plan.sweep_dir / "best_params.yaml", yaml.safe_dump(document, sort_keys=False))


def print_trial(console: Console, plan: SweepPlan, trial: optuna.trial.Trial, state: str,
                value: float | None, error: str | None) -> None:
    """One line for a finished trial: number, state, parameters, score or error."""
    params = "  ".join(f"{_label(plan.space, name)}={_show(v)}"
                       for name, v in trial.params.items())
    digits = max(4, plan.precision + 2)
    outcome = f"valid {plan.official} {value:.{digits}f}" if state == "COMPLETE" else error or ""
    style = {"COMPLETE": "green", "PRUNED": "yellow"}.get(state, "red")
    console.print(f"trial {trial.number} [{style}]{state}[/{style}]  {params}  {outcome}",
                  highlight=False, soft_wrap=True)


def print_summary(console: Console, study: optuna.Study, plan: SweepPlan, n_best: int) -> None:
    """Counts by state, the ``n_best`` best trials, the best parameters and the rerun command."""
    from optuna.trial import TrialState
    from rich.table import Table

    trials = study.get_trials(deepcopy=False)
    counts = {state: sum(1 for t in trials if t.state == state) for state in TrialState}
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    complete.sort(key=_value, reverse=plan.direction == "maximize")
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
    for trial in complete[:n_best]:
        test = trial.user_attrs.get("mean_test_score")
        table.add_row(
            str(trial.number), f"{trial.value:.{digits}f}",
            "—" if test is None else f"{test:.{digits}f}",
            str(len(trial.user_attrs.get("fold_valid_scores", {}))),
            *[_show(trial.params.get(p.name, "—")) for p in plan.space.params],
            "—" if trial.duration is None else f"{trial.duration.total_seconds():.1f}")
    if complete and n_best:
        console.print(table)
    best = complete[0] if complete else None
    if best is not None:
        console.print(f"best: trial {best.number}, mean valid {plan.official} "
                      f"{best.value:.{digits}f} (test scores are recorded, never used "
                      "to choose)", highlight=False)
        console.print("best parameters: " + "  ".join(
            f"{p.name}={p.text(best.params[p.name])}" for p in plan.space.params
            if p.name in best.params), highlight=False, soft_wrap=True)
        command = shlex.join([*program(), *plan.space.overrides(best.params)])
        console.print(f"rerun the best: {command}", highlight=False, soft_wrap=True,
                      markup=False)
    best_file = f"  best: {plan.sweep_dir / 'best_params.yaml'}" if best is not None else ""
    console.print(f"trials: {plan.sweep_dir / 'trials.csv'}{best_file}  study: "
                  f"{plan.storage} ({plan.study_name})", highlight=False, soft_wrap=True,
                  markup=False)
