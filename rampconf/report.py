"""RAMP-style tables of a run, printed with rich; also rebuilt from a run directory.

``rampconf-report RUN_DIR`` (or ``python -m rampconf.report RUN_DIR``) prints the
tables of a finished run without retraining anything.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from rampconf.outputs import RunResult

__all__ = ["main", "make_console", "print_run"]


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


def make_console() -> Console:
    """A console for tables: the terminal's width, or 200 columns when output is not a terminal."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)


def print_run(result: RunResult, console: Console | None = None) -> None:
    """Print the per-fold, mean ± std and bagged tables of a run."""
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

    folds = Table(title=f"{title}: folds", title_justify="left")
    header(folds, "fold  step", ["time (s)"])
    scores = result.scores
    times = result.folds.set_index("fold") if not result.folds.empty else None
    for fold in sorted(result.folds["fold"].tolist() if not result.folds.empty else []):
        status = times.loc[fold, "status"] if times is not None else "ok"
        if status != "ok":
            folds.add_row(f"{fold}  failed", *["—"] * len(names), "—", style="red")
            continue
        for step in ("train", "valid", "test"):
            values = scores[(scores["fold"] == fold) & (scores["step"] == step)]
            lookup = dict(zip(values["score"], values["value"], strict=True))
            seconds = times.loc[fold, f"{step}_time"] if times is not None else None
            folds.add_row(f"{fold}  {step}",
                          *[_fmt(lookup.get(n), precision[n]) for n in names],
                          _fmt(seconds, 2), end_section=step == "test")
    console.print(folds)

    mean = Table(title=f"{title}: mean ± std over {summary['n_folds_ok']} folds",
                 title_justify="left")
    header(mean, "step")
    for step in ("train", "valid", "test"):
        if step in summary["mean"]:
            mean.add_row(step, *[
                f"{_cell(summary['mean'][step], n, precision[n])} ± "
                f"{_cell(summary['std'][step], n, precision[n])}" for n in names])
    console.print(mean)

    bagged = Table(title=f"{title}: bagged over folds", title_justify="left")
    header(bagged, "step")
    for step in ("valid", "test"):
        if step in summary["bagged"]:
            bagged.add_row(step, *[_cell(summary["bagged"][step], n, precision[n])
                                   for n in names])
    console.print(bagged)
    if summary.get("retrain"):
        retrain = Table(title=f"{title}: retrained on all training data", title_justify="left")
        header(retrain, "step")
        for step, values in summary["retrain"].items():
            retrain.add_row(step, *[_cell(values, n, precision[n]) for n in names])
        console.print(retrain)
    from rampconf.scoring import undefined_warnings

    for line in undefined_warnings(summary.get("undefined", [])):
        console.print(f"[yellow]warning:[/yellow] {line}", highlight=False)
    if summary["status"] != "ok":
        failed = ", ".join(map(str, summary["failed_folds"]))
        console.print(f"[red]failed folds: {failed}[/red] (tracebacks in errors/)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rampconf-report``."""
    from rampconf.outputs import load_run

    parser = argparse.ArgumentParser(prog="rampconf-report",
                                     description="Print the tables of a finished rampconf run.")
    parser.add_argument("run_dir", help="a run directory (holds summary.json)")
    args = parser.parse_args(argv)
    try:
        result = load_run(args.run_dir)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_run(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
