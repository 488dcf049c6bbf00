"""Leaderboards: many runs of a problem ranked by a score, with honest comparisons.

From a notebook::

    from rampconf.leaderboard import make_leaderboards
    boards = make_leaderboards(["outputs", "multirun"])   # run directories or folders
    boards[0].frame                                     # one row per submission

A board holds comparable runs only (same problem, official score, data files
and folds; :mod:`rampconf.runs`); runs of one problem on other folds get a
board of their own and a note saying why. Each entry is compared with the
leader: Nadeau–Bengio's corrected t-test on the paired fold scores and a
bootstrap interval of the bagged test difference (:mod:`rampconf.significance`).
The command line is ``rampconf-leaderboard`` (:mod:`rampconf.process_cli`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rampconf.runs import RunInfo, as_run

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Sequence

    from rampconf.outputs import RunResult

__all__ = ["Column", "Leaderboard", "make_leaderboard", "make_leaderboards", "select_entries",
           "why_apart"]

STATS = ("mean", "std", "bagged", "retrain")


@dataclass(frozen=True)
class Column:
    """A score column of a leaderboard: ``summary[stat][step][score]`` of each run.

    ``stat`` is ``mean``, ``std``, ``bagged`` or ``retrain``; ``step`` any step
    the runs' summaries have (``train``, ``valid``, ``test``, or a step of your
    own, e.g. a public and a private test set); ``label`` the column's title.
    """

    stat: str
    step: str
    score: str
    label: str | None = None

    @classmethod
    def parse(cls, text: str) -> Column:
        """``STAT.STEP.SCORE`` (e.g. ``bagged.test.acc``), optionally ``=LABEL`` after it."""
        spec, _, label = text.partition("=")
        parts = spec.split(".", 2)
        if len(parts) != 3 or parts[0] not in STATS:
            raise ValueError(f"column {text!r}: expected STAT.STEP.SCORE with STAT one of "
                             f"{', '.join(STATS)}, e.g. bagged.test.acc")
        return cls(parts[0], parts[1], parts[2], label or None)

    @property
    def name(self) -> str:
        """The column's title: its label, else ``score step`` (``score bagged step``)."""
        if self.label:
            return self.label
        return f"{self.score} {self.step}" if self.stat == "mean" else \
            f"{self.score} {self.stat} {self.step}"

    def value(self, run: RunInfo) -> float:
        """The run's value (NaN when it has none)."""
        value = run.table(self.stat).get(self.step, {}).get(self.score)
        return float("nan") if value is None else float(value)


@dataclass
class Leaderboard:
    """Comparable runs of one problem, ranked.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per entry, ranked entries first: ``rank`` (NaN for runs not
        ranked), ``submission``, one column per :class:`Column`, then with
        comparisons ``p_value`` (Nadeau–Bengio, fold scores against the
        leader), ``test_diff``, ``test_diff_low``, ``test_diff_high`` (bagged
        test score minus the leader's, bootstrap interval), ``mark`` (``*``:
        p < alpha, ``†``: the interval excludes 0), and ``train_time``,
        ``predict_time`` (mean seconds per fold), ``status``, ``started``,
        ``params``, ``run_dir``.
    runs : list of RunInfo
        The entries, in the rows' order.
    notes : list of str
        What the table does not say: how it is ranked, what the marks mean,
        which runs are elsewhere and why.
    """

    problem: str
    rank_by: Column
    greater_is_better: bool
    columns: list[Column]
    cv: str
    folds_id: str
    frame: pd.DataFrame
    runs: list[RunInfo]
    notes: list[str] = field(default_factory=list)
    precisions: dict[str, int] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.problem}: ranked by {self.rank_by.name} ({self.cv}, folds {self.folds_id})"

    def display_frame(self) -> pd.DataFrame:
        """The table as text cells: rounded scores, ``mean ± std``, marks and short dates."""
        from rampconf.leaderboard_format import display_frame

        return display_frame(self)

    def table(self) -> pd.DataFrame:
        """:attr:`frame` with the board's ``problem``, ``cv`` and ``folds`` first."""
        return pd.concat([pd.DataFrame({"problem": self.problem, "cv": self.cv,
                                        "folds": self.folds_id}, index=self.frame.index),
                          self.frame], axis=1)

    def to_csv(self) -> str:
        """:meth:`table` as CSV (full precision)."""
        return self.table().to_csv(index=False, float_format="%.17g")

    def to_markdown(self) -> str:
        from rampconf.leaderboard_format import markdown

        return markdown(self)


def _direction(run: RunInfo, score: str) -> bool:
    directions = run.summary.get("directions") or {}
    if score in directions:
        return directions[score] == "max"
    return bool(run.summary.get("greater_is_better", True))


def _sort_value(value: float, greater_is_better: bool) -> float:
    if math.isnan(value):
        return math.inf
    return -value if greater_is_better else value


def select_entries(runs: list[RunInfo], rank_by: Column, ranked: Sequence[str]
            ) -> list[tuple[RunInfo, str]]:
    """Per submission its newest ranked run; per sweep its best ranked trial; else the newest.

    Returns the chosen runs with their labels (a sweep's: ``best of N trials``).
    """
    by_key: dict[tuple[str, str], list[RunInfo]] = {}
    for run in runs:
        name = run.label if "blend" in run.metadata else run.submission
        by_key.setdefault((name, str(run.sweep_dir or "")), []).append(run)
    chosen = []
    for members in by_key.values():
        good = [r for r in members if r.status in ranked]
        if members[0].sweep_dir is not None:
            better = _direction(members[0], rank_by.score)
            best = min(good, key=lambda r: _sort_value(rank_by.value(r), better)) if good \
                else max(members, key=lambda r: r.started)
            chosen.append((best, f"{best.submission} (trial {best.trial}, best of "
                                 f"{len(members)})"))
        else:
            # The newest; a re-scored run (same training, more scores) before its source.
            newest = max(good or members, key=lambda r: (
                r.started, str(r.metadata.get("rescored", "")), str(r.run_dir)))
            chosen.append((newest, newest.label))
    return chosen


def _default_columns(official: str, scores: Sequence[str]) -> list[Column]:
    columns = [Column("mean", "valid", official), Column("std", "valid", official),
               Column("bagged", "valid", official), Column("bagged", "test", official)]
    for name in scores:
        if name != official:
            columns += [Column("mean", "valid", name), Column("bagged", "valid", name),
                        Column("bagged", "test", name)]
    return columns


def make_leaderboard(
    runs: Iterable[RunInfo | RunResult | str | os.PathLike[str]],
    columns: Sequence[Column | str] | None = None,
    rank_by: Column | str | None = None,
    scores: Sequence[str] | str = (),
    latest: bool = True,
    ranked_statuses: Sequence[str] = ("ok",),
    rank_blends: bool = False,
    compare: bool = True,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    alpha: float = 0.05,
    random_state: int = 0,
    test_rows: np.ndarray | None = None,
) -> Leaderboard:
    """Rank an explicit list of comparable runs.

    Parameters
    ----------
    runs
        Run directories (or their :class:`RunInfo` / :class:`RunResult`), all
        of one problem, on the same folds and data (else ``ValueError``; see
        :func:`make_leaderboards` to sort any runs into boards).
    columns
        Score columns (:class:`Column` or ``"STAT.STEP.SCORE"``); default: the
        official score's mean ± std valid, bagged valid and bagged test, and
        the same for each of ``scores``.
    rank_by
        The column that ranks (default: the official score's mean valid); its
        score's direction comes from the runs' summaries.
    scores
        More scores in the default columns, or ``"all"``.
    latest
        One entry per submission (its newest run of a ranked status) and per
        sweep (its best trial); False: every run.
    ranked_statuses
        Statuses that are ranked; other runs are listed below, unranked.
    rank_blends
        Rank blends (:mod:`rampconf.blend`) too. By default they are listed
        below, unranked: their members were chosen on the valid rows, so their
        valid scores are optimistic and no honest rival of a submission's.
    compare
        Compare each ranked entry with the leader (t-test on the fold scores of
        the ranking score's step, bootstrap on the bagged test predictions).
    n_bootstrap, confidence, alpha, random_state
        Bootstrap resamples, interval coverage, level of the marks, seed.
    test_rows
        Test rows the bootstrap resamples (default all), e.g. a private part.
    """
    from rampconf.comparison import compare_entries

    infos = [as_run(run) for run in runs]
    if not infos:
        raise ValueError("no runs to rank")
    keys = {run.comparable_key for run in infos}
    if len(keys) > 1:
        raise ValueError("these runs are not comparable (problem, official score, data files "
                         f"or folds differ): {sorted(keys)}; use make_leaderboards")
    first = max(infos, key=lambda r: r.status == "ok")
    official = first.official_score
    names = list(first.summary.get("score_names") or [official])
    extra = names if scores == "all" else list(scores)
    rank_column = Column.parse(rank_by) if isinstance(rank_by, str) else \
        rank_by or Column("mean", "valid", official)
    cols = [Column.parse(c) if isinstance(c, str) else c for c in columns] if columns else \
        _default_columns(official, extra)
    if rank_column.name not in [c.name for c in cols]:
        cols.insert(0, rank_column)
    better = _direction(first, rank_column.score)
    selected = select_entries(infos, rank_column, ranked_statuses) if latest else \
        [(run, run.label) for run in infos]
    entries = [run for run, _ in selected]
    labels = {str(run.run_dir): label for run, label in selected}
    ranked = [r for r in entries if r.status in ranked_statuses
              and not math.isnan(rank_column.value(r))
              and (rank_blends or "blend" not in r.metadata)]
    ranked.sort(key=lambda r: (_sort_value(rank_column.value(r), better), r.started))
    rest = sorted((r for r in entries if r not in ranked), key=lambda r: r.started, reverse=True)
    # Blends first below the ranked entries: they are compared with the leader on test.
    blends = [r for r in rest if "blend" in r.metadata and r.status in ranked_statuses]
    rest = [*blends, *(r for r in rest if r not in blends)]
    rows = []
    for position, run in enumerate([*ranked, *rest]):
        train_time, predict_time = run.mean_times()
        row: dict[str, Any] = {"rank": position + 1 if position < len(ranked) else np.nan,
                               "submission": labels[str(run.run_dir)]}
        row.update({c.name: c.value(run) for c in cols})
        row.update({"train_time": train_time, "predict_time": predict_time,
                    "status": run.status, "started": run.started,
                    "params": ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                        for k, v in run.params.items()),
                    "run_dir": str(run.run_dir)})
        rows.append(row)
    frame = pd.DataFrame(rows)
    notes = [f"ranked by {rank_column.name} ({'greater' if better else 'lower'} is better); "
             f"runs with status {' or '.join(ranked_statuses)} are ranked"]
    if compare and len(ranked) + len(blends) > 1 and ranked:
        found, lines = compare_entries([*ranked, *blends], rank_column, n_bootstrap=n_bootstrap,
                                       confidence=confidence, alpha=alpha,
                                       random_state=random_state, test_rows=test_rows,
                                       test_only=len(blends))
        frame = frame.join(pd.DataFrame(found, index=range(len(found))))
        notes += lines
    for run in (r for r in entries if "blend" in r.metadata):
        members = ", ".join(m["label"] for m in run.metadata["blend"]["members"])
        notes.append(f"{labels[str(run.run_dir)]} ({run.run_dir.name}): {members}; its valid "
                     "scores are optimistic (its members were chosen on the same valid rows)"
                     + ("" if rank_blends else ", so it is not ranked"
                        + ("; its Δ test is against the leader" if compare else "")))
    precisions = {**(first.summary.get("precisions") or {})}
    return Leaderboard(problem=first.problem, rank_by=rank_column, greater_is_better=better,
                       columns=cols, cv=first.cv_text, folds_id=first.folds_id or "unknown",
                       frame=frame, runs=[*ranked, *rest], notes=notes, precisions=precisions)


def why_apart(run: RunInfo, other: RunInfo) -> str:
    """Why two runs of one problem are not ranked together."""
    if run.official_score != other.official_score:
        return f"another official score ({run.official_score})"
    if run.data_id != other.data_id:
        return "other data files (their SHA-256 differ)"
    if run.folds_id is None:
        return run.why_no_folds_id
    if run.cv_text != other.cv_text:
        return f"other CV folds ({run.cv_text})"
    return "other CV folds (same CV settings, other rows: another seed or other data order)"


def make_leaderboards(
    runs: Iterable[RunInfo | RunResult | str | os.PathLike[str]] | None = None,
    paths: Iterable[str | os.PathLike[str]] = (),
    problem: str | None = None,
    **options: Any,
) -> list[Leaderboard]:
    """Sort runs into boards of comparable runs and rank each (see :func:`make_leaderboard`).

    Parameters
    ----------
    runs
        Runs given one by one; ``paths`` adds every run found under folders
        (:func:`rampconf.runs.find_runs`, sweep trials included).
    problem
        Keep only this problem's runs.
    **options
        Passed to :func:`make_leaderboard`.

    Returns
    -------
    list of Leaderboard
        Per problem (sorted by name), its boards, the one with most runs first.
        Each board's notes say which runs of the problem are on another board, and why.
    """
    from rampconf.runs import find_runs

    infos = [as_run(run) for run in runs or []]
    infos += find_runs(paths) if paths else []
    if problem is not None:
        infos = [run for run in infos if run.problem == problem]
    groups: dict[tuple[str, str, str, str], list[RunInfo]] = {}
    for run in infos:
        if "official_score" in run.summary:
            groups.setdefault(run.comparable_key, []).append(run)
    ordered = sorted(groups.values(), key=lambda g: (g[0].problem, -len(g), g[0].started))
    boards = []
    for members in ordered:
        board = make_leaderboard(members, **options)
        others = [g for g in ordered if g[0].problem == members[0].problem and g is not members]
        for group in others:
            board.notes.append(f"{len(group)} run(s) of {group[0].problem} are on another board: "
                               f"{why_apart(group[0], members[0])}")
        boards.append(board)
    return boards
