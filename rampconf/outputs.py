"""The run directory: what a run writes, atomically, and how to read it back.

Layout (all paths relative to the run directory)::

    config.yaml            the validated, resolved configuration
    metadata.json          overrides, seeds, package versions, data file hashes, times
    folds.csv              fold, status, seed, n_train, n_valid, train/valid/test seconds, error,
                           indices_sha256 (identifies the fold's rows: runs on the same folds
                           share it, see :func:`fold_indices_sha256`)
    scores.csv             tidy scores: fold, step, score, value (step: train, valid, test;
                           an undefined score is NaN, see summary.json's ``undefined``)
    bagged_scores.csv      bagging curve: n_folds, step, score, value (last n_folds = bagged)
    retrain_scores.csv     step, score, value (only with retrain=true)
    summary.json           official_score, status, mean, std, bagged, retrain, undefined
                           (score, reason, where of each score recorded as NaN), ... (written
                           last: a directory without it is not a finished run)
    .rampconf-run          claims the directory for this run (see rampconf.rundir)
    errors/fold_<i>.txt    the submission's traceback of a failed fold
    predictions/fold_<i>.npz   train (predictions on the whole training set), test,
                               train_idx, valid_idx
    predictions/bagged.npz     valid (NaN rows: never validated), test
    predictions/retrain.npz    train, test (only with retrain=true)
    figures/                   pictures drawn by the prediction type (n_figures per fold)

Ragged predictions (detection) are stored as several arrays per part,
``<part>_<key>``, as the prediction type's ``pack`` documents.

``.hydra/`` (command-line runs) holds Hydra's own unresolved config and overrides. A sweep
trial's light output (``hydra.sweeper.trial_output=light``) has neither ``.hydra/`` nor
``figures/``, and ``predictions/`` only in the best trial's directory.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rampconf.provenance import file_sha256, package_versions  # noqa: F401 - their old home

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["RunResult", "atomic_path", "fold_indices_sha256", "load_run", "write_atomic"]


def _temporary_beside(path: Path) -> Path:
    """Create an empty, uniquely named file beside ``path``; return its path.

    Created with mode 0o666 less the process umask, as ``open`` creates files
    (``tempfile.mkstemp`` would make it 0600, and the rename would keep that).
    """
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write in steps; renamed to ``path`` at the end.

    For files written by other libraries or in pieces (a memory-mapped
    ``.npy``, a CSV streamed row by row): write to the yielded path, and when
    the block ends it replaces ``path`` in one rename. When the block raises,
    the temporary file is deleted and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_beside(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A reader sees the old file or the new one, never a part; the file gets the
    permissions ``open`` would give it (0o666 less the umask).
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (NaN written as null), atomically."""
    write_atomic(path, json.dumps(_jsonable(obj), indent=2) + "\n")


def write_csv(path: Path, frame: pd.DataFrame, na_rep: str = "") -> None:
    """Write a table as CSV, atomically, full float precision; missing values as ``na_rep``."""
    write_atomic(path, frame.to_csv(index=False, float_format="%.17g", na_rep=na_rep))


def _csv_cell(value: Any, na_rep: str) -> Any:
    """A value as ``DataFrame.to_csv(float_format="%.17g")`` writes it."""
    if value is None:
        return na_rep
    if isinstance(value, float | np.floating):
        return na_rep if value != value else f"{value:.17g}"
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


def csv_text(columns: list[str], rows: list[dict[str, Any]], na_rep: str = "") -> str:
    """Rows as CSV text, byte for byte what :func:`write_csv` writes for the same table.

    For small tables rewritten as a run goes (a DataFrame per write costs
    milliseconds): the values are formatted as pandas formats them (floats
    ``%.17g``, missing values ``na_rep``) and written by the same ``csv``
    writer settings pandas uses.
    """
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows([_csv_cell(row.get(column), na_rep) for column in columns]
                     for row in rows)
    return buffer.getvalue()


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write arrays to an ``.npz`` file, atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    write_atomic(path, buffer.getvalue())


def fold_indices_sha256(train_idx: np.ndarray, valid_idx: np.ndarray) -> str:
    """SHA-256 of a fold's training and valid row indices (as little-endian int64, in order).

    Two runs whose folds have the same hashes (and the same data files) were
    trained and validated on the same rows, so their fold scores pair up.
    """
    import hashlib

    digest = hashlib.sha256()
    for indices in (train_idx, valid_idx):
        array = np.ascontiguousarray(np.asarray(indices, dtype="<i8"))
        digest.update(len(array).to_bytes(8, "little"))
        digest.update(array.tobytes())
    return digest.hexdigest()


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


@dataclass
class RunResult:
    """The results of a run, as written to (or read back from) its run directory.

    Attributes
    ----------
    run_dir : pathlib.Path or None
        Where the run was written.
    summary : dict
        ``summary.json``: ``official_score``, ``status``, ``mean``, ``std``,
        ``bagged`` (each ``{step: {score: value}}``), ``retrain``, ...
    scores : pandas.DataFrame
        Tidy scores, one row per fold, step and score (``fold, step, score, value``).
    bagged : pandas.DataFrame
        Bagging curve (``n_folds, step, score, value``).
    folds : pandas.DataFrame
        One row per fold: status, seed, sizes, times and error.
    config : dict
        The validated configuration.
    """

    run_dir: Path | None
    summary: dict[str, Any]
    scores: pd.DataFrame
    bagged: pd.DataFrame
    folds: pd.DataFrame
    config: dict[str, Any]

    @property
    def status(self) -> str:
        """``ok`` when every fold ran, ``failed`` otherwise."""
        return str(self.summary["status"])

    @property
    def official_score(self) -> str:
        """Name of the official score."""
        return str(self.summary["official_score"])

    @property
    def objective(self) -> float | None:
        """Mean valid value of the official score (what a sweep optimises)."""
        value = self.summary["mean"].get("valid", {}).get(self.official_score)
        return None if value is None else float(value)

    def table(self, stat: str = "mean") -> pd.DataFrame:
        """Steps x scores table of ``mean``, ``std`` or ``bagged`` values."""
        return pd.DataFrame(self.summary[stat]).T

    def predictions(self, fold: int | str) -> dict[str, np.ndarray]:
        """Saved predictions of a fold (an int), or ``"bagged"`` / ``"retrain"``."""
        if self.run_dir is None:
            raise FileNotFoundError("this run was not written to a run directory")
        name = f"fold_{fold}" if isinstance(fold, int) else fold
        with np.load(self.run_dir / "predictions" / f"{name}.npz", allow_pickle=False) as data:
            return dict(data)


def load_run(run_dir: str | os.PathLike[str]) -> RunResult:
    """Read a run directory back (no retraining).

    Raises
    ------
    FileNotFoundError
        When ``run_dir`` holds no ``summary.json``.
    """
    import yaml

    folder = Path(run_dir)
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{folder}: not a rampconf run directory (no summary.json)")
    summary = json.loads(summary_path.read_text())

    def read(name: str) -> pd.DataFrame:
        path = folder / name
        return pd.read_csv(path) if path.is_file() and path.stat().st_size else pd.DataFrame()

    config_path = folder / "config.yaml"
    config = yaml.safe_load(config_path.read_text()) if config_path.is_file() else {}
    return RunResult(run_dir=folder, summary=summary, scores=read("scores.csv"),
                     bagged=read("bagged_scores.csv"), folds=read("folds.csv"), config=config)


FOLD_COLUMNS = ["fold", "status", "seed", "n_train", "n_valid", "train_time", "valid_time",
                "test_time", "error", "indices_sha256"]


class RunWriter:
    """Writes a run directory as the run goes: each fold as it ends, the summary last.

    ``light`` (a sweep trial's light output): the tables and ``metadata.json``
    are written once, with the summary, and the predictions are kept in
    :attr:`held` (path, arrays) instead of written (see :func:`write_held`).
    """

    def __init__(self, run_dir: Path, save_predictions: bool = True,
                 pack: Callable[[np.ndarray], dict[str, np.ndarray]] | None = None,
                 light: bool = False) -> None:
        self.run_dir = run_dir
        self.save_predictions = save_predictions
        self.light = light
        self.held: list[tuple[Path, dict[str, np.ndarray]]] = []
        self._metadata: dict[str, Any] | None = None
        self._tables: tuple[int, int] | None = None  # rows written in the tables
        self.pack = pack or (lambda y_pred: {"": np.asarray(y_pred)})
        self.fold_rows: list[dict[str, Any]] = []
        self.score_rows: list[dict[str, Any]] = []
        self.bagged_frame = pd.DataFrame(columns=["n_folds", "step", "score", "value"])
        run_dir.mkdir(parents=True, exist_ok=True)

    def write_config(self, config: dict[str, Any]) -> None:
        """``config.yaml``: the validated, resolved configuration, in the text of
        ``yaml.safe_dump``, emitted by libyaml when PyYAML has it (3 ms less per run)."""
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        write_atomic(self.run_dir / "config.yaml", yaml.dump(
            _jsonable(config), Dumper=dumper, sort_keys=False, allow_unicode=True))

    def write_metadata(self, metadata: dict[str, Any]) -> None:
        """``metadata.json``: overrides, seeds, versions, data hashes, times."""
        if self.light:
            self._metadata = metadata  # written with the summary
            return
        write_json(self.run_dir / "metadata.json", metadata)

    def _npz(self, path: Path, **arrays: np.ndarray) -> None:
        if self.light:
            self.held.append((path, arrays))
        else:
            write_npz(path, **arrays)

    def write_fold(self, result: Any, scores: dict[str, dict[str, float]] | None,
                   n_train_rows: int) -> None:
        """Record one fold: its row in ``folds.csv``, its scores, predictions and error."""
        self.fold_rows.append({
            "fold": result.fold, "status": result.status, "seed": result.seed,
            "n_train": len(result.train_idx), "n_valid": len(result.valid_idx),
            "train_time": result.times.get("train"), "valid_time": result.times.get("valid"),
            "test_time": result.times.get("test"),
            "error": result.error[0] if result.error else "",
            "indices_sha256": fold_indices_sha256(result.train_idx, result.valid_idx),
        })
        if scores:
            for step, values in scores.items():
                self.score_rows.extend({"fold": result.fold, "step": step, "score": name,
                                        "value": value} for name, value in values.items())
        if result.error:
            write_atomic(self.run_dir / "errors" / f"fold_{result.fold}.txt",
                         "\n".join(result.error) + "\n")
        if self.save_predictions and result.status == "ok":
            self._npz(self.run_dir / "predictions" / f"fold_{result.fold}.npz",
                      **self._packed(train=result.y_pred_train, test=result.y_pred_test),
                      train_idx=result.train_idx, valid_idx=result.valid_idx)
        if not self.light:
            self.write_tables()

    def write_tables(self) -> None:
        """``scores.csv``, then ``folds.csv`` (a fold listed there has its scores written)."""
        if self._tables == (len(self.score_rows), len(self.fold_rows)):
            return  # written already, unchanged since
        self._tables = (len(self.score_rows), len(self.fold_rows))
        scores = sorted(self.score_rows, key=lambda row: row["fold"])  # stable: steps in order
        write_atomic(self.run_dir / "scores.csv",
                     csv_text(["fold", "step", "score", "value"], scores, na_rep="NaN"))
        if self.fold_rows:
            write_atomic(self.run_dir / "folds.csv",
                         csv_text(FOLD_COLUMNS, sorted(self.fold_rows, key=lambda r: r["fold"])))

    def scores_frame(self) -> pd.DataFrame:
        """The tidy scores written so far, ordered by fold then step."""
        frame = pd.DataFrame(self.score_rows, columns=["fold", "step", "score", "value"])
        return frame.sort_values("fold", kind="stable").reset_index(drop=True)

    def write_bagging(self, curve: list[dict[str, dict[str, float]]],
                      predictions: dict[str, np.ndarray]) -> pd.DataFrame:
        """``bagged_scores.csv`` (the curve) and the bagged predictions."""
        rows = [{"n_folds": k + 1, "step": step, "score": name, "value": value}
                for k, point in enumerate(curve) for step, values in point.items()
                for name, value in values.items()]
        columns = ["n_folds", "step", "score", "value"]
        write_atomic(self.run_dir / "bagged_scores.csv", csv_text(columns, rows, na_rep="NaN"))
        frame = pd.DataFrame(rows, columns=columns)
        if self.save_predictions and predictions:
            self._npz(self.run_dir / "predictions" / "bagged.npz", **self._packed(**predictions))
        return frame

    def write_retrain(self, retrain: dict[str, Any]) -> None:
        """``retrain_scores.csv`` and the retrained model's test predictions."""
        result, scores = retrain["result"], retrain["scores"]
        rows = [{"step": step, "score": name, "value": value}
                for step, values in (scores or {}).items() for name, value in values.items()]
        write_csv(self.run_dir / "retrain_scores.csv",
                  pd.DataFrame(rows, columns=["step", "score", "value"]), na_rep="NaN")
        if result.error:
            write_atomic(self.run_dir / "errors" / "retrain.txt", "\n".join(result.error) + "\n")
        if self.save_predictions and scores:
            self._npz(self.run_dir / "predictions" / "retrain.npz",
                      **self._packed(train=result.y_pred_train, test=result.y_pred_test))

    def _packed(self, **parts: np.ndarray) -> dict[str, np.ndarray]:
        """Arrays of each part, named ``part`` or ``part_key`` (see ``BasePrediction.pack``)."""
        return {f"{part}_{key}" if key else part: array
                for part, y_pred in parts.items() for key, array in self.pack(y_pred).items()}

    def write_summary(self, summary: dict[str, Any]) -> None:
        """``summary.json``, written last (light: the tables and metadata just before)."""
        if self.light:
            self.write_tables()
            if self._metadata is not None:
                write_json(self.run_dir / "metadata.json", self._metadata)
        write_json(self.run_dir / "summary.json", summary)


def write_held(held: list[tuple[Path, dict[str, np.ndarray]]]) -> None:
    """Write the predictions a light run held (:attr:`RunWriter.held`), as a full run would."""
    for path, arrays in held:
        write_npz(path, **arrays)
