"""The small exception hierarchy that the command line prints in one or two lines.

Every error carries four parts in its message: what is wrong, where (file, key
path, submission file and line), what is allowed and what was received.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "RampconfError",
    "RegistryError",
    "SubmissionError",
]


class RampconfError(Exception):
    """Base class of every error rampconf reports to a user.

    Attributes
    ----------
    exit_code : int
        Exit code of the command line when this error ends a run.
    """

    exit_code = 1

    def __init__(self, message: str, *, lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.lines = lines or [message]


class ConfigError(RampconfError):
    """The composed configuration is invalid (bad type, value or unknown key).

    ``lines`` holds one line per problem found, each starting with the key path.
    """

    exit_code = 2


class RegistryError(ConfigError):
    """A configuration names a plugin (score, CV scheme, ...) that is not registered."""


class DataError(RampconfError):
    """Data files are missing, unreadable or do not match the problem."""

    exit_code = 2


class SubmissionError(RampconfError):
    """A submission is missing a file, class or function, or broke its contract."""
