"""The study's storage: its URL, the study (created or loaded), the ask lock, stale trials.

Every job of a sweep opens the same storage (``rampconf.trial.open_storage``)
to report its folds, so the URL is made absolute here, once. Several sweeper
processes ("workers") may share one study: they create it at once (the loser
loads it), count its trials and ask new ones under a lock
(:func:`storage_lock`: a file lock for SQLite and journal files, an advisory
lock of the server for PostgreSQL), and mark FAIL the trials that a dead
worker of this machine left RUNNING.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rampconf.errors import ConfigError

from ._space import one_line

if TYPE_CHECKING:
    import optuna
    import sqlalchemy
    from optuna.trial import FrozenTrial

    from ._plan import SweepPlan

__all__ = [
    "count_trials",
    "fail_stale",
    "fail_stale_and_count",
    "normalize_storage",
    "open_study",
    "quiet_optuna",
    "storage_file",
    "storage_lock",
]

CREATE_ATTEMPTS = 30  # workers creating one study at once: retries of the loser


def normalize_storage(storage: str | None, sweep_dir: Path) -> str:
    """An absolute storage URL that every job can open, wherever it runs.

    ``None``: ``sqlite:///<sweep dir>/optuna.db``. A path ending in ``.log``,
    ``.journal`` or ``.jsonl``, or ``journal://PATH``: an Optuna journal file
    (``journal:///abs/path``). A path ending in ``.db``, ``.sqlite`` or
    ``.sqlite3``: SQLite. Other URLs (``postgresql://...``) are kept.
    """
    if storage is None or not str(storage).strip():
        return f"sqlite:///{(sweep_dir / 'optuna.db').resolve()}"
    storage = str(storage).strip()
    if storage.startswith("journal://"):
        return f"journal://{Path(storage[len('journal://'):]).expanduser().resolve()}"
    if storage.startswith("sqlite:"):
        rest = storage[len("sqlite:///"):] if storage.startswith("sqlite:///") else ""
        if not rest or rest.startswith(":memory:") or rest.startswith("file::memory:"):
            raise ConfigError(f"hydra.sweeper.storage: an in-memory SQLite database cannot be "
                              f"shared with the jobs, got {storage!r}; give a file "
                              "(sqlite:///path/optuna.db)")
        return f"sqlite:///{Path(rest).expanduser().resolve()}"
    if "://" not in storage:
        path = Path(storage).expanduser().resolve()
        if path.suffix in (".log", ".journal", ".jsonl"):
            return f"journal://{path}"
        if path.suffix in (".db", ".sqlite", ".sqlite3"):
            return f"sqlite:///{path}"
        raise ConfigError(f"hydra.sweeper.storage: not an Optuna storage URL nor a .db / .log "
                          f"file, got {storage!r} (e.g. sqlite:///optuna.db, journal.log, "
                          "postgresql+psycopg://user:password@host/db)")
    return storage


def storage_file(url: str) -> Path | None:
    """The local file behind a SQLite or journal storage URL, else None."""
    for prefix in ("sqlite:///", "journal://"):
        if url.startswith(prefix):
            return Path(url[len(prefix):])
    return None


@contextlib.contextmanager
def storage_lock(url: str, study_name: str = "") -> Iterator[None]:
    """Serialise count-then-ask between the workers of one study.

    SQLite and journal files: a lock file beside the storage
    (``<file>.ask-lock``; not ``<file>.lock``, which Optuna's journal backend
    uses), held with the ``filelock`` library on any platform. PostgreSQL: a
    session advisory lock of the server (``pg_advisory_lock``) keyed by the
    study name, held on a connection of its own; the server releases it when
    that connection ends, so a worker killed while holding it blocks no one.
    Other database servers are not locked: two workers asking at the same
    instant may both ask the last trial.
    """
    if url.startswith(("postgresql:", "postgresql+", "postgres:")):
        with _advisory_lock(url, study_name):
            yield
        return
    from filelock import FileLock

    path = storage_file(url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{path}.ask-lock"):
        yield


_lock_engines: dict[tuple[int, str], sqlalchemy.engine.Engine] = {}


@contextlib.contextmanager
def _advisory_lock(url: str, study_name: str) -> Iterator[None]:
    """``pg_advisory_lock`` on a connection kept for the locks of this process (one per URL)."""
    import sqlalchemy

    from rampconf.trial import engine_url

    digest = hashlib.blake2b(f"rampconf-ask:{study_name}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)  # PostgreSQL's bigint lock key
    engine_key = (os.getpid(), url)  # a forked child connects anew
    if engine_key not in _lock_engines:
        _lock_engines[engine_key] = sqlalchemy.create_engine(
            engine_url(url), pool_size=1, max_overflow=2, pool_pre_ping=True)
    with _lock_engines[engine_key].connect() as connection:
        connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": key})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Hide Optuna's INFO lines ("A new study created ...") of the calls made inside.

    The level Optuna's logger had is restored on exit: the sweeper never
    changes the logging of the process that runs it for longer than its own
    calls, and a level below WARNING (DEBUG) chosen by the caller is kept.
    """
    import optuna

    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(previous, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


def _create_study(plan: SweepPlan, sampler: optuna.samplers.BaseSampler
                  ) -> tuple[optuna.Study, optuna.storages.BaseStorage]:
    """Create the study or load it; several workers may race to create it."""
    import optuna
    import sqlalchemy.exc

    from rampconf.trial import open_storage

    path = storage_file(plan.storage)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(CREATE_ATTEMPTS):
        try:
            storage = open_storage(plan.storage)
            study = optuna.create_study(
                storage=storage, sampler=sampler, study_name=plan.study_name,
                direction=optuna.study.StudyDirection[plan.direction.upper()],
                load_if_exists=True)
            return study, storage
        except (optuna.exceptions.DuplicatedStudyError, sqlalchemy.exc.IntegrityError,
                sqlalchemy.exc.OperationalError, sqlalchemy.exc.ProgrammingError):
            # another worker created the tables or the study between our check and insert
            if attempt == CREATE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 + random.random() * 0.25)
    raise AssertionError("unreachable")


def open_study(plan: SweepPlan, sampler: optuna.samplers.BaseSampler
               ) -> tuple[optuna.Study, optuna.storages.BaseStorage]:
    """The plan's study (created, or loaded to resume) and its storage.

    Raises
    ------
    ConfigError
        The storage cannot be opened, or the study there was created with
        another direction or search space.
    """
    import optuna

    try:
        with quiet_optuna(), storage_lock(plan.storage, plan.study_name):
            study, storage = _create_study(plan, sampler)
    except Exception as exc:
        raise ConfigError(f"hydra.sweeper.storage: cannot open the study "
                          f"{plan.study_name!r} in {plan.storage}: {one_line(exc)}") from None
    wanted = optuna.study.StudyDirection[plan.direction.upper()]
    if study.direction != wanted:
        raise ConfigError(
            f"hydra.sweeper.study_name: the study {plan.study_name!r} in {plan.storage} "
            f"is to {study.direction.name.lower()}, but {plan.official} is to "
            f"{plan.direction}; choose another study name")
    space = plan.space.describe()
    stored = study.user_attrs.get("search_space")
    if stored is not None and stored != space:
        raise ConfigError(
            f"hydra.sweeper.study_name: the study {plan.study_name!r} in {plan.storage} "
            f"was created with another search space ({_describe_space(stored)}); this "
            f"sweep has {_describe_space(space)}; choose another hydra.sweeper.study_name "
            "(or storage) for a new study")
    if stored is None:
        study.set_user_attr("search_space", space)
        study.set_user_attr("official_score", plan.official)
        study.set_user_attr("fixed_overrides", plan.space.fixed)
    return study, storage


def _describe_space(space: dict[str, str]) -> str:
    parts = []
    for name, text in space.items():
        spec = json.loads(text)
        attrs = spec.get("attributes", {})
        if "choices" in attrs:
            parts.append(f"{name}: choice of {len(attrs['choices'])}")
        else:
            parts.append(f"{name}: {attrs.get('low')}..{attrs.get('high')}"
                         f"{' log' if attrs.get('log') else ''}")
    return ", ".join(parts) or "no parameter"


def fail_stale(study: optuna.Study, storage: optuna.storages.BaseStorage,
               trials: Sequence[FrozenTrial] | None = None) -> list[int]:
    """Trials left RUNNING by a sweeper process of this machine that is gone: FAIL.

    They are marked ``interrupted`` (not counted in ``n_trials``, so they are
    run again). Call it under :func:`storage_lock`. ``trials``: the study's
    trials just read (else they are read here). Returns the numbers of the
    trials it failed.
    """
    from optuna.trial import TrialState

    from rampconf.trial import load_trial

    if trials is None:
        trials = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    host = socket.gethostname()
    failed = []
    for frozen in trials:
        worker = str(frozen.user_attrs.get("worker", ""))
        owner, _, pid = worker.rpartition(":")
        if (frozen.state != TrialState.RUNNING or owner != host or not pid.isdigit()
                or _alive(int(pid))):
            continue
        trial = load_trial(study, storage, frozen.number)
        trial.set_user_attr("error", f"interrupted: its sweeper process ({worker}) ended")
        trial.set_user_attr("interrupted", True)
        with quiet_optuna():
            study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        failed.append(frozen.number)
    return failed


def count_trials(study: optuna.Study, trials: Sequence[FrozenTrial] | None = None) -> int:
    """Trials that count towards ``n_trials``: all but the interrupted ones, every worker's.

    Read through the study's cached storage: Optuna wraps a database storage in
    one that reads back only the trials that are new or still running since its
    last read, so a count costs little however many trials the study has
    (``get_n_trials`` of the database storage itself reads every trial).
    ``trials``: the study's trials just read (else they are read here).
    """
    if trials is None:
        trials = study.get_trials(deepcopy=False)
    return sum(1 for t in trials if not t.user_attrs.get("interrupted"))


def fail_stale_and_count(study: optuna.Study, storage: optuna.storages.BaseStorage
                         ) -> tuple[int, int]:
    """:func:`fail_stale`, then :func:`count_trials`, from one read of the study's trials
    (one query fewer per trial on a database); also the trials left running (any
    worker's). Call it under :func:`storage_lock`."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    failed = fail_stale(study, storage, trials)
    running = sum(1 for t in trials if t.state == TrialState.RUNNING) - len(failed)
    return count_trials(study, trials) - len(failed), running


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
