"""MLflow as an optional viewer: a Hydra callback that logs each run or sweep trial.

Choose it on the command line (``hydra/callbacks=mlflow``, the option
``conf/hydra/callbacks/mlflow.yaml``); it needs the ``mlflow`` extra
(``pip install 'rampconf[mlflow]'``, MLflow's client ``mlflow-skinny``). When a
job ends, its run directory is read back and logged as one MLflow run of the
experiment named after the problem:

- parameters: the run's configuration, flattened (``problem.name``,
  ``submission.params.C``, ``cv.n_splits``, ...);
- metrics: every fold's scores (``valid_auc``, ``test_auc``, ... with the fold
  as the step), their mean and std (``mean_valid_auc``), the bagged scores
  (``bagged_valid_auc``) and the retrain's;
- tags: the status, the run directory, the trial number of a sweep;
- artifacts: the HTML report (``report.html``), ``summary.json`` and ``scores.csv``.

It only reads what the run wrote, so a job that failed before running leaves
nothing to log; logging never changes a run's outcome or exit code (a failure
to log is one warning line on standard error). It uses MLflow's client
(:class:`mlflow.MlflowClient`), never the process-wide active run.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from rampconf.extras import Extra

try:
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover - Hydra is a dependency
    Callback = object  # type: ignore[assignment,misc]

__all__ = ["MLFLOW", "MLflowCallback", "log_run"]

MLFLOW = Extra("mlflow", ("mlflow",))
#: MLflow's limit on a parameter value's length.
MAX_PARAM = 6000


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict) and tree:
        return {k: v for key, value in tree.items()
                for k, v in _flat(value, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): tree}


def _metrics(run_dir: Path, summary: dict[str, Any]) -> list[tuple[str, float, int]]:
    """``(key, value, step)`` of every fold score and of the mean, std, bagged and retrain."""
    import pandas as pd

    found: list[tuple[str, float, int]] = []
    scores = run_dir / "scores.csv"
    if scores.is_file():
        table = pd.read_csv(scores)
        found += [(f"{row.step}_{row.score}", float(row.value), int(row.fold))
                  for row in table.itertuples(index=False)]
    for stat in ("mean", "std", "bagged", "retrain"):
        for step, values in (summary.get(stat) or {}).items():
            found += [(f"{stat}_{step}_{name}", float(value), 0)
                      for name, value in values.items() if value is not None]
    return found


def log_run(run_dir: str | Path, tracking_uri: str | None = None,
            experiment: str | None = None, report: bool = True) -> str:
    """Log a run directory to MLflow as one run; its MLflow run id.

    Raises
    ------
    ExtraMissing
        MLflow is not installed.
    FileNotFoundError
        ``run_dir`` holds no ``summary.json``.
    """
    MLFLOW.check("logging to MLflow (hydra/callbacks=mlflow)")
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    from rampconf.runs import as_run

    folder = Path(run_dir)
    if not (folder / "summary.json").is_file():
        raise FileNotFoundError(f"{folder}: no summary.json (the run did not start)")
    run = as_run(folder)
    client = MlflowClient(tracking_uri=tracking_uri)
    name = experiment or run.problem
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found is not None else \
        client.create_experiment(name)
    tags = {"rampconf.status": run.status, "rampconf.run_dir": str(folder.resolve()),
            "rampconf.problem": run.problem, "rampconf.submission": run.submission,
            "mlflow.note.content": str(run.summary.get("description") or "")}
    if run.sweep_dir is not None:
        tags["rampconf.sweep_dir"] = str(run.sweep_dir.resolve())
        tags["rampconf.trial"] = str(run.trial)
    created = client.create_run(experiment_id, run_name=run.label, tags=tags)
    run_id = created.info.run_id
    params = [Param(key, str(value)[:MAX_PARAM]) for key, value in
              sorted(_flat({k: v for k, v in run.config.items() if k != "trial"}).items())]
    now = int(time.time() * 1000)
    metrics = [Metric(key, value, now, step) for key, value, step in
               _metrics(folder, run.summary)]
    for start in range(0, max(len(params), len(metrics)), 100):  # MLflow's batch limits
        client.log_batch(run_id, metrics=metrics[start:start + 100],
                         params=params[start:start + 100],
                         tags=[RunTag("rampconf.logged_by", "rampconf")] if not start else [])
    if report:
        from rampconf.html_report import write_run_report

        client.log_artifact(run_id, str(write_run_report(run)))
    for file in ("summary.json", "scores.csv"):
        if (folder / file).is_file():
            client.log_artifact(run_id, str(folder / file))
    client.set_terminated(run_id, status="FINISHED" if run.status == "ok" else "FAILED")
    return run_id


class MLflowCallback(Callback):
    """Hydra callback (``hydra/callbacks=mlflow``): each job's run directory logged to MLflow.

    Parameters
    ----------
    tracking_uri
        Where to log (``sqlite:///mlflow.db``, ``http://host:5000``, ...); None:
        ``$MLFLOW_TRACKING_URI``, else MLflow's default.
    experiment
        The MLflow experiment (default: the problem's name).
    report
        Log the run's HTML report too.
    """

    def __init__(self, tracking_uri: str | None = None, experiment: str | None = None,
                 report: bool = True) -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.report = report

    def on_job_end(self, config: Any, job_return: Any = None, **kwargs: Any) -> None:
        from hydra.core.hydra_config import HydraConfig

        run_dir = Path(HydraConfig.get().runtime.output_dir)
        if not (run_dir / "summary.json").is_file():
            return  # the job stopped before running (a config error): nothing to log
        try:
            run_id = log_run(run_dir, self.tracking_uri, self.experiment, self.report)
        except Exception as exc:  # logging is a viewer's job: it never fails the run
            line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            print(f"warning: hydra/callbacks=mlflow: the run was not logged: {line}",
                  file=sys.stderr)
            return
        from rampconf.outputs import write_atomic

        write_atomic(run_dir / "mlflow.json",
                     json.dumps({"run_id": run_id, "tracking_uri": self.tracking_uri}))
