"""Leaderboards as text: the rounded display table, Markdown and a rich table."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from rich.console import Console

    from rampconf.leaderboard import Column, Leaderboard

__all__ = ["display_frame", "markdown", "print_leaderboards"]

NUMBER_COLUMNS = ("p_value", "test_diff", "test_diff_low", "test_diff_high")


def _number(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):.{digits}f}".replace("-", "−")


def _digits(board: Leaderboard, column: Column) -> int:
    """One more digit than the run's tables: leaderboard differences are often that small."""
    return board.precisions.get(column.score, 2) + 1


def display_frame(board: Leaderboard) -> pd.DataFrame:
    """The table as text: ``mean ± std`` merged, scores rounded, marks, short dates."""
    frame = board.frame
    out = pd.DataFrame(index=frame.index)
    out["rank"] = [("—" if math.isnan(r) else str(int(r))) for r in frame["rank"]]
    out["submission"] = frame["submission"]
    merged = set()
    for column in board.columns:
        if column.name in merged:
            continue
        digits = _digits(board, column)
        std = next((c for c in board.columns if c.stat == "std" and c.step == column.step
                    and c.score == column.score), None) if column.stat == "mean" else None
        if std is not None:
            merged.add(std.name)
            out[column.name] = [
                "NaN" if math.isnan(m) else f"{_number(m, digits)} ± {_number(s, digits)}"
                for m, s in zip(frame[column.name], frame[std.name], strict=True)]
        else:
            out[column.name] = [_number(v, digits) for v in frame[column.name]]
    if "p_value" in frame:
        digits = _digits(board, board.rank_by)
        marks = [m if isinstance(m, str) else "" for m in frame["mark"]]
        out["p"] = ["leader" if m == "leader" else f"{_number(p, 3)} *" if "*" in m
                    else _number(p, 3) for p, m in zip(frame["p_value"], marks, strict=True)]
        out["Δ test"] = [
            "" if mark == "leader" else "—" if math.isnan(d) else
            f"{_number(d, digits)} [{_number(lo, digits)}, {_number(hi, digits)}]"
            + (" †" if "†" in mark else "")
            for d, lo, hi, mark in zip(frame["test_diff"], frame["test_diff_low"],
                                       frame["test_diff_high"], marks, strict=True)]
    out["train s"] = [_number(v, 2) for v in frame["train_time"]]
    out["pred. s"] = [_number(v, 2) for v in frame["predict_time"]]
    out["status"] = frame["status"]
    out["date"] = [str(s)[5:16].replace("T", " ") for s in frame["started"]]  # MM-DD HH:MM
    out["params"] = frame["params"]
    return out


def markdown(board: Leaderboard) -> str:
    """The board as a Markdown section: title, table, notes."""
    table = display_frame(board)

    def cells(values: list[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    lines = [f"### {board.title}", "", cells(list(table.columns)),
             "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += [cells([str(v) for v in row]) for row in table.itertuples(index=False)]
    lines += ["", *[f"- {note}" for note in board.notes], ""]
    return "\n".join(lines)


def print_leaderboards(boards: list[Leaderboard], console: Console) -> None:
    """Each board as a rich table, the ranking column underlined, notes below."""
    from rich.table import Table

    for board in boards:
        shown = display_frame(board)
        table = Table(title=board.title, title_justify="left")
        for name in shown.columns:
            left = name in ("submission", "status", "date", "params")
            title = f"[u]{name}[/u]" if name == board.rank_by.name else name
            table.add_column(title, justify="left" if left else "right",
                             no_wrap=name != "params", overflow="fold",
                             min_width=14 if name == "params" else None)
        for position, row in enumerate(shown.itertuples(index=False)):
            status = board.frame["status"].iloc[position]
            table.add_row(*map(str, row), style=None if status == "ok" else "red")
        console.print(table)
        for note in board.notes:
            console.print(f"  {note}", highlight=False, soft_wrap=True)
