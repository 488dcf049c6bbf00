"""The challenge's HTML pages: its leaderboards, and every submission's code beside its scores.

Self-contained pages as :mod:`rampconf.html_report` writes them (inline CSS,
pictures as embedded PNG); the leaderboard is that module's page with the
challenge's title and a table of the submissions that did not run.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from rampconf.challenge.boards import Entries
    from rampconf.leaderboard import Leaderboard

__all__ = ["board_page", "code_page"]


def _e(value: Any) -> str:
    return html.escape(str(value))


def _missing_table(missing: list[dict[str, Any]]) -> str:
    from rampconf.html_report import _table

    rows = [[f"{r['student']}/{r['submission']}", r["status"], r.get("error", "")]
            for r in missing]
    return ("<h2>Not run</h2><p class=\"meta\">submissions stopped before any fold ran "
            "(an error in their files, a crash, or over the time limit)</p>"
            + _table(["submission", "status", "error"], rows, 3,
                     row_classes=["failed"] * len(rows)))


def board_page(entries: Entries, board: Leaderboard | None, missing: list[dict[str, Any]],
               private: bool) -> str:
    """The public or the final leaderboard page of a challenge."""
    from rampconf.html_report import _page, leaderboard_page

    config = entries.challenge.config
    kind = "final leaderboard (private test)" if private else "public leaderboard"
    title = f"{config.name}: {kind}"
    data = entries.data
    header = (f"<h1>{_e(title)}</h1><p class=\"meta\">problem {_e(config.problem)} · "
              f"{len(data.public)} public test rows"
              + (f", {len(data.private)} private" if private else "")
              + f" · per student: {_e(config.select.replace('_', ' '))} submission"
              + f" · {len(entries.records)} evaluations</p>")
    extra = _missing_table(missing) if missing else ""
    if board is None:
        return _page(title, [header, "<p>No submission ran yet.</p>", extra])
    page = leaderboard_page([board])
    page = page.replace("<title>rampconf leaderboard</title>", f"<title>{_e(title)}</title>", 1)
    page = page.replace("<h1>Leaderboard</h1>", header, 1)
    marker = "\n<p class=\"meta\">written by rampconf"
    return page.replace(marker, f"\n{extra}{marker}", 1) if extra else page


def code_page(entries: Entries, chosen: list[dict[str, Any]], revealed: bool,
              folders: dict[str, str]) -> str:
    """Every chosen submission: its scores and its files, with the folder to fork it from."""
    from pathlib import Path

    from rampconf.html_report import _page, _table

    config = entries.challenge.config
    off = entries.official
    body = [f"<h1>{_e(config.name)}: the submissions</h1>",
            "<p class=\"meta\">each submission's files and scores; copy a folder of "
            "<code>submissions/</code> into your kit's <code>submissions/"
            f"{_e(entries.data.config.problem.submissions_folder)}/</code> to run it and "
            "build on it</p>"]
    parts = ("public", "private") if revealed else ("public",)
    for record in chosen:
        label = f"{record['student']}/{record['submission']}"
        body.append(f"<h2 id=\"{_e(folders[record['folder']])}\">{_e(label)}</h2>")
        run = entries.runs.get(record["folder"])
        scored = entries.scored.get(record["folder"])
        cells = [record["status"]]
        if run is not None and off is not None:
            valid = run.table("mean").get("valid", {}).get(off)
            cells.append("—" if valid is None else f"{valid:.4f}")
            for part in parts:
                value = (scored or {}).get("bagged", {}).get(part, {}).get(off)
                cells.append("—" if value is None else f"{value:.4f}")
        else:
            cells += ["—"] * (1 + len(parts))
        header = ["status", f"{off} mean valid", *[f"{off} bagged {p}" for p in parts]]
        body.append(_table(header, [cells], 1))
        if record.get("error"):
            body.append(f"<p class=\"note\">{_e(record['error'])}</p>")
        body.append(f"<p class=\"meta\">folder <code>submissions/"
                    f"{_e(folders[record['folder']])}/</code></p>")
        code = Path(record["folder"]) / "code"
        for name in record.get("files", []):
            text = _text(code / name)
            body.append(f"<details open><summary><code>{_e(name)}</code></summary>"
                        f"<pre>{_e(text)}</pre></details>")
    return _page(f"{config.name}: submissions", body)


def _text(path: Path, limit: int = 200_000) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"(not readable: {exc.strerror})"
    if b"\0" in data[:4096]:
        return f"(a binary file of {len(data)} bytes)"
    text = data[:limit].decode("utf-8", errors="replace")
    return text + (f"\n... ({len(data) - limit} more bytes)" if len(data) > limit else "")
