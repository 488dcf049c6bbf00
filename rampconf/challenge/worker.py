"""One evaluation in its own interpreter: ``python -m rampconf.challenge.worker SPEC.json``.

The spec names the challenge file, the submission's label, its code folder
(the snapshot evaluated), the run directory and the record to write. The run
is :func:`rampconf.run` with the challenge's overrides; any error is the
record's, never the caller's.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["evaluate_one", "main"]


def _first_error(run: Any) -> str:
    folds = run.folds
    bad = folds[folds["status"] != "ok"] if not folds.empty else folds
    if bad.empty:
        return ""
    row = bad.iloc[0]
    error = str(row.get("error", "") or "")
    where = f"fold {row['fold']}:"
    return f"{row['status']}: {error if error.startswith(where) else f'{where} {error}'}".strip()


def status_of(summary: dict[str, Any], folds: Any) -> str:
    """The run's status, ``timeout`` or ``out_of_memory`` when every failed fold failed so."""
    status = str(summary.get("status", "failed"))
    if status != "failed" or folds.empty:
        return status
    kinds = set(folds[folds["status"] != "ok"]["status"])
    return kinds.pop() if len(kinds) == 1 and kinds & {"timeout", "out_of_memory"} else status


def evaluate_one(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one submission as the challenge says; the record (status, error, times)."""
    from rampconf.api import run
    from rampconf.challenge.config import load_challenge
    from rampconf.challenge.data import in_folder
    from rampconf.errors import RampconfError, RunInterrupted

    record = {key: spec[key] for key in ("student", "submission", "hash", "challenge")}
    clock = time.perf_counter()
    try:
        challenge = load_challenge(spec["challenge_file"])
        overrides = [*challenge.run_overrides(), f"submission={spec['run_name']}",
                     f"submission.path={spec['code']}"]
        with in_folder(challenge.folder):
            result = run(overrides=overrides, output_dir=spec["run_dir"], quiet=True)
        record.update(status=status_of(result.summary, result.folds),
                      error=_first_error(result), run_dir=str(result.run_dir))
    except RampconfError as exc:
        record.update(status="error", error=str(exc).splitlines()[0], run_dir=None)
    except RunInterrupted as exc:
        record.update(status="interrupted", error=str(exc), run_dir=None)
    record["elapsed_seconds"] = round(time.perf_counter() - clock, 3)
    return record


def main(argv: list[str] | None = None) -> int:
    from rampconf.outputs import write_atomic

    args = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(args[0]).read_text())
    record = evaluate_one(spec)
    write_atomic(Path(spec["record"]), json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
