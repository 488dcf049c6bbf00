"""The order in which an executor starts tasks and hands their outcomes to the caller."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rampconf.isolation import Task
from rampconf.workers import Executor, InProcessExecutor, Job, Limits, answer_outcome


@dataclass
class _Marking(Task):
    """Writes ``marker`` when it starts, then sleeps ``seconds``."""

    marker: str
    seconds: float = 0.0

    def run(self) -> dict[str, Any]:
        Path(self.marker).write_text("started")
        time.sleep(self.seconds)
        return {"status": "ok"}


def _appears(path: Path, within: float) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if path.exists():
            return True
        time.sleep(0.01)
    return False


class _ThreadExecutor(Executor):
    """Runs each task in a thread: :meth:`Executor.run`'s scheduling, with a backend whose
    tasks run apart from the caller as the fork server's do (which cannot import tests)."""

    def submit(self, task: Task, limits: Limits) -> Job:
        job = Job(task, limits)

        def target() -> None:
            job.outcome = answer_outcome(task, task.run())

        threading.Thread(target=target, daemon=True).start()
        return job

    def wait(self, jobs: Sequence[Job], timeout: float | None = None) -> list[Job]:
        end = None if timeout is None else time.monotonic() + timeout
        while not any(job.outcome is not None for job in jobs):
            if end is not None and time.monotonic() > end:
                break
            time.sleep(0.005)
        return [job for job in jobs if job.outcome is not None]

    def cancel(self, job: Job) -> None:
        return None


def test_the_next_task_runs_while_the_caller_handles_an_ended_one(tmp_path):
    """One at a time (``n_jobs=1``), the caller's work on a fold's outcome (its scores)
    overlaps the next fold instead of adding to the run's time."""
    first, second = tmp_path / "first", tmp_path / "second"
    tasks = [_Marking(str(first)), _Marking(str(second), seconds=0.5)]
    outcomes = _ThreadExecutor().run(tasks, n_jobs=1)
    index, outcome = next(outcomes)
    assert (index, outcome.status) == (0, "ok") and first.exists()
    # the generator is suspended here, as while the runner scores fold 0
    assert _appears(second, within=10), "the second task had not started"
    assert [(i, o.status) for i, o in outcomes] == [(1, "ok")]


def test_in_process_tasks_run_only_when_the_caller_asks_for_the_next_outcome(tmp_path):
    """In the caller's process a task runs inside ``submit``: nothing is started ahead."""
    first, second = tmp_path / "first", tmp_path / "second"
    outcomes = InProcessExecutor().run([_Marking(str(first)), _Marking(str(second))], n_jobs=1)
    assert next(outcomes)[0] == 0 and first.exists() and not second.exists()
    assert [i for i, _ in outcomes] == [1] and second.exists()


def test_settle_waits_for_the_caller_when_it_asks_to_settle_later(tmp_path):
    settled = []

    class Counting(InProcessExecutor):
        def settle(self) -> None:
            settled.append(len(done))

    done: list[int] = []
    executor = Counting()
    for index, _ in executor.run([_Marking(str(tmp_path / "a")), _Marking(str(tmp_path / "b"))]):
        done.append(index)
    assert settled == [2]  # run() settled once, when its tasks were over
    done.clear()
    for index, _ in executor.run([_Marking(str(tmp_path / "c"))], settle=False):
        done.append(index)
    assert settled == [2]  # left to the caller
    executor.settle()
    assert settled == [2, 1]


def test_a_run_settles_its_folds_after_writing_its_files(tmp_path, monkeypatch):
    """The run's own tail overlaps the last fold processes' ends; it still settles before
    it returns (and a failed write settles too)."""
    from rampconf import api
    from rampconf.workers import Executor

    calls: list[str] = []
    real_settle, real_finish = Executor.settle, api._finish

    def settle(self) -> None:
        calls.append("settle")
        real_settle(self)

    def finish(*args: Any, **kwargs: Any) -> Any:
        calls.append("finish")
        return real_finish(*args, **kwargs)

    monkeypatch.setattr(InProcessExecutor, "settle", settle)
    monkeypatch.setattr(api, "_finish", finish)
    monkeypatch.chdir(tmp_path)
    api.run("iris", overrides=["unsafe_in_process=true"], output_dir=tmp_path, quiet=True)
    assert calls == ["finish", "settle"]
