"""SQLite connections for a sweep's study: write-ahead log, commits that do not wait for the disk.

An Optuna study on SQLite commits several times per trial (asking a trial
alone is five commits: the trial, its worker, the sampler's note, one per
parameter). In SQLite's default mode (``journal_mode=DELETE``,
``synchronous=FULL``) every commit creates, syncs and deletes a rollback
journal: about 5 ms each on this project's CI machine, some 35 ms of every
titanic trial. :class:`WalConnection` opens each connection in write-ahead-log
mode with ``synchronous=NORMAL``, SQLite's recommended pairing for it: a
commit appends to the log without waiting for the disk (about 0.1 ms), and
the log is synced at checkpoints.

What this gives up, as SQLite documents it: after a power cut or an
operating-system crash (not a crash of a process: those lose nothing), the
last commits before it may be rolled back; the file is never corrupted. A
lost trial is a trial to run again. Write-ahead logging needs shared memory
between the processes that open the file, so the file must be on a local disk,
as SQLite files shared between machines never were safe (use PostgreSQL or a
journal file on a shared file system, see the scaling tutorial). The mode
stays in the file: ``optuna.db`` is opened in WAL mode by any later reader,
which keeps ``optuna.db-wal`` and ``optuna.db-shm`` beside it while it is
open; copy the three together, or open and close the study once, which folds
the log back into ``optuna.db``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

__all__ = ["WalConnection"]


class WalConnection(sqlite3.Connection):
    """A :class:`sqlite3.Connection` in WAL mode with ``synchronous=NORMAL``.

    Passed to SQLAlchemy as ``connect_args={"factory": WalConnection}``; a
    class at module level, so a pickled Optuna storage (whose engine arguments
    travel with it) opens its connections the same way. Switching to WAL
    waits, like any write, for the connection's busy timeout.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA journal_mode=WAL").close()
        self.execute("PRAGMA synchronous=NORMAL").close()
