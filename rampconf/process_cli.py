"""Commands around many runs: ``rampconf-leaderboard``, ``rampconf-blend``, ``rampconf-rescore``.

Each is a thin layer over its library (:mod:`rampconf.leaderboard`,
:mod:`rampconf.blend`, :mod:`rampconf.rescore`). Errors are one line on
standard error: exit code 2 for bad arguments, configuration or data, as for a run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rampconf.errors import RampconfError

if TYPE_CHECKING:
    from collections.abc import Callable

    from rampconf.runs import RunInfo

__all__ = ["blend_main", "leaderboard_main", "rescore_main", "select_runs"]

DEFAULT_FOLDERS = ("outputs", "multirun")


def _folders(given: list[str]) -> list[str]:
    """The folders given, or ``outputs`` and ``multirun`` where they exist."""
    if given:
        return given
    found = [name for name in DEFAULT_FOLDERS if Path(name).is_dir()]
    if not found:
        raise RampconfError("no folder given, and neither outputs/ nor multirun/ exists here")
    return found


def _guarded(command: str, body: Callable[[], int]) -> int:
    """Run ``body``; a user's error (bad arguments, configuration, data) is one line, exit 2."""
    try:
        return body()
    except (RampconfError, FileNotFoundError, ValueError) as exc:
        for line in getattr(exc, "lines", None) or [str(exc)]:
            print(f"{command}: error: {line}", file=sys.stderr)
        return 2


def select_runs(paths: list[str], problem: str | None = None,
                submissions: list[str] | None = None) -> tuple[list[RunInfo], list[str]]:
    """The runs a blend takes, and notes on the runs left out.

    Per submission its newest successful run, per sweep its best trial, among
    the runs on the same folds and data: the set of comparable runs with the
    most submissions. ``submissions`` keeps runs whose submission name (or
    label) is listed, in that order; blends are left out unless named.

    Raises
    ------
    RampconfError
        No run, runs of several problems without ``problem``, or a name not found.
    """
    from rampconf.leaderboard import Column, select_entries, why_apart
    from rampconf.runs import find_runs

    runs = [run for run in find_runs(paths, problem) if run.status == "ok"]
    problems = sorted({run.problem for run in runs})
    if not runs:
        raise RampconfError(f"no successful run found in {', '.join(paths)}"
                            + (f" for problem {problem}" if problem else ""))
    if len(problems) > 1:
        raise RampconfError(f"runs of several problems found ({', '.join(problems)}): choose "
                            "one with --problem")
    groups: dict[tuple[str, str, str, str], list[RunInfo]] = {}
    for run in runs:
        if submissions or "blend" not in run.metadata:
            groups.setdefault(run.comparable_key, []).append(run)
    rank_by = Column("mean", "valid", runs[0].official_score)
    chosen_by_group = {}
    for key, members in groups.items():
        chosen = [run for run, _ in select_entries(members, rank_by, ("ok",))]
        if submissions:
            chosen = [r for name in submissions for r in chosen if name in (r.submission, r.label)]
        chosen_by_group[key] = sorted(chosen, key=lambda r: r.submission) if not submissions \
            else chosen
    best = max(chosen_by_group, key=lambda k: (len(chosen_by_group[k]),
                                               max(r.started for r in groups[k])))
    picked = chosen_by_group[best]
    if submissions:
        for name in submissions:
            if not any(name in (r.submission, r.label) for r in picked):
                names = sorted({r.submission for r in picked})
                raise RampconfError(f"--submissions: no successful run of {name!r} on the same "
                                    f"folds as {', '.join(names) or 'the others'}")
    notes = [f"left out: {run.label} ({run.run_dir}): {why_apart(run, picked[0])}"
             for key, chosen in chosen_by_group.items() if key != best for run in chosen]
    return picked, notes


def leaderboard_main(argv: list[str] | None = None) -> int:
    """Entry point of ``rampconf-leaderboard``."""
    parser = argparse.ArgumentParser(
        prog="rampconf-leaderboard",
        description="Rank the runs found under OUTPUTS (run directories, sweeps), per problem "
                    "and set of CV folds, with comparisons against the leader.")
    parser.add_argument("outputs", nargs="*", help="folders of runs (default: outputs and "
                                                   "multirun, where they exist)")
    parser.add_argument("--problem", help="only this problem")
    parser.add_argument("--all", action="store_true", dest="all_runs",
                        help="every run and trial (default: per submission its newest "
                             "successful run, per sweep its best trial)")
    parser.add_argument("--scores", default="", help="more scores as columns: comma-separated "
                                                     "names, or 'all'")
    parser.add_argument("--columns", nargs="+", metavar="STAT.STEP.SCORE",
                        help="the score columns instead (e.g. mean.valid.auc bagged.test.acc)")
    parser.add_argument("--rank-by", metavar="STAT.STEP.SCORE",
                        help="the ranking column (default: mean.valid.<official score>)")
    parser.add_argument("--format", choices=("table", "csv", "markdown", "html"),
                        default="table")
    parser.add_argument("--output", help="write to this file instead of standard output")
    parser.add_argument("--rank-blends", action="store_true",
                        help="rank blends too (their valid scores are optimistic)")
    parser.add_argument("--no-compare", action="store_true",
                        help="skip the t-test and the bootstrap")
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--alpha", type=float, default=0.05, help="level of the marks")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    args = parser.parse_args(argv)

    def body() -> int:
        from rampconf.leaderboard import make_leaderboards
        from rampconf.outputs import write_atomic

        scores: str | list[str] = "all" if args.scores == "all" else \
            [s for s in args.scores.split(",") if s]
        boards = make_leaderboards(paths=_folders(args.outputs), problem=args.problem,
                                   columns=args.columns, rank_by=args.rank_by, scores=scores,
                                   latest=not args.all_runs, rank_blends=args.rank_blends,
                                   compare=not args.no_compare,
                                   n_bootstrap=args.n_bootstrap, alpha=args.alpha,
                                   random_state=args.seed)
        if not boards:
            raise RampconfError("no run found" + (f" for problem {args.problem}"
                                                  if args.problem else ""))
        if args.format == "table" and not args.output:
            from rampconf.leaderboard_format import print_leaderboards
            from rampconf.report import make_console

            print_leaderboards(boards, make_console())
            return 0
        if args.format == "html":
            from rampconf.html_report import leaderboard_page

            text = leaderboard_page(boards)
        elif args.format == "csv":
            import pandas as pd

            text = pd.concat([board.table() for board in boards]).to_csv(
                index=False, float_format="%.17g")
        elif args.format == "markdown":
            text = "\n".join(b.to_markdown() for b in boards)
        else:
            import io

            from rich.console import Console

            from rampconf.leaderboard_format import print_leaderboards

            console = Console(record=True, width=200, file=io.StringIO())
            print_leaderboards(boards, console)
            text = console.export_text()
        if args.output:
            write_atomic(Path(args.output), text)
            print(f"leaderboard: {args.output}")
        else:
            sys.stdout.write(text)
        return 0

    return _guarded("rampconf-leaderboard", body)


def blend_main(argv: list[str] | None = None) -> int:
    """Entry point of ``rampconf-blend``."""
    parser = argparse.ArgumentParser(
        prog="rampconf-blend",
        description="Blend the saved fold predictions of runs of one problem (greedy forward "
                    "selection with replacement, fold by fold on the valid rows), then bag.")
    parser.add_argument("outputs", nargs="*", help="folders of runs (default: outputs and "
                                                   "multirun, where they exist)")
    parser.add_argument("--problem", help="the problem (needed when the folders hold several)")
    parser.add_argument("--submissions", nargs="+", metavar="NAME",
                        help="the submissions to blend, in this order (default: all)")
    parser.add_argument("--score", help="the score that chooses (default: the official one)")
    parser.add_argument("--max-size", type=int, default=80,
                        help="largest ensemble per fold, repeats counted (default 80)")
    parser.add_argument("--min-improvement", type=float, default=0.0,
                        help="a member is added when the score improves by more (default 0)")
    parser.add_argument("--output", help="the blend's run directory (default "
                                         "outputs/<problem>/blend/<timestamp>)")
    args = parser.parse_args(argv)

    def body() -> int:
        from rampconf.blend import blend
        from rampconf.report import make_console

        runs, notes = select_runs(_folders(args.outputs), args.problem, args.submissions)
        for note in notes:
            print(note, file=sys.stderr)
        result = blend(runs, score=args.score, max_size=args.max_size,
                       min_improvement=args.min_improvement, output_dir=args.output)
        from rich.table import Table

        console = make_console()

        table = Table(title="contributivity (share of the blend, mean over folds)",
                      title_justify="left")
        for name in ("submission", "contributivity (%)", "run directory"):
            table.add_column(name, justify="right" if "%" in name else "left")
        where = {m.label: str(m.run_dir) for m in result.members}
        for row in result.contributivity_table().itertuples(index=False):
            table.add_row(row.submission, f"{row.contributivity:.1f}", where[row.submission])
        console.print(table)
        official = result.run.official_score
        best = result.scores[(result.scores["score"] == official)
                             & ~result.scores["entry"].isin(["blend", "foldwise_best"])]
        scores = Table(title=f"bagged {official}: the blend and the best single submission",
                       title_justify="left")
        for name in ("", "valid", "test"):
            scores.add_column(name, justify="left" if not name else "right")
        wide = result.scores[result.scores["score"] == official].pivot_table(
            index="entry", columns="step", values="value", sort=False)
        greater = bool(result.run.summary["greater_is_better"])
        valid = best[best["step"] == "valid"].set_index("entry")["value"]
        leader = valid.idxmax() if greater else valid.idxmin()
        for entry, label in (("blend", "blend"), ("foldwise_best", "each fold's best"),
                             (leader, f"best single: {leader}")):
            scores.add_row(label, *[f"{wide.loc[entry, step]:.4f}" for step in
                                    ("valid", "test")])
        console.print(scores)
        console.print(f"blend run directory: {result.run.run_dir} "
                      "(contributivity.csv, blend_scores.csv)")
        return 0

    return _guarded("rampconf-blend", body)


def rescore_main(argv: list[str] | None = None) -> int:
    """Entry point of ``rampconf-rescore``."""
    parser = argparse.ArgumentParser(
        prog="rampconf-rescore",
        description="Recompute every score and the bagging of a run from its saved "
                    "predictions, with scores added or changed by OVERRIDES (Hydra syntax, "
                    "applied to the run's config.yaml); writes a new run directory.",
        epilog="examples: problem.scores.f1_70.threshold=0.6   "
               "+score@problem.scores.f1_50=f1_above problem.scores.f1_50.threshold=0.5   "
               "~problem.scores.nll   compat=ramp")
    parser.add_argument("run_dir", help="the run directory (or a folder of runs: its latest)")
    parser.add_argument("overrides", nargs="*", help="changes of the scores")
    parser.add_argument("--output", help="the new run directory (default <RUN_DIR>_rescored)")
    parser.add_argument("--quiet", action="store_true", help="print only the run directory")
    args = parser.parse_args(argv)

    def body() -> int:
        from rampconf.report import latest_run, make_console, print_run
        from rampconf.rescore import rescore

        result = rescore(latest_run(Path(args.run_dir)), args.overrides, args.output)
        if not args.quiet:
            print_run(result, make_console())
        print(f"run directory: {result.run_dir} (rescored from "
              f"{result.summary['rescored_from']})")
        return 0

    return _guarded("rampconf-rescore", body)
