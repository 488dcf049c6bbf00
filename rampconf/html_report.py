"""Self-contained HTML pages: a run's report and leaderboards.

One file, nothing to fetch: the CSS is inline and the pictures are PNG images
embedded as base64. The pictures are drawn with matplotlib (the ``plots``
extra) on ``matplotlib.figure.Figure`` objects, never through pyplot, so the
caller's backend and figures are left alone; without matplotlib the page
has its tables and says which command installs the pictures.

>>> from rampconf.html_report import run_report
>>> html = run_report("outputs/iris/starting_kit/2026-11-28_10-00-00")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import os

    from matplotlib.figure import Figure

    from rampconf.leaderboard import Leaderboard
    from rampconf.outputs import RunResult
    from rampconf.runs import RunInfo

__all__ = ["leaderboard_page", "run_report", "write_run_report"]

STEPS = ("train", "valid", "test")
COLOURS = {"train": "#7f7f7f", "valid": "#1f77b4", "test": "#d62728"}
#: Pictures from the run's ``figures/`` folder (detection overlays) shown at most.
MAX_RUN_FIGURES = 8
STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto;
       max-width: 1200px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.6em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f0f3f7; } td.text, th.text { text-align: left; white-space: normal; }
tr.failed td { color: #b00020; } th.official { text-decoration: underline; }
.meta { color: #555; font-size: 0.9em; } .note { color: #8a5a00; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; } .figures figure { margin: 0; }
figcaption { font-size: 0.85em; color: #555; text-align: center; }
img { max-width: 100%; border: 1px solid #eee; }
.scroll { overflow-x: auto; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _page(title: str, body: list[str]) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(body)
            + f"\n<p class=\"meta\">written by rampconf on {stamp}</p></body></html>\n")


def _class(*names: str) -> str:
    """`` class="..."`` for the non-empty names, or nothing."""
    joined = " ".join(name for name in names if name)
    return f' class="{joined}"' if joined else ""


def _table(header: list[str], rows: list[list[str]], text_columns: int = 1,
           official: str | None = None, row_classes: list[str] | None = None) -> str:
    """An HTML table; the first ``text_columns`` are left-aligned, ``official`` underlined."""
    head = "".join(
        "<th" + _class("text" if i < text_columns else "", "official" if h == official else "")
        + f">{_e(h)}</th>" for i, h in enumerate(header))
    body = []
    for k, row in enumerate(rows):
        cells = "".join(f"<td{_class('text' if i < text_columns else '')}>{_e(v)}</td>"
                        for i, v in enumerate(row))
        body.append(f"<tr{_class(row_classes[k] if row_classes else '')}>{cells}</tr>")
    return (f"<div class=\"scroll\"><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(data: str, caption: str) -> str:
    return (f"<figure><img alt=\"{_e(caption)}\" src=\"data:image/png;base64,{data}\">"
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _have_matplotlib() -> bool:
    from rampconf.extras import Extra

    return not Extra("plots", ("matplotlib",)).missing()


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "NaN"
    return f"{float(value):.{digits}f}"


def _score_tables(run: RunInfo) -> list[str]:
    summary = run.summary
    names: list[str] = summary.get("score_names") or []
    precision: dict[str, int] = summary.get("precisions") or {}
    official = summary.get("official_score")
    parts = []
    scores, folds = run.result.scores, run.result.folds
    rows, classes = [], []
    for fold in sorted(folds["fold"].tolist()) if not folds.empty else []:
        status = folds.set_index("fold").loc[fold, "status"]
        if status != "ok":
            rows.append([f"{fold}", str(status), *["—"] * len(names)])
            classes.append("failed")
            continue
        for step in STEPS:
            part = scores[(scores["fold"] == fold) & (scores["step"] == step)]
            values = dict(zip(part["score"], part["value"], strict=True))
            rows.append([f"{fold}", step, *[_fmt(values.get(n), precision.get(n, 2))
                                            for n in names]])
            classes.append("")
    parts += ["<h2>Folds</h2>", _table(["fold", "step", *names], rows, 2, official, classes)]
    mean, std = summary.get("mean") or {}, summary.get("std") or {}
    rows = [[step, *[f"{_fmt(mean[step].get(n), precision.get(n, 2))} ± "
                     f"{_fmt(std.get(step, {}).get(n), precision.get(n, 2))}" for n in names]]
            for step in STEPS if step in mean]
    parts += [f"<h2>Mean ± std over {summary.get('n_folds_ok', '?')} folds</h2>",
              _table(["step", *names], rows, 1, official)]
    for stat, title in (("bagged", "Bagged over folds"),
                        ("retrain", "Retrained on all training data")):
        table = summary.get(stat) or {}
        if table:
            rows = [[step, *[_fmt(values.get(n), precision.get(n, 2)) for n in names]]
                    for step, values in table.items()]
            parts += [f"<h2>{title}</h2>", _table(["step", *names], rows, 1, official)]
    return parts


def _fold_plot(run: RunInfo, score: str) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.2))
    ax = figure.subplots()
    for step in STEPS:
        values = run.fold_values(step, score)
        if values:
            ax.plot(list(values), list(values.values()), "o-", label=step, color=COLOURS[step])
    return _line_plot(figure, ax, "fold", score, f"{score} per fold and step")


def _bagging_plot(run: RunInfo, score: str) -> str | None:
    from matplotlib.figure import Figure

    curve = run.result.bagged
    if curve.empty:
        return None
    figure = Figure(figsize=(6, 3.2))
    ax = figure.subplots()
    for step in ("valid", "test"):
        part = curve[(curve["step"] == step) & (curve["score"] == score)]
        ax.plot(part["n_folds"], part["value"], "o-", label=f"bagged {step}",
                color=COLOURS[step])
    return _line_plot(figure, ax, "folds bagged", score,
                      f"bagging curve: {score} against the number of folds bagged")


def _line_plot(figure: Any, ax: Any, xlabel: str, ylabel: str, title: str) -> str:
    """The PNG of a plot of lines over folds: integer ticks, labels, legend, grid."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return _png(figure)


def _prediction_plot(run: RunInfo) -> tuple[str | None, str]:
    """The prediction type's picture of the bagged valid predictions, or why there is none."""
    from matplotlib.figure import Figure

    from rampconf.errors import RampconfError
    from rampconf.saved import load_run_data, load_saved

    try:
        data = load_run_data(run)
    except (RampconfError, OSError, ValueError) as exc:
        return None, f"no picture of the predictions: the data cannot be read again ({exc})"
    valid = load_saved(run, data.prediction, "bagged").get("valid")
    if valid is None:
        return None, "no picture of the predictions: no saved bagged predictions"
    rows = data.prediction.has_prediction(valid)
    figure = Figure(figsize=(9, 4))
    if not data.prediction.plot_predictions(figure, data.y_train[rows], valid[rows]):
        return None, ""
    return _png(figure), "bagged valid predictions"


def _figure_files(run: RunInfo) -> list[str]:
    files = sorted((run.run_dir / "figures").glob("*.png"))[:MAX_RUN_FIGURES]
    return [_img(base64.b64encode(path.read_bytes()).decode("ascii"), path.stem)
            for path in files]


def run_report(run: RunInfo | RunResult | str | os.PathLike[str]) -> str:
    """The HTML page of one run: tables, plots, pictures of predictions, config and versions."""
    import yaml

    from rampconf.report import undefined_notes
    from rampconf.runs import as_run

    run = as_run(run)
    summary = run.summary
    title = f"{run.problem} / {run.label}"
    body = [f"<h1>{_e(title)}</h1>",
            f"<p class=\"meta\">status <b>{_e(run.status)}</b> · started "
            f"{_e(run.started[:19].replace('T', ' '))} UTC · "
            f"official score <u>{_e(summary.get('official_score'))}</u> · "
            f"run directory <code>{_e(run.run_dir)}</code></p>"]
    if summary.get("description"):
        body.append(f"<p>{_e(summary['description'])}</p>")
    if "rescored_from" in run.metadata:
        body.append(f"<p class=\"meta\">re-scored from "
                    f"<code>{_e(run.metadata['rescored_from'])}</code></p>")
    if "blend" in run.metadata:
        members = ", ".join(m["label"] for m in run.metadata["blend"]["members"])
        body.append(f"<p class=\"meta\">blend of {_e(members)}</p>")
    if "official_score" in summary and "score_names" in summary:
        body += _score_tables(run)
        body += [f"<p class=\"note\">{_e(line)}</p>" for line in undefined_notes(run.result)]
    pictures: list[str] = []
    if not _have_matplotlib():
        body.append("<p class=\"note\">no plots: they need matplotlib "
                    "(pip install 'rampconf[plots]')</p>")
    elif "official_score" in summary and not run.result.scores.empty:
        official = str(summary["official_score"])
        pictures.append(_img(_fold_plot(run, official), f"{official} per fold"))
        curve = _bagging_plot(run, official)
        if curve:
            pictures.append(_img(curve, "bagging curve"))
        picture, caption = _prediction_plot(run)
        if picture:
            pictures.append(_img(picture, caption))
        elif caption:
            body.append(f"<p class=\"note\">{_e(caption)}</p>")
    pictures += _figure_files(run)
    if pictures:
        body += ["<h2>Pictures</h2>", f"<div class=\"figures\">{''.join(pictures)}</div>"]
    versions = run.metadata.get("versions") or {}
    if versions:
        body += ["<h2>Versions</h2>", _table(["package", "version"],
                                             [[k, str(v)] for k, v in versions.items()], 2)]
    files = run.metadata.get("data_files") or {}
    if files:
        body += ["<h2>Data files</h2>", _table(
            ["role", "path", "sha256"], [[r, f.get("path", ""), f.get("sha256", "")]
                                         for r, f in files.items()], 3)]
    if run.metadata.get("overrides"):
        body += ["<h2>Overrides</h2>",
                 f"<pre>{_e(' '.join(map(str, run.metadata['overrides'])))}</pre>"]
    body += ["<h2>Configuration</h2>",
             f"<pre>{_e(yaml.safe_dump(run.config, sort_keys=False, allow_unicode=True))}</pre>"]
    return _page(title, body)


def write_run_report(run: RunInfo | RunResult | str | os.PathLike[str],
                     path: str | os.PathLike[str] | None = None) -> Path:
    """Write :func:`run_report` to ``path`` (default ``<run dir>/report.html``), atomically."""
    from rampconf.outputs import write_atomic
    from rampconf.runs import as_run

    info = as_run(run)
    target = Path(path) if path is not None else info.run_dir / "report.html"
    write_atomic(target, run_report(info))
    return target


def _board_plot(board: Leaderboard) -> str | None:
    """Each ranked entry's fold scores of the ranking score (dots) and their mean (a bar)."""
    from matplotlib.figure import Figure

    ranked = [run for run, rank in zip(board.runs, board.frame["rank"], strict=True)
              if rank == rank]
    step = board.rank_by.step if board.rank_by.stat in ("mean", "std") else "valid"
    if not ranked:
        return None
    figure = Figure(figsize=(7, 0.45 * len(ranked) + 1.2))
    ax = figure.subplots()
    for position, run in enumerate(ranked):
        values = list(run.fold_values(step, board.rank_by.score).values())
        ax.scatter(values, [position] * len(values), s=14, alpha=0.6, color=COLOURS["valid"])
        if values:
            ax.plot([np.nanmean(values)] * 2, [position - 0.3, position + 0.3], color="black")
    labels = [str(label) for label in board.frame["submission"][:len(ranked)]]
    ax.set_yticks(range(len(ranked)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"{board.rank_by.score} per fold ({step}); bar: mean")
    ax.grid(alpha=0.3, axis="x")
    return _png(figure)


def leaderboard_page(boards: list[Leaderboard]) -> str:
    """One HTML page with every board: its table, its notes and its fold scores."""
    body = ["<h1>Leaderboard</h1>"]
    draw = _have_matplotlib()
    if not draw:
        body.append("<p class=\"note\">no plots: they need matplotlib "
                    "(pip install 'rampconf[plots]')</p>")
    for board in boards:
        shown = board.display_frame()
        classes = ["" if status == "ok" else "failed" for status in board.frame["status"]]
        body += [f"<h2>{_e(board.title)}</h2>",
                 _table(list(shown.columns), [[str(v) for v in row]
                                              for row in shown.itertuples(index=False)],
                        2, board.rank_by.name, classes)]
        body += [f"<p class=\"meta\">{_e(note)}</p>" for note in board.notes]
        picture = _board_plot(board) if draw else None
        if picture:
            body.append(f"<div class=\"figures\">{_img(picture, board.rank_by.name)}</div>")
        where = dict(zip(board.frame["submission"], board.frame["run_dir"], strict=True))
        body.append(f"<details><summary>run directories</summary><pre>"
                    f"{_e(json.dumps(where, indent=1))}</pre></details>")
    return _page("rampconf leaderboard", body)
