"""Failure accounting: what each finished job means for its trial, and the failure budget.

A job that returned a finite number is COMPLETE; one that raised
``optuna.TrialPruned`` is PRUNED; anything else (an exception, no score, NaN)
is FAIL with a one-line error, recorded on the trial. :class:`FailureBudget`
stops the sweep when too many of this process's trials failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rampconf.errors import RampconfError

if TYPE_CHECKING:
    from hydra.core.utils import JobReturn

__all__ = ["RATE_MIN_TRIALS", "FailureBudget", "job_outcome", "lean_return"]

RATE_MIN_TRIALS = 5  # max_failure_rate applies once this many trials have finished


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, RampconfError):
        lines = []
        for line in exc.lines:
            if line == "full traceback:":
                break
            lines.append(line.strip())
        return " | ".join(lines)
    if isinstance(exc, RuntimeError) and type(exc) is RuntimeError:
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def lean_return(ret: JobReturn) -> JobReturn:
    """What a sweep keeps of a job it has recorded: its return without the two configs
    (``cfg``, ``hydra_cfg``: None) and without its error's traceback.

    A sweep returns every job's return, as Hydra's sweepers do; whole, each
    held its trial's composed configs (about 1,600 objects) and a failed
    job's traceback held the frames of its run (its data). Kept for every
    trial, they grew the sweeper's memory without bound, and every full
    garbage collection walked them all: 35 ms after 30 titanic trials, 75 ms
    after 60, one every nine trials or so.
    """
    value = ret._return_value
    if isinstance(value, BaseException):
        value = value.with_traceback(None)
    return dataclasses.replace(ret, cfg=None, hydra_cfg=None, _return_value=value)


def job_outcome(ret: JobReturn) -> tuple[str, float | None, str | None]:
    """``(state, value, error)`` of a finished job: COMPLETE, PRUNED or FAIL."""
    import optuna
    from hydra.core.utils import JobStatus

    if ret.status == JobStatus.COMPLETED:
        value = ret.return_value
        if value is None:
            return "FAIL", None, "the run gave no score (returned None)"
        try:
            number = float(value)
        except (TypeError, ValueError):
            return "FAIL", None, f"the run returned {value!r}, not a number"
        if not math.isfinite(number):
            return "FAIL", None, f"the run returned {number} as its score"
        return "COMPLETE", number, None
    if ret.status != JobStatus.FAILED:
        return "FAIL", None, f"the job did not finish (status {ret.status.name})"
    try:
        # Hydra's getter raises the job's exception, after writing "Error executing job
        # with overrides: [...]" to stderr: the sweeper prints its own line per trial
        with contextlib.redirect_stderr(io.StringIO()):
            ret.return_value  # noqa: B018 - read for the exception it raises
    except optuna.TrialPruned as exc:
        return "PRUNED", None, str(exc) or "pruned"
    except Exception as exc:
        return "FAIL", None, _error_text(exc)
    return "FAIL", None, "the job failed without an exception"


@dataclass
class FailureBudget:
    """Stops a sweep when too many of this process's trials failed (pruned ones are fine)."""

    max_failures: int | None
    max_failure_rate: float
    finished: int = 0
    failed: int = 0
    last_error: str = ""

    def record(self, state: str, error: str | None, number: int) -> None:
        """Count a finished trial."""
        self.finished += 1
        if state == "FAIL":
            self.failed += 1
            self.last_error = f"trial {number}: {error}"

    def exceeded(self) -> str | None:
        """Why the sweep must stop, or None."""
        if self.max_failures is not None and self.failed > self.max_failures:
            limit = f"more than hydra.sweeper.max_failures={self.max_failures}"
        elif (self.finished >= RATE_MIN_TRIALS
              and self.failed / self.finished > self.max_failure_rate):
            limit = (f"more than hydra.sweeper.max_failure_rate={self.max_failure_rate:g} "
                     f"of them")
        else:
            return None
        return (f"the sweep stopped: {self.failed} of the {self.finished} trials this process "
                f"ran failed, {limit}; last error, {self.last_error}")
