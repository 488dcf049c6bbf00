"""Writing a trial's values and attributes to its study's storage in one go.

Optuna writes each intermediate value and user attribute of a trial in a
storage call of its own: a database transaction each (which reads the trial
again), or a journal record each (a lock of the file, a read back).
:func:`write_batch` writes a trial's values and attributes together, the same
rows or records, for :class:`rampconf.trial.TrialReporter`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

__all__ = ["write_batch"]


def write_batch(storage: optuna.storages.BaseStorage, trial_id: int,
                values: dict[int, float], attrs: dict[str, Any]) -> None:
    """Report ``values`` (step -> intermediate value), set the user attributes ``attrs``.

    On a database storage (SQLite, PostgreSQL): one transaction with three reads
    (the trial's state, its values, its attributes of these keys) writing the
    rows Optuna's writers would write (they read the trial again for each). If
    another process wrote one of these attributes meanwhile, it is rolled back
    and Optuna's writers are called one by one. On a journal file: the
    records Optuna's writers append, appended together (one lock of the file,
    one read back).
    """
    import optuna

    if _journal_batch(storage, trial_id, values, attrs):
        return

    batched = isinstance(storage, optuna.storages.RDBStorage) and all(
        hasattr(storage, name) for name in ("check_trial_is_updatable", "scoped_session"))
    if batched:
        import sqlalchemy.exc
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        try:
            with _create_scoped_session(storage.scoped_session) as session:  # type: ignore[attr-defined]
                state = models.TrialModel.find_or_raise_by_id(trial_id, session).state
                storage.check_trial_is_updatable(trial_id, state)  # type: ignore[arg-type]
                with session.no_autoflush:
                    _write_values(session, trial_id, values)
                    _write_attrs(session, trial_id, attrs)
            return
        except sqlalchemy.exc.IntegrityError:  # rolled back: written call by call below
            pass
    for step, value in values.items():
        storage.set_trial_intermediate_value(trial_id, step, float(value))
    for key, attr in attrs.items():
        storage.set_trial_user_attr(trial_id, key, attr)


def _write_values(session: Any, trial_id: int, values: dict[int, float]) -> None:
    """Intermediate values (step -> value) of a running trial, added to ``session``."""
    from optuna.storages._rdb import models

    if not values:
        return
    Value = models.TrialIntermediateValueModel
    stored = {row.step: row for row in
              session.query(Value).filter(Value.trial_id == trial_id).all()}
    new = []
    for step, value in values.items():
        number, kind = Value.intermediate_value_to_stored_repr(float(value))
        row = stored.get(step)
        if row is None:
            new.append({"trial_id": trial_id, "step": step, "intermediate_value": number,
                        "intermediate_value_type": kind})
        else:
            row.intermediate_value, row.intermediate_value_type = number, kind
    _insert(session, Value, new)


def _insert(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """Add ``rows`` of ``model``'s table in one statement (one ``executemany``)."""
    import sqlalchemy

    if rows:
        session.execute(sqlalchemy.insert(model), rows)


def _stored_attrs(session: Any, trial_id: int, keys: list[str]) -> dict[str, Any]:
    """The user attribute rows of ``keys`` that the trial has, by key."""
    from optuna.storages._rdb import models

    Attr = models.TrialUserAttributeModel
    return {row.key: row for row in session.query(Attr).filter(
        Attr.trial_id == trial_id, Attr.key.in_(keys)).all()}


def _write_attrs(session: Any, trial_id: int, attrs: dict[str, Any]) -> None:
    """User attributes (key -> JSON value) of a running trial, added to ``session``."""
    import json

    from optuna.storages._rdb import models

    if not attrs:
        return
    stored = _stored_attrs(session, trial_id, list(attrs))
    new = []
    for key, value in attrs.items():
        row = stored.get(key)
        if row is None:
            new.append({"trial_id": trial_id, "key": key, "value_json": json.dumps(value)})
        else:
            row.value_json = json.dumps(value)
    _insert(session, models.TrialUserAttributeModel, new)


def _journal_batch(storage: Any, trial_id: int, values: dict[int, float],
                   attrs: dict[str, Any]) -> bool:
    """On a journal storage: append the records of ``values`` and ``attrs`` at once.

    The records are those Optuna's ``set_trial_intermediate_value`` and
    ``set_trial_user_attr`` append (one attribute per record), in that order;
    reading them back applies them, and raises as those calls would (a trial
    finished already). False (nothing written) on another storage or another
    Optuna whose journal storage lacks what this uses.
    """
    from optuna.storages.journal import JournalStorage

    if not isinstance(storage, JournalStorage) or not all(
            hasattr(storage, name) for name in
            ("_thread_lock", "_replay_result", "_backend", "_sync_with_backend")):
        return False
    try:
        from optuna.storages.journal._storage import JournalOperation
    except ImportError:
        return False
    with storage._thread_lock:
        worker = storage._replay_result.worker_id
        logs: list[dict[str, Any]] = [
            {"op_code": JournalOperation.SET_TRIAL_INTERMEDIATE_VALUE, "worker_id": worker,
             "trial_id": trial_id, "step": step, "intermediate_value": float(value)}
            for step, value in values.items()]
        logs += [{"op_code": JournalOperation.SET_TRIAL_USER_ATTR, "worker_id": worker,
                  "trial_id": trial_id, "user_attr": {key: attr}} for key, attr in attrs.items()]
        if logs:
            storage._backend.append_logs(logs)
            storage._sync_with_backend()
    return True
