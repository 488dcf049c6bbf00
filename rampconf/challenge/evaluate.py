"""Evaluate every ``SUBMISSIONS/<student>/<name>/`` folder, isolated, several at a time.

Each submission version (its files' SHA-256 with the challenge's identity) is
evaluated once, into ``RESULTS/evaluations/<student>/<name>/<hash>/``::

    record.json   status (ok, failed, timeout, out_of_memory, error, crashed), first
                  error, times, the files evaluated
    code/         the files evaluated (a snapshot: later edits change nothing)
    run/          the run directory (scores, fold predictions on the whole test set)

Every evaluation is its own interpreter (:mod:`rampconf.challenge.worker`),
started in its own session: one that crashes, or runs past
``limits.submission_timeout`` (it and every process below it are killed), is recorded and
the others go on. Folds inside run under ``fold_timeout``/``fold_memory`` and
the sandbox, as any run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampconf.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Callable

    from rampconf.challenge.config import Challenge

__all__ = ["Pending", "evaluate", "find_submissions", "load_records", "submission_hash"]

RECORD = "record.json"


def submission_hash(folder: Path, identity: str) -> str:
    """SHA-256 of the challenge's identity and of every file's relative path and content."""
    from rampconf.challenge.kit import submission_files
    from rampconf.outputs import file_sha256

    digest = hashlib.sha256(identity.encode())
    for path in submission_files(folder):
        digest.update(b"\0" + path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(bytes.fromhex(file_sha256(path)))
    return digest.hexdigest()


def run_name(student: str, name: str) -> str:
    """A submission name for the run (``student.name``, other characters as ``_``)."""
    text = f"{student}.{name}"
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "_" for c in text)
    return cleaned if cleaned[0] not in ".-" else f"_{cleaned}"


@dataclass
class Pending:
    """A submission folder found, its hash and where its evaluation goes."""

    student: str
    name: str
    folder: Path
    hash: str
    target: Path
    newest: float = 0.0
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    log: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.student}/{self.name}"


def find_submissions(root: Path, challenge: Challenge, results: Path,
                     echo: Callable[[str], None] = print) -> list[Pending]:
    """Every ``root/<student>/<name>/`` folder holding files, sorted by student and name.

    Files right in a student's folder are no submission: ``echo`` says so.

    Raises
    ------
    DataError
        ``root`` is not a folder.
    """
    from rampconf.challenge.kit import submission_files

    if not root.is_dir():
        raise DataError(f"{root}: no such folder of submissions (expected "
                        f"{root}/<student>/<name>/ folders)")
    found = []
    for student in sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] != "."):
        loose = sorted(p.name for p in student.glob("*.py"))
        if loose:
            echo(f"{student.name}: {', '.join(loose)} directly in the student's folder: not "
                 f"evaluated (a submission is a folder {student.name}/<name>/)")
        for folder in sorted(p for p in student.iterdir() if p.is_dir() and p.name[0] != "."):
            files = submission_files(folder)
            if not files:
                continue
            digest = submission_hash(folder, challenge.identity)
            found.append(Pending(student=student.name, name=folder.name, folder=folder,
                                 hash=digest,
                                 target=results / "evaluations" / student.name / folder.name
                                 / digest[:16],
                                 newest=max(p.stat().st_mtime for p in files)))
    return found


def load_records(results: Path) -> list[dict[str, Any]]:
    """Every ``record.json`` under ``RESULTS/evaluations`` (with ``folder``: its version folder)."""
    records = []
    for path in sorted((results / "evaluations").glob(f"*/*/*/{RECORD}")):
        record = json.loads(path.read_text())
        record["folder"] = str(path.parent)
        records.append(record)
    return records


def _done(target: Path) -> bool:
    record = target / RECORD
    if not record.is_file():
        return False
    return json.loads(record.read_text()).get("status") != "interrupted"


def _start(job: Pending, challenge: Challenge) -> None:
    from rampconf.challenge.kit import copy_submission
    from rampconf.outputs import write_atomic

    if job.target.exists():  # an evaluation that never finished: start it again
        shutil.rmtree(job.target)
    copy_submission(job.folder, job.target / "code")
    spec = {"challenge_file": str(challenge.path), "student": job.student,
            "submission": job.name, "hash": job.hash, "challenge": challenge.identity[:12],
            "run_name": run_name(job.student, job.name), "code": str(job.target / "code"),
            "run_dir": str(job.target / "run"), "record": str(job.target / "result.json")}
    write_atomic(job.target / "spec.json", json.dumps(spec, indent=1))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    job.log = (job.target / "evaluation.log").open("wb")
    job.process = subprocess.Popen(
        [sys.executable, "-m", "rampconf.challenge.worker", str(job.target / "spec.json")],
        cwd=challenge.folder, env=env, stdout=job.log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True)
    job.started = time.monotonic()


def _stop(job: Pending) -> None:
    """Kill the evaluation and every process below it; return once all are gone.

    The fork server, its sandbox and the fold processes run in sessions of
    their own (see the trusted-execution page): they would die with their
    parents anyway, but a moment later; they are killed here too and waited
    for, so that no process of the evaluation outlives its record.
    """
    from rampconf.limits import kill_tree, running

    assert job.process is not None
    others = kill_tree(job.process.pid)[1:]
    job.process.wait()
    end = time.monotonic() + 10
    while any(running(pid) for pid in others) and time.monotonic() < end:
        time.sleep(0.01)


def _finish(job: Pending, timed_out: bool, challenge: Challenge) -> dict[str, Any]:
    from rampconf.challenge.kit import submission_files
    from rampconf.outputs import write_atomic

    assert job.process is not None
    job.log.close()
    result = job.target / "result.json"
    if result.is_file() and not timed_out:
        record = json.loads(result.read_text())
    else:
        limit = challenge.config.limits.submission_timeout
        record = {"student": job.student, "submission": job.name, "hash": job.hash,
                  "challenge": challenge.identity[:12], "run_dir": None,
                  "status": "timeout" if timed_out else "crashed",
                  "error": f"the evaluation ran over limits.submission_timeout={limit:g} s "
                  "and was stopped" if timed_out else "the evaluation process ended with "
                  f"code {job.process.returncode} without a result (see evaluation.log)",
                  "elapsed_seconds": round(time.monotonic() - job.started, 3)}
        if (job.target / "run" / "summary.json").is_file():
            record["run_dir"] = str(job.target / "run")
    code = job.target / "code"
    record.update(evaluated=dt.datetime.now(dt.timezone.utc).isoformat(),
                  submitted=dt.datetime.fromtimestamp(job.newest, dt.timezone.utc).isoformat(),
                  files=[p.relative_to(code).as_posix() for p in submission_files(code)])
    write_atomic(job.target / RECORD, json.dumps(record, indent=1))
    return record


def evaluate(challenge: Challenge, submissions: str | os.PathLike[str],
             n_jobs: int | None = None,
             echo: Callable[[str], None] = print) -> tuple[list[dict[str, Any]], int]:
    """Evaluate the submission folders not evaluated yet; the new records and the number skipped.

    Parameters
    ----------
    submissions
        The folder of ``<student>/<name>/`` submission folders.
    n_jobs
        Submissions evaluated at a time (default: the challenge's ``n_jobs``).
    echo
        Where progress lines go.

    Raises
    ------
    ConfigError, DataError
        A bad challenge or problem (before any submission runs).
    """
    from rampconf.challenge.data import load_challenge_data
    from rampconf.errors import ConfigError

    load_challenge_data(challenge)  # a bad challenge stops here, before any evaluation
    if challenge.config.limits.sandbox == "bwrap":
        from rampconf.sandbox import check_bwrap

        check_bwrap()  # else every evaluation would fail the same way
    workers = n_jobs or challenge.config.n_jobs
    if workers < 1:
        raise ConfigError(f"n_jobs: submissions evaluated at a time, at least 1, got {workers}")
    results = challenge.results
    found = find_submissions(Path(submissions), challenge, results, echo)
    todo = [job for job in found if not _done(job.target)]
    for job in found:
        if job not in todo:
            echo(f"{job.label}: already evaluated (same files, same challenge), skipped")
    limit = challenge.config.limits.submission_timeout
    queue, records = list(todo), []
    running: list[Pending] = []
    try:
        while queue or running:
            while queue and len(running) < workers:
                job = queue.pop(0)
                _start(job, challenge)
                running.append(job)
            time.sleep(0.1)
            for job in list(running):
                assert job.process is not None
                finished = job.process.poll() is not None
                timed_out = not finished and limit is not None \
                    and time.monotonic() - job.started > limit
                if not finished and not timed_out:
                    continue
                if timed_out:
                    _stop(job)
                running.remove(job)
                record = _finish(job, timed_out, challenge)
                records.append(record)
                error = f": {record['error']}" if record.get("error") else ""
                echo(f"{job.label}: {record['status']} in {record['elapsed_seconds']:.1f} s"
                     f"{error}"[:300])
    finally:  # an interrupt (Ctrl-C) stops the evaluations running: none is recorded
        for job in running:
            _stop(job)
    return records, len(found) - len(todo)
