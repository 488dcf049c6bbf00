"""The small exception hierarchy that the command line prints in one or two lines.

Every error carries four parts in its message: what is wrong, where (file, key
path, submission file and line), what is allowed and what was received.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

__all__ = [
    "ConfigError",
    "DataError",
    "ErrorExit",
    "OutputError",
    "RampconfError",
    "RegistryError",
    "RunInterrupted",
    "SubmissionError",
    "SweepError",
    "SweepInterrupted",
]


class RampconfError(Exception):
    """Base class of every error rampconf reports to a user.

    Attributes
    ----------
    exit_code : int
        Exit code of the command line when this error ends a run.
    label : str
        What the command line writes before each line of the message.
    """

    exit_code = 1
    label = "error"

    def __init__(self, message: str, *, lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.lines = lines or [message]


class ConfigError(RampconfError):
    """The composed configuration is invalid (bad type, value or unknown key).

    ``lines`` holds one line per problem found, each starting with the key path.
    """

    exit_code = 2
    label = "config error"


class RegistryError(ConfigError):
    """A configuration names a plugin (score, CV scheme, ...) that is not registered."""


class DataError(RampconfError):
    """Data files are missing, unreadable or do not match the problem."""

    exit_code = 2


class SubmissionError(RampconfError):
    """A submission is missing a file, class or function, or broke its contract."""


class SweepError(RampconfError):
    """A sweep ended without the result it was run for: too many trials failed, or none completed.

    Every finished trial is recorded in the study and in ``trials.csv``.
    """


class SweepInterrupted(RampconfError):
    """A sweep was interrupted (Ctrl-C); its unfinished trials are recorded as FAIL."""

    exit_code = 130
    label = "interrupted"


class ErrorExit(BaseException):
    """Carries a :class:`RampconfError` out of a Hydra sweeper to the command line.

    Hydra's ``hydra.main`` reports any ``Exception`` that leaves a sweeper (or
    that a config source or a callback raises) as a traceback and exits with 1.
    A sweeper raises its error wrapped in this class instead: like
    ``SystemExit`` it is no ``Exception``, so it passes Hydra's reporting, and
    :func:`rampconf.cli.main` prints ``error`` (one line per problem) and exits
    with ``error.exit_code``.
    """

    def __init__(self, error: RampconfError) -> None:
        super().__init__(str(error))
        self.error = error


class OutputError(RampconfError):
    """The run directory cannot be written (unwritable folder, full disk, ...)."""

    exit_code = 2


class RunInterrupted(KeyboardInterrupt):
    """SIGINT (Ctrl-C) or SIGTERM stopped a run; the folds that finished are saved.

    Attributes
    ----------
    signal : int
        The signal received; the command line exits with ``128 + signal``
        (130 for SIGINT, 143 for SIGTERM).
    run_dir : pathlib.Path or None
        Where the finished folds and ``summary.json`` (status ``interrupted``) were written.
    partial : dict
        What the runner had finished (set by :func:`rampconf.runner.execute`).
    """

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signal = int(signum)
        self.run_dir: Path | None = None
        self.partial: dict[str, Any] = {}

    @property
    def exit_code(self) -> int:
        """``128 + signal``, as a shell reports a process ended by that signal."""
        return 128 + self.signal
