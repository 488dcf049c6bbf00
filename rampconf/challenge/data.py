"""The challenge's problem and data: the composed run configuration, the public/private split.

The split is made on the rows of the problem's test set as its reader returns
them (the rows the saved test predictions follow): ``public_fraction`` draws
the public rows at random with ``seed`` (NumPy's ``default_rng``), ``column``
reads them from a column of the test file. The kit's test file is the public
rows of the teacher's test file, written in its format (CSV), so a student's
local test score is the public score of the leaderboard.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rampconf.errors import ConfigError, DataError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

    from rampconf.challenge.config import Challenge
    from rampconf.schema import RunConfig

__all__ = ["ChallengeData", "in_folder", "load_challenge_data", "read_raw_test", "split_rows"]

PUBLIC = ("1", "true", "yes", "public")
PRIVATE = ("0", "false", "no", "private")
#: Options of ``read_options`` that say how the file's text is cut into cells (kept when
#: the challenge reads the test file as text; the others convert values).
TEXT_OPTIONS = ("sep", "delimiter", "encoding", "quotechar", "quoting", "escapechar",
                "doublequote", "skipinitialspace", "comment", "lineterminator", "compression")
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".txt")


@contextlib.contextmanager
def in_folder(folder: Path) -> Iterator[None]:
    """Work in ``folder`` (where ``./conf`` holds the teacher's problems), then come back."""
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


@dataclass
class ChallengeData:
    """The challenge's run configuration, its test set's split and the files the kit copies.

    Attributes
    ----------
    config : RunConfig
        Validated, as every evaluation composes it (with the starting kit as submission).
    raw : dict
        The composed configuration (plain data).
    public, private : numpy.ndarray
        Positions of the public and private test rows (sorted).
    files : dict
        Role -> path of every data file (``train``, ``test``, extra files).
    """

    config: RunConfig
    raw: dict[str, Any]
    public: np.ndarray
    private: np.ndarray
    files: dict[str, Path]
    reader: Any

    @property
    def n_test(self) -> int:
        return len(self.public) + len(self.private)


def _is_csv(path: Path) -> bool:
    return any(path.name.lower().endswith(suffix) for suffix in CSV_SUFFIXES)


def read_raw_test(reader: Any, path: Path) -> pd.DataFrame:
    """The test file as its text cells (every column, as written), for splitting and the kit.

    Raises
    ------
    ConfigError
        A reader the challenge cannot split: not one CSV test file, or rows sorted when read.
    """
    import pandas as pd

    params = reader.params
    if not _is_csv(path):
        raise ConfigError(f"problem.data.test: a challenge splits a CSV test file (suffix "
                          f"{', '.join(CSV_SUFFIXES)}), got {path.name}")
    if getattr(params, "sort_by", None):
        raise ConfigError(f"problem.data.sort_by: a challenge splits the test file's rows in "
                          f"their order; sorted rows are not supported, got {params.sort_by}")
    options = dict(getattr(params, "read_options", None) or {})
    kept = {k: v for k, v in options.items() if k in TEXT_OPTIONS}
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kept)


def split_rows(challenge: Challenge, raw_test: pd.DataFrame, ignored: list[str]
               ) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the public and of the private test rows.

    Raises
    ------
    ConfigError
        ``split.column`` missing from the test file, not ignored by the problem,
        or holding other values than public/private marks; a split with an empty part.
    """
    split = challenge.config.split
    n_rows = len(raw_test)
    if split.column is not None:
        where = f"{challenge.path}: split.column"
        if split.column not in raw_test.columns:
            raise ConfigError(f"{where}: {split.column!r} is not a column of the test file "
                              f"(columns: {', '.join(map(str, raw_test.columns))})")
        if split.column not in ignored:
            raise ConfigError(f"{where}: {split.column!r} must be a column the problem ignores "
                              f"(problem.data.ignore), got ignore={ignored}")
        values = raw_test[split.column].str.strip().str.lower()
        bad = sorted(set(values) - set(PUBLIC) - set(PRIVATE))
        if bad:
            raise ConfigError(f"{where}: values must mark public ({', '.join(PUBLIC)}) or "
                              f"private rows ({', '.join(PRIVATE)}), got {bad[:5]}")
        mask = values.isin(PUBLIC).to_numpy()
    else:
        assert split.public_fraction is not None
        n_public = round(split.public_fraction * n_rows)
        order = np.random.default_rng(split.seed).permutation(n_rows)
        mask = np.zeros(n_rows, dtype=bool)
        mask[order[:n_public]] = True
    public, private = np.flatnonzero(mask), np.flatnonzero(~mask)
    if len(public) == 0 or len(private) == 0:
        raise ConfigError(f"{challenge.path}: split: the public and the private parts both "
                          f"need test rows, got {len(public)} public and {len(private)} "
                          f"private of {n_rows}")
    return public, private


def compose_challenge(challenge: Challenge, submission: str | None = None,
                      more: list[str] | None = None) -> dict[str, Any]:
    """The composed configuration of an evaluation (in the challenge's folder)."""
    from rampconf.api import compose

    items = [*challenge.run_overrides(),
             f"submission={submission or 'starting_kit'}", *(more or [])]
    with in_folder(challenge.folder):
        raw = compose(items)
    raw.pop("hydra_run_dir", None)
    return raw


def load_challenge_data(challenge: Challenge) -> ChallengeData:
    """Compose the challenge's problem, check its data and split its test set.

    Raises
    ------
    ConfigError, DataError
        A bad problem or override, missing data files, a test set that cannot be split.
    """
    from rampconf.saved import build_plugins
    from rampconf.schema import validate_config

    raw = compose_challenge(challenge)
    config = validate_config(raw)
    with in_folder(challenge.folder):
        reader, _, _ = build_plugins(config)
    reader.check_files()
    files = {**reader.files(), **reader.extra_files()}
    if "test" not in files:
        raise ConfigError(f"problem.data: the reader {config.problem.data.reader} names no "
                          "test file; a challenge splits one")
    raw_test = read_raw_test(reader, files["test"])
    n_test = len(reader.load("test"))
    if n_test != len(raw_test):
        raise DataError(f"{files['test']}: the reader gives {n_test} test rows and the file "
                        f"holds {len(raw_test)}; a challenge needs one row per line")
    public, private = split_rows(challenge, raw_test,
                                 list(getattr(reader.params, "ignore", None) or []))
    return ChallengeData(config=config, raw=raw, public=public, private=private, files=files,
                         reader=reader)
