"""RAMP's collaborative phase: every submission's code published, and the class blended.

:func:`publish` writes ``OUT/index.html`` (each submission's scores beside its
files) and ``OUT/submissions/<student>.<name>/`` (the files, to copy into a
kit's ``submissions/<problem>/`` and fork). :func:`blend_class` blends the
submissions that count (:mod:`rampconf.blend`: fold by fold on the valid rows)
and scores the blend on the public test rows (and the private ones once revealed).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampconf.errors import ConfigError, DataError

if TYPE_CHECKING:
    from rampconf.blend import BlendResult
    from rampconf.challenge.boards import Entries
    from rampconf.challenge.config import Challenge

__all__ = ["blend_class", "load_entries", "publish", "revealed"]


def load_entries(challenge: Challenge) -> Entries:
    """The challenge's evaluations read back (its data split again)."""
    from rampconf.challenge.boards import Entries
    from rampconf.challenge.data import load_challenge_data

    return Entries(challenge, load_challenge_data(challenge))


def revealed(challenge: Challenge) -> bool:
    """Whether ``reveal`` ran for this challenge (its private scores may be shown)."""
    import json

    marker = challenge.results / "revealed.json"
    return marker.is_file() and \
        json.loads(marker.read_text()).get("challenge") == challenge.identity[:12]


def publish(challenge: Challenge, out: str | os.PathLike[str]) -> Path:
    """Write every evaluated submission's code and scores to ``out``; the page written.

    Raises
    ------
    DataError
        No evaluation yet, or ``out`` exists and is not empty.
    """
    from rampconf.challenge.boards import select_records
    from rampconf.challenge.evaluate import run_name
    from rampconf.challenge.kit import copy_submission
    from rampconf.challenge.pages import code_page
    from rampconf.outputs import write_atomic

    target = Path(out)
    if target.exists() and any(target.iterdir()):
        raise DataError(f"{target}: the folder exists and is not empty")
    entries = load_entries(challenge)
    if not entries.records:
        raise DataError(f"{challenge.results}: no evaluation of challenge "
                        f"{challenge.config.name} yet (run rampconf-challenge evaluate)")
    chosen = select_records(entries.records, "all", {}, True)
    folders = {r["folder"]: run_name(r["student"], r["submission"]) for r in chosen}
    for record in chosen:
        copy_submission(Path(record["folder"]) / "code",
                        target / "submissions" / folders[record["folder"]])
    page = target / "index.html"
    write_atomic(page, code_page(entries, chosen, revealed(challenge), folders))
    return page


def blend_class(challenge: Challenge, output: str | os.PathLike[str] | None = None,
                max_size: int = 80) -> tuple[BlendResult, dict[str, Any]]:
    """Blend the successful submissions that count; the blend and its scores on the test parts.

    Returns the :class:`~rampconf.blend.BlendResult` (contributivity by
    ``student/name``) and the blend's scores on the public test rows (and the
    private ones once revealed), as :func:`~rampconf.challenge.boards.part_scores`.

    Raises
    ------
    ConfigError
        Fewer than two successful submissions.
    """
    from rampconf.blend import blend
    from rampconf.challenge.boards import part_scores
    from rampconf.runs import RunInfo, as_run
    from rampconf.saved import load_run_data

    entries = load_entries(challenge)
    members = []
    for record in entries.chosen():
        run = entries.runs.get(record["folder"])
        if run is None or record["status"] != "ok":
            continue
        label = f"{record['student']}/{record['submission']}"
        members.append(RunInfo(result=replace(run.result,
                                              summary={**run.summary, "submission": label}),
                               metadata=run.metadata))
    if len(members) < 2:
        raise ConfigError(f"blend: at least 2 successful submissions are needed, got "
                          f"{len(members)} in {challenge.results}")
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    target = Path(output) if output is not None else challenge.results / "blend" / stamp
    result = blend(members, max_size=max_size, output_dir=target)
    parts = {"public": entries.data.public}
    if revealed(challenge):
        parts["private"] = entries.data.private
    run = as_run(result.run)
    scored = part_scores(run, load_run_data(run), parts)
    return result, scored
