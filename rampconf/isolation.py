"""The tasks that run submission code, and what a fold process does with one.

A task is self-contained and picklable: it holds exactly what the workflow's
contract gives the submission, and its :meth:`Task.run` returns plain data
(see :mod:`rampconf.wire`). It runs in a fresh process forked for it by the
fork server (:mod:`rampconf.forkserver`), or on another machine (a Dask
worker runs it the same way), so the runner's objects, its call stack, the
labels it scores with, the data root and the command line are never in the
process that runs the submission.

- :class:`CheckTask` imports the submission's files, checks their callables
  and routes the parameter overrides (the answer is plain data too).
- :class:`FoldTask` fits the submission on the fold's training rows (with
  their labels) and predicts the whole training set and the test set
  (without labels). The retrain is a fold task whose rows are all rows.

Seeds: a fold task sets the global NumPy and ``random`` seeds from its own
seed, in the fold process only.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from rampconf.errors import RampconfError
from rampconf.wire import to_plain

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rampconf.predictions import BasePrediction
    from rampconf.submission import Submission
    from rampconf.workflows import BaseWorkflow

__all__ = ["CheckTask", "FoldInputs", "FoldTask", "Task", "send_shared", "send_task", "serve_task"]


class Task:
    """A unit of submission code to run isolated; returns plain data.

    ``shared`` holds inputs common to several tasks of a run (the data to
    predict, the plugins): an executor sends it once per process, not once
    per task pickle.
    """

    shared: Any = None
    #: Whether the task fits models, so its process is best forked after the fork server's
    #: warm-up (:func:`rampconf.forkserver.exercise_libraries`); a check only imports.
    fits = True

    def run(self) -> dict[str, Any]:
        """Run in the isolated process; ``{"status": "ok", ...}`` or ``{"status": "failed",
        "error": [lines]}``."""
        raise NotImplementedError

    def describe(self) -> str:
        """A few words naming the task in messages (``fold 2``)."""
        return type(self).__name__


@dataclass
class FoldInputs:
    """What every fold of a run receives: the plugins, the submission and the rows to predict.

    ``X_train`` and ``X_test`` are features only; no label is here.
    """

    workflow: BaseWorkflow
    submission: Submission
    routed: dict[str, dict[str, Any]]
    prediction: BasePrediction
    X_train: Any
    X_test: Any


@dataclass
class FoldTask(Task):
    """Fit on rows ``train_idx`` (labels ``y_fit``), predict all training rows and the test set.

    Attributes
    ----------
    fold : int
        Fold number; ``-1`` is the retrain on all training rows.
    seed : int
        Seed set as the global NumPy and ``random`` seed in the fold process.
    train_idx : numpy.ndarray
        The fold's training rows (positions in ``X_train``).
    y_fit : numpy.ndarray
        The raw labels of exactly those rows, nothing more.
    blas_threads : int or None
        Cap of BLAS / OpenMP threads in the fold process (None: not capped).
    w_fit : numpy.ndarray or None
        Per-sample weights of those rows, when the workflow fits with them.
    """

    fold: int
    seed: int
    train_idx: np.ndarray
    y_fit: np.ndarray
    shared: FoldInputs | None = None
    blas_threads: int | None = None
    w_fit: np.ndarray | None = None

    def describe(self) -> str:
        return "the retrain" if self.fold < 0 else f"fold {self.fold}"

    def run(self) -> dict[str, Any]:
        import random
        from contextlib import nullcontext

        from rampconf.readers import take_rows

        inputs = self.shared
        assert inputs is not None
        np.random.seed(self.seed % 2**32)  # submissions without a random_state stay reproducible
        random.seed(self.seed)
        limits: Any = nullcontext()
        if self.blas_threads is not None and not _capped_by_env(self.blas_threads):
            from threadpoolctl import threadpool_limits

            limits = threadpool_limits(limits=self.blas_threads)
        times: dict[str, float] = {}
        predictions: dict[str, Any] = {}
        step = "fit"
        try:
            with limits, recorded_warnings() as caught:
                start = time.perf_counter()
                weights = {} if self.w_fit is None else {"sample_weight": self.w_fit}
                model = inputs.workflow.train(inputs.submission, inputs.routed,
                                              take_rows(inputs.X_train, self.train_idx),
                                              self.y_fit, inputs.prediction, **weights)
                times["train"] = time.perf_counter() - start
                for part, X, timing in (("train", inputs.X_train, "valid"),
                                        ("test", inputs.X_test, "test")):
                    step = f"predict on the {'training' if part == 'train' else 'test'} data"
                    start = time.perf_counter()
                    y_pred = inputs.workflow.predict(model, X, inputs.prediction)
                    times[timing] = time.perf_counter() - start
                    predictions[part] = _plain_prediction(y_pred, self, inputs, part)
        except _NotPlain as exc:
            return {"status": "failed", "error": [str(exc)], "times": times}
        except SystemExit as exc:
            return {"status": "failed", "times": times,
                    "error": _exit_lines(exc, inputs.submission, self.describe(), step)}
        except Exception as exc:
            from rampconf.submission import submission_traceback

            return {"status": "failed", "times": times,
                    "error": submission_traceback(exc, inputs.submission.path)}
        return {"status": "ok", "times": times, "predictions": predictions,
                "warnings": _warning_records(caught)}


#: Variables that cap the threads of OpenMP, OpenBLAS and MKL when the library loads (BLIS
#: is single-threaded unless told otherwise).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _capped_by_env(threads: int) -> bool:
    """Whether the environment caps every thread pool at ``threads`` already.

    Then a ``threadpool_limits`` context would limit nothing, and it costs a
    scan of the loaded libraries per fold (about 10 ms).
    """
    import os

    for name in THREAD_VARIABLES:
        value = os.environ.get(name, "")
        if not value.isdigit() or not 0 < int(value) <= threads:
            return False
    return True


MAX_WARNINGS = 100  # distinct warnings a task sends back


@contextlib.contextmanager
def recorded_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record the warnings the filters let through, to show them in the runner (once each)."""
    with warnings.catch_warnings(record=True) as caught:
        yield caught


def _warning_records(caught: list[warnings.WarningMessage]) -> list[list[Any]]:
    records = {(f"{w.category.__module__}.{w.category.__qualname__}", str(w.message),
                str(w.filename), int(w.lineno))
               for w in caught}
    return [list(record) for record in sorted(records)[:MAX_WARNINGS]]


class _NotPlain(Exception):
    """A prediction that is not plain data (the runner accepts no other objects)."""


def _plain_prediction(y_pred: Any, task: FoldTask, inputs: FoldInputs, part: str) -> Any:
    try:
        return to_plain(y_pred)
    except TypeError as exc:
        element = list(inputs.workflow.elements)[-1]
        where = "training" if part == "train" else "test"
        raise _NotPlain(f"{inputs.submission.file(element)}: {task.describe()}, predictions on "
                        f"the {where} data: predictions must be arrays, lists or numbers, "
                        f"got {exc}") from None


def _exit_lines(exc: SystemExit, submission: Submission, task: str, step: str) -> list[str]:
    from rampconf.submission import submission_traceback

    lines = submission_traceback(exc, submission.path)
    message = (f"the submission called sys.exit({exc.code!r}) during {step} in {task}; "
               "a submission must return (or raise), never end the process")
    own = [line for line in lines if line.startswith(str(submission.path))]
    return [f"{own[0]}: {message}" if own else message, *lines[len(own):]]


@dataclass
class CheckTask(Task):
    """Import the submission's files, check the workflow's callables, route the parameters.

    Returns ``{"status": "ok", "routed": {element: [parameter names]}}`` or
    the error as plain data (``kind``: the :mod:`rampconf.errors` class, ``error``:
    its lines).
    """

    workflow: BaseWorkflow
    submission: Submission
    shared: Any = field(default=None)
    fits = False

    def describe(self) -> str:
        return f"the check of submission {self.submission.name}"

    def run(self) -> dict[str, Any]:
        try:
            with recorded_warnings() as caught:
                routed = self.workflow.check_submission(self.submission)
        except RampconfError as exc:
            return {"status": "failed", "kind": type(exc).__name__, "error": list(exc.lines)}
        except SystemExit as exc:
            return {"status": "failed", "kind": "SubmissionError",
                    "error": _exit_lines(exc, self.submission, self.describe(),
                                         "the import of its files")}
        except Exception as exc:
            from rampconf.submission import submission_traceback

            return {"status": "failed", "kind": "SubmissionError",
                    "error": submission_traceback(exc, self.submission.path)}
        # names only: the runner takes the values from its own configuration
        return {"status": "ok", "warnings": _warning_records(caught),
                "routed": {element: sorted(names) for element, names in routed.items()}}


SHARED_HEADER = struct.Struct("<QQ")  # length of the shared part, number of descriptors
TASK_HEADER = struct.Struct("<Q")  # length of the task


def send_shared(sock: socket.socket, shared: bytes, fds: list[int]) -> None:
    """Send a fold process the first part of its input: the run's shared inputs, pickled.

    It may come well before the task (a primed process, see
    :class:`~rampconf.forkexec.ForkServerExecutor`); ``shared`` may be empty.
    """
    socket.send_fds(sock, [SHARED_HEADER.pack(len(shared), len(fds))], fds)
    sock.sendall(shared)


def send_task(sock: socket.socket, task_bytes: bytes) -> None:
    """Send a fold process the second part of its input: its own task, pickled."""
    sock.sendall(TASK_HEADER.pack(len(task_bytes)) + task_bytes)


def _readable(sock: socket.socket) -> bool:
    """Whether bytes wait on ``sock`` (without taking them)."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except BlockingIOError:
        return False


class _Arrived(BaseException):  # not caught by the warm-up's own `except Exception`
    """Bytes came on the socket: the work done while waiting stops."""


def _until_readable(sock: socket.socket, work: Callable[[], None]) -> None:
    """Run ``work`` while nothing waits on ``sock``; stop it as soon as bytes come.

    The kernel signals this process (``SIGIO``) when ``sock`` becomes
    readable, and the handler raises in ``work`` once; so a task that comes
    during the warm-up waits for nothing. ``work`` must tolerate being stopped
    anywhere (it only warms caches up).
    """
    import fcntl
    import os
    import signal

    live = [True]

    def arrived(signum: int, frame: Any) -> None:
        if live[0]:
            live[0] = False
            raise _Arrived

    flags = fcntl.fcntl(sock.fileno(), fcntl.F_GETFL)
    previous = signal.signal(signal.SIGIO, arrived)
    fcntl.fcntl(sock.fileno(), fcntl.F_SETOWN, os.getpid())
    fcntl.fcntl(sock.fileno(), fcntl.F_SETFL, flags | os.O_ASYNC)
    try:
        try:
            if not _readable(sock):  # after O_ASYNC: bytes that came before are seen here
                work()
        finally:
            live[0] = False  # raises no more
    except _Arrived:
        pass
    fcntl.fcntl(sock.fileno(), fcntl.F_SETFL, flags)
    signal.signal(signal.SIGIO, previous)


def serve_task(sock: socket.socket, while_waiting: Callable[[], None] | None = None) -> None:
    """In a fold process: receive the shared inputs, then the task; run it, send its answer.

    The objects inherited from the fork server (its modules, the preloaded
    libraries) are frozen out of the garbage collector first: a collection
    would otherwise walk them all, writing to (and so copying) every page of
    the inherited heap, about 80 ms per fold with scikit-learn and pandas
    loaded. Objects made by the task are collected as usual.

    A process whose socket closes before its task came (a primed process
    that was not needed) returns without running anything. One whose inputs
    are not there yet runs ``while_waiting`` (the fork server's warm-up, see
    :func:`rampconf.forkserver.exercise_libraries`) until they come.
    """
    import gc

    from rampconf.wire import encode, loads_task, recv_exact

    gc.freeze()

    if while_waiting is not None and not _readable(sock):  # primed for any task
        _until_readable(sock, while_waiting)
        while_waiting = None  # once
    data, fds, _, _ = socket.recv_fds(sock, SHARED_HEADER.size, 64)
    if not data:
        return
    try:
        if len(data) < SHARED_HEADER.size:
            data += recv_exact(sock, SHARED_HEADER.size - len(data))
        shared_size, _ = SHARED_HEADER.unpack(data)
        shared = loads_task(recv_exact(sock, shared_size), fds) if shared_size else None
        if while_waiting is not None and not _readable(sock):  # primed with the shared inputs
            _until_readable(sock, while_waiting)
        (task_size,) = TASK_HEADER.unpack(recv_exact(sock, TASK_HEADER.size))
    except EOFError:
        return
    task = loads_task(recv_exact(sock, task_size), fds)
    task.shared = shared
    del shared
    answer = task.run()
    try:
        message = encode(answer)
    except (TypeError, ValueError) as exc:
        message = encode({"status": "failed",
                          "error": [f"{task.describe()}: the answer is not plain data: {exc}"]})
    sock.sendall(struct.pack("<Q", len(message)))
    sock.sendall(message)
    sock.close()
