"""Public and private leaderboards of a challenge, from its evaluations' saved predictions.

Every evaluation predicted the whole test set once; the public and the private
scores are the saved test predictions scored on each part's rows (each fold's,
their mean and std, and the bagged prediction's), so revealing runs nothing.
A board entry is the run read back with its ``test`` step replaced by the parts
shown (``public``; ``public`` and ``private`` once revealed), so the
leaderboard of :mod:`rampconf.leaderboard` ranks it and compares it as any run.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from rampconf.challenge.config import Challenge
    from rampconf.challenge.data import ChallengeData
    from rampconf.leaderboard import Leaderboard
    from rampconf.runs import RunInfo
    from rampconf.saved import ProblemData

__all__ = ["Entries", "part_scores", "select_records", "write_board"]


def part_scores(run: RunInfo, data: ProblemData, parts: dict[str, np.ndarray]
                ) -> dict[str, Any]:
    """Scores of the run's saved test predictions on each part's rows.

    Returns ``{"folds": {fold: {part: {score: value}}}, "mean"|"std"|"bagged"|"retrain":
    {part: {score: value}}}`` (``retrain`` only when the run retrained).
    """
    from rampconf.saved import load_fold_predictions, load_saved
    from rampconf.scoring import Scoring

    folds = load_fold_predictions(run, data.prediction)
    retrain = load_saved(run, data.prediction, "retrain").get("test")
    weights = data.test.weights
    out: dict[str, Any] = {"folds": {f.fold: {} for f in folds}, "mean": {}, "std": {},
                           "bagged": {}, "retrain": {}}
    for part, rows in parts.items():
        w = None if weights is None else weights[rows]
        y_true = data.y_test[rows]
        scoring = Scoring(data.scores, data.y_train, y_true, data.train.weights, w)
        for f in folds:
            out["folds"][f.fold][part] = scoring.rows(y_true, f.y_pred_test[rows], w,
                                                      f"fold {f.fold} {part}")
        names = [s.name for s in data.scores]
        if folds:
            values = {n: np.array([out["folds"][f.fold][part][n] for f in folds]) for n in names}
            out["mean"][part] = {n: float(np.mean(v)) for n, v in values.items()}
            out["std"][part] = {n: float(np.std(v)) for n, v in values.items()}
            bagged = data.prediction.combine([f.y_pred_test for f in folds])
            out["bagged"][part] = scoring.rows(y_true, bagged[rows], w, f"bagged {part}")
        if retrain is not None:
            out["retrain"][part] = scoring.rows(y_true, retrain[rows], w, f"retrain {part}")
    return out


def _entry(run: RunInfo, record: dict[str, Any], scored: dict[str, Any] | None,
           shown: tuple[str, ...]) -> RunInfo:
    """The run with its ``test`` step replaced by the parts ``shown``, labelled student/name."""
    from rampconf.runs import RunInfo

    summary = copy.deepcopy(run.summary)
    summary["submission"] = f"{record['student']}/{record['submission']}"
    summary["status"] = record["status"]
    for stat in ("mean", "std", "bagged", "retrain"):
        table = summary.get(stat)
        if not isinstance(table, dict):
            continue
        table.pop("test", None)
        for part in shown:
            if scored is not None and part in scored[stat]:
                table[part] = scored[stat][part]
    scores = run.result.scores
    scores = scores[scores["step"] != "test"] if not scores.empty else scores
    rows = [{"fold": fold, "step": part, "score": name, "value": value}
            for fold, parts in (scored or {}).get("folds", {}).items()
            for part in shown for name, value in parts.get(part, {}).items()]
    scores = pd.concat([scores, pd.DataFrame(rows, columns=["fold", "step", "score", "value"])],
                       ignore_index=True) if rows else scores
    curve = run.result.bagged
    curve = curve[curve["step"] != "test"] if not curve.empty else curve
    result = replace(run.result, summary=summary, scores=scores, bagged=curve)
    return RunInfo(result=result, metadata=run.metadata, sweep_dir=None)


def select_records(records: list[dict[str, Any]], rule: str,
                   public_value: dict[str, float], greater_is_better: bool
                   ) -> list[dict[str, Any]]:
    """The records that count: per student the newest, or the best public, or all.

    Per ``(student, submission)`` the latest evaluated version only. A student
    with no successful evaluation keeps the newest (to show its failure).
    ``public_value`` maps a record's ``folder`` to its ranking value (never private).
    """
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        key = (record["student"], record["submission"])
        if key not in latest or record["evaluated"] > latest[key]["evaluated"]:
            latest[key] = record
    if rule == "all":
        return sorted(latest.values(), key=lambda r: (r["student"], r["submission"]))
    by_student: dict[str, list[dict[str, Any]]] = {}
    for record in latest.values():
        by_student.setdefault(record["student"], []).append(record)
    chosen = []
    for student in sorted(by_student):
        members = by_student[student]
        ok = [r for r in members if r["status"] == "ok"
              and not math.isnan(public_value.get(r["folder"], math.nan))]
        if rule == "best_public" and ok:
            sign = -1.0 if greater_is_better else 1.0
            chosen.append(min(ok, key=lambda r: (sign * public_value[r["folder"]],
                                                 r["submitted"])))
        else:
            chosen.append(max(ok or members, key=lambda r: (r["submitted"], r["evaluated"])))
    return chosen


class Entries:
    """The evaluations of a challenge read back, with their public and private scores."""

    def __init__(self, challenge: Challenge, data: ChallengeData) -> None:
        from rampconf.challenge.evaluate import load_records
        from rampconf.runs import as_run
        from rampconf.saved import load_run_data

        self.challenge, self.data = challenge, data
        identity = challenge.identity[:12]
        self.records = [r for r in load_records(challenge.results)
                        if r.get("challenge") == identity]
        self.runs: dict[str, RunInfo] = {}
        self.scored: dict[str, dict[str, Any]] = {}
        problem: ProblemData | None = None
        parts = {"public": data.public, "private": data.private}
        for record in self.records:
            if not record.get("run_dir"):
                continue
            run = as_run(record["run_dir"])
            self.runs[record["folder"]] = run
            if run.status in ("ok", "failed") and run.summary.get("n_folds_ok"):
                problem = problem or load_run_data(run)
                self.scored[record["folder"]] = part_scores(run, problem, parts)
        first = next((r.summary for r in self.runs.values() if "official_score" in r.summary),
                     {})  # when no fold ran anywhere, the boards still list the runs
        self.official = problem.scores[0].name if problem else first.get("official_score")
        self.greater_is_better = problem.scores[0].greater_is_better if problem else \
            bool(first.get("greater_is_better", True))

    def public_values(self) -> dict[str, float]:
        """Each record's ranking value on the public board (bagged public or mean valid)."""
        values: dict[str, float] = {}
        if self.official is None:
            return values
        for folder, scored in self.scored.items():
            if self.challenge.config.rank_public_by == "valid":
                value = self.runs[folder].table("mean").get("valid", {}).get(self.official)
            else:
                value = scored["bagged"].get("public", {}).get(self.official)
            values[folder] = math.nan if value is None else float(value)
        return values

    def chosen(self) -> list[dict[str, Any]]:
        return select_records(self.records, self.challenge.config.select,
                              self.public_values(), self.greater_is_better)

    def board(self, private: bool) -> Leaderboard | None:
        """The public board (``private=False``) or the final one, or None without runs."""
        from rampconf.leaderboard import Column, make_leaderboard

        shown = ("public", "private") if private else ("public",)
        chosen = [r for r in self.chosen() if r["folder"] in self.runs]
        if not chosen or self.official is None:
            return None
        runs = [_entry(self.runs[r["folder"]], r, self.scored.get(r["folder"]), shown)
                for r in chosen]
        off = self.official
        columns = [Column("mean", "valid", off), Column("std", "valid", off),
                   Column("bagged", "valid", off), Column("bagged", "public", off)]
        if private:
            columns.append(Column("bagged", "private", off))
            rank_by = Column("bagged", "private", off)
        elif self.challenge.config.rank_public_by == "valid":
            rank_by = Column("mean", "valid", off)
        else:
            rank_by = Column("bagged", "public", off)
        board = make_leaderboard(runs, columns=columns, rank_by=rank_by, latest=False,
                                 test_rows=self.data.private if private else self.data.public)
        part = "private" if private else "public"
        board.notes.append(f"Δ test: the bagged test score minus the leader's on the {part} "
                           f"test rows ({len(self.data.private if private else self.data.public)}"
                           f" of {self.data.n_test})")
        return board

    def not_run(self) -> list[dict[str, Any]]:
        """Chosen records without a run (an error before any fold, a crash, a timeout)."""
        return [r for r in self.chosen() if r["folder"] not in self.runs]

    def evaluations_frame(self) -> pd.DataFrame:
        """Every evaluation: student, submission, status, error, public score, times."""
        values = self.public_values()
        rows = [{"student": r["student"], "submission": r["submission"],
                 "status": r["status"], "public": values.get(r["folder"], math.nan),
                 "error": r.get("error", ""), "submitted": r.get("submitted", ""),
                 "evaluated": r.get("evaluated", ""), "seconds": r.get("elapsed_seconds"),
                 "hash": r["hash"][:16], "folder": r["folder"]} for r in self.records]
        return pd.DataFrame(rows, columns=["student", "submission", "status", "public", "error",
                                           "submitted", "evaluated", "seconds", "hash",
                                           "folder"])


def write_board(entries: Entries, private: bool) -> dict[str, str]:
    """Write the public (or private) leaderboard as CSV and HTML; the paths written."""
    from rampconf.challenge.pages import board_page
    from rampconf.outputs import write_atomic, write_csv

    results = entries.challenge.results
    name = "private_leaderboard" if private else "public_leaderboard"
    board = entries.board(private)
    table = board.table() if board is not None else pd.DataFrame()
    missing = entries.not_run()
    if missing:
        extra = pd.DataFrame([{"submission": f"{r['student']}/{r['submission']}",
                               "status": r["status"], "error": r.get("error", "")}
                              for r in missing])
        table = pd.concat([table, extra], ignore_index=True)
    if not private and not table.empty:  # whole-test columns never reach the public page
        table = table[[c for c in table.columns if "private" not in c]]
    write_csv(results / f"{name}.csv", table)
    write_atomic(results / f"{name}.html", board_page(entries, board, missing, private))
    write_csv(results / "evaluations.csv", entries.evaluations_frame())
    if private:
        write_atomic(results / "revealed.json", json.dumps(
            {"challenge": entries.challenge.identity[:12],
             "n_private": len(entries.data.private)}))
    return {"csv": str(results / f"{name}.csv"), "html": str(results / f"{name}.html")}
