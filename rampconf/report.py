"""RAMP-style tables of a run, printed with rich; also rebuilt from a run directory.

``rampconf-report RUN_DIR`` (or ``python -m rampconf.report RUN_DIR``) prints the
tables of a finished run without retraining anything; ``--html [FILE]`` also
writes the run's self-contained HTML report (:mod:`rampconf.html_report`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Collection

    from rich.console import Console

    from rampconf.outputs import RunResult

__all__ = ["latest_run", "main", "make_console", "print_run", "undefined_notes"]


def _fmt(value: float | None, precision: int) -> str:
    if value is None:
        return "—"
    return "NaN" if value != value else f"{value:.{precision}f}"


def _cell(values: dict[str, float | None], name: str, precision: int) -> str:
    """A score of a summary table: "—" when absent, "NaN" when undefined (JSON null)."""
    if name not in values:
        return "—"
    value = values[name]
    return _fmt(float("nan") if value is None else value, precision)


def _undefined(value: float | None) -> bool:
    """NaN in memory, null once read back from ``summary.json``."""
    return value is None or value != value


def _mean_std(mean: float | None, std: float | None, precision: int) -> str:
    """``mean ± std``, or ``NaN`` alone for a score without a value (explained below the tables).

    The std has one more decimal than the mean, as ``ramp-test`` prints it
    (``0.38 ± 0.005``): a spread below the mean's last digit stays visible.
    """
    if _undefined(mean):
        return "NaN"
    return f"{_fmt(mean, precision)} ± {_fmt(std, precision + 1)}"


def undefined_notes(result: RunResult, skip: Collection[str] = ()) -> list[str]:
    """One line per score that has no value in the summary tables, saying where and why.

    The reason is the one the scoring recorded in ``summary["undefined"]``
    (``{"score", "reason"}`` records) when there is one; otherwise the line
    says in which folds the score had no value. Scores named in ``skip`` (those
    already explained by the scoring's warnings) are left out.
    """
    summary = result.summary
    reasons: dict[str, list[str]] = {}
    for record in summary.get("undefined") or []:
        reasons.setdefault(str(record["score"]), []).append(str(record["reason"]))
    scores = result.scores
    lines = []
    for name in summary["score_names"]:
        if name in skip:
            continue
        where = [step for step in ("train", "valid", "test")
                 if name in summary["mean"].get(step, {})
                 and _undefined(summary["mean"][step][name])]
        where += [f"bagged {step}" for step in ("valid", "test")
                  if name in summary["bagged"].get(step, {})
                  and _undefined(summary["bagged"][step][name])]
        if not where:
            continue
        why = "; ".join(dict.fromkeys(reasons.get(name, [])))
        if not why:
            values = scores[scores["score"] == name] if not scores.empty else scores
            missing = sorted({int(f) for f, v in zip(values["fold"], values["value"],
                                                     strict=True) if _undefined(v)}) \
                if not values.empty else []
            folds = sorted({int(f) for f in values["fold"]}) if not values.empty else []
            why = "no value in any fold" if missing == folds else \
                f"no value in fold(s) {', '.join(map(str, missing))}"
        lines.append(f"{name}: undefined ({', '.join(where)}): {why}")
    return lines


def make_console() -> Console:
    """A console for tables: the terminal's width, or 200 columns when output is not a terminal."""

    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)


def _print_table(console: Console, title: str, table: Any) -> None:
    """A table under its title, printed as a line of its own.

    rich would wrap a title longer than its table (a run with one score), at
    any console width; a title line is never wrapped nor cut (a terminal
    narrower than the title folds it as any long line).
    """
    from rich.text import Text

    console.print(Text(title, style="table.title"), no_wrap=True, overflow="ignore", crop=False)
    console.print(table)


def print_run(result: RunResult, console: Console | None = None) -> None:
    """Print the per-fold, mean ± std and bagged tables of a run."""
    import pandas as pd
    from rich.table import Table

    console = console or make_console()
    summary = result.summary
    names: list[str] = summary["score_names"]
    precision: dict[str, int] = summary["precisions"]
    official = summary["official_score"]
    title = f"{summary['problem']} / {summary['submission']}"

    def header(table: Table, first: str, extra: list[str] | None = None) -> None:
        table.add_column(first, style="bold", no_wrap=True)
        for name in names:
            table.add_column(f"[u]{name}[/u]" if name == official else name, justify="right",
                             no_wrap=True)
        for column in extra or []:
            table.add_column(column, justify="right", no_wrap=True)

    folds = Table()
    header(folds, "fold  step", ["time (s)"])
    scores = result.scores if not result.scores.empty else \
        pd.DataFrame(columns=["fold", "step", "score", "value"])
    times = result.folds.set_index("fold") if not result.folds.empty else None
    for fold in sorted(result.folds["fold"].tolist() if not result.folds.empty else []):
        status = times.loc[fold, "status"] if times is not None else "ok"
        if status != "ok":
            folds.add_row(f"{fold}  {status}", *["—"] * len(names), "—", style="red")
            continue
        for step in ("train", "valid", "test"):
            values = scores[(scores["fold"] == fold) & (scores["step"] == step)]
            lookup = dict(zip(values["score"], values["value"], strict=True))
            seconds = times.loc[fold, f"{step}_time"] if times is not None else None
            folds.add_row(f"{fold}  {step}",
                          *[_fmt(lookup.get(n), precision[n]) for n in names],
                          _fmt(seconds, 2), end_section=step == "test")
    _print_table(console, f"{title}: folds", folds)

    mean = Table()
    header(mean, "step")
    for step in ("train", "valid", "test"):
        if step in summary["mean"]:
            mean.add_row(step, *[
                _mean_std(summary["mean"][step][n], summary["std"][step].get(n), precision[n])
                if n in summary["mean"][step] else "—" for n in names])
    _print_table(console, f"{title}: mean ± std over {summary['n_folds_ok']} folds", mean)

    bagged = Table()
    header(bagged, "step")
    for step in ("valid", "test"):
        if step in summary["bagged"]:
            bagged.add_row(step, *[_cell(summary["bagged"][step], n, precision[n])
                                   for n in names])
    _print_table(console, f"{title}: bagged over folds", bagged)
    if summary.get("retrain"):
        retrain = Table()
        header(retrain, "step")
        for step, values in summary["retrain"].items():
            retrain.add_row(step, *[_cell(values, n, precision[n]) for n in names])
        _print_table(console, f"{title}: retrained on all training data", retrain)
    from rampconf.scoring import undefined_warnings

    recorded = summary.get("undefined") or []
    for line in undefined_warnings(recorded):
        console.print(f"[yellow]warning:[/yellow] {line}", highlight=False)
    for line in undefined_notes(result, skip={str(r["score"]) for r in recorded}):
        console.print(f"[yellow]{line}[/yellow]", highlight=False)
    if summary.get("description"):
        console.print(f"submission {summary['submission']}: {summary['description']}",
                      highlight=False)
    if summary["status"] == "interrupted":
        console.print(f"[yellow]interrupted after {summary.get('n_folds_done', 0)} of "
                      f"{summary['n_folds']} folds[/yellow] (by "
                      f"{summary.get('interrupted_by', 'a signal')}): the tables hold the "
                      "folds that finished")
    if summary["failed_folds"]:
        failed = ", ".join(map(str, summary["failed_folds"]))
        console.print(f"[red]failed folds: {failed}[/red] (tracebacks in errors/)")


def latest_run(folder: Path) -> Path:
    """``folder`` when it is a run directory, else its latest run (newest ``summary.json``).

    So ``rampconf-report outputs/iris/starting_kit`` shows the last run of
    that submission without typing its time stamp.
    """
    if (folder / "summary.json").is_file() or not folder.is_dir():
        return folder
    runs = [child for child in folder.iterdir() if (child / "summary.json").is_file()]
    if not runs:
        return folder
    return max(runs, key=lambda run: ((run / "summary.json").stat().st_mtime, run.name))


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rampconf-report``."""
    from rampconf.outputs import load_run

    parser = argparse.ArgumentParser(prog="rampconf-report",
                                     description="Print the tables of a finished rampconf run.")
    parser.add_argument("run_dir", help="a run directory (holds summary.json), or a folder of "
                                        "runs (then its latest run)")
    parser.add_argument("--html", nargs="?", const="", metavar="FILE",
                        help="also write the HTML report: tables, plots, pictures of the "
                             "predictions, config and versions (default FILE: "
                             "RUN_DIR/report.html)")
    args = parser.parse_args(argv)
    run_dir = latest_run(Path(args.run_dir))
    try:
        result = load_run(run_dir)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if run_dir != Path(args.run_dir):
        print(f"run directory: {run_dir}")
    print_run(result)
    if args.html is not None:
        from rampconf.html_report import write_run_report

        path = write_run_report(result, args.html or None)
        print(f"HTML report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
