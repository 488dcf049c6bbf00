"""Blending: combine the saved fold predictions of many runs (Caruana's ensemble selection).

For each fold, on that fold's valid rows, greedy forward selection with
replacement (Caruana et al., ICML 2004): start from the best single run by
the chosen score (the official one by default), then repeatedly add the run
(possibly again) whose addition gives the best score of the combined
prediction, while that score improves by more than ``min_improvement``. The
combination is the prediction type's own :meth:`combine` of the chosen
predictions (a run chosen twice counts twice), so every prediction type that
can bag can blend. A run's contributivity in a fold is its share of the
fold's ensemble; its contributivity is the mean over folds. The per-fold
blends are then bagged over folds on valid and test, as a run's folds are.

The blend is written as a run directory of its own (``submission: blend``),
so the leaderboard, the report and re-scoring read it like any run, plus
``contributivity.csv`` and ``blend_scores.csv``::

    from rampconf.blend import blend
    result = blend(["outputs/iris/starting_kit/...", "outputs/iris/random_forest_10_10/..."])
    result.contributivity_table()
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rampconf.errors import ConfigError, DataError
from rampconf.scores import UndefinedScore

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from rampconf.outputs import RunResult
    from rampconf.predictions import BasePrediction
    from rampconf.runs import RunInfo
    from rampconf.saved import SavedFold
    from rampconf.scores import BaseScore

__all__ = ["BlendResult", "blend", "select_ensemble"]

#: Relative difference of two scores below which they tie: the same predictions combined
#: in another order (or predicted in another batch) differ in their last bits, and such
#: differences must not choose a member (ramp-blend lets them: see docs/guide/process.md).
NOISE = 1e-12


def select_ensemble(predictions: Sequence[np.ndarray], y_true: np.ndarray,
                    prediction: BasePrediction, score: BaseScore,
                    weights: np.ndarray | None = None, max_size: int = 80,
                    min_improvement: float = 0.0) -> list[int]:
    """Greedy forward selection with replacement on one fold's valid rows.

    Parameters
    ----------
    predictions
        One prediction of the same rows per candidate.
    y_true, weights
        Encoded targets (and per-sample weights) of those rows.
    prediction
        The prediction type, whose :meth:`combine` mixes the chosen predictions.
    score
        The score that chooses (its direction decides what is better).
    max_size
        Largest ensemble (counting repeats).
    min_improvement
        A candidate is added only when it improves the score by more than this
        (and always by more than floating-point noise, :data:`NOISE`).

    Returns
    -------
    list of int
        Indices of the chosen predictions in the order chosen (with repeats).
        Scores within :data:`NOISE` of each other tie; ties go to the lower index.
    """
    sign = 1.0 if score.greater_is_better else -1.0

    def gain(y_pred: np.ndarray) -> float:
        """The score oriented so that more is better (undefined: worst)."""
        try:
            value = float(score(y_true, y_pred, weights))
        except UndefinedScore:
            return -math.inf
        return sign * value if value == value else -math.inf

    def first_best(values: list[float]) -> int:
        top = max(values)
        return next(i for i, v in enumerate(values) if v >= top - NOISE * max(1.0, abs(top)))

    singles = [gain(p) for p in predictions]
    ensemble = [first_best(singles)]
    current = singles[ensemble[0]]
    while len(ensemble) < max_size:
        values = [gain(prediction.combine([predictions[i] for i in [*ensemble, j]]))
                  for j in range(len(predictions))]
        best = first_best(values)
        if not values[best] > current + max(min_improvement, NOISE * max(1.0, abs(current))):
            break
        ensemble.append(best)
        current = values[best]
    return ensemble


@dataclass
class BlendResult:
    """A blend: its run directory and what each member contributed.

    Attributes
    ----------
    run : RunResult
        The blend as a run (per-fold blended predictions, scores, bagging).
    members : list of RunInfo
    contributivity : pandas.DataFrame
        Tidy: ``submission, run_dir, fold, count, share`` (share of the fold's ensemble).
    scores : pandas.DataFrame
        Tidy bagged scores: ``entry, step, score, value`` for ``blend``,
        ``foldwise_best`` (each fold's best single member, bagged) and each member.
    ensembles : dict
        Fold -> indices of the members chosen, in order.
    """

    run: RunResult
    members: list[RunInfo]
    contributivity: pd.DataFrame
    scores: pd.DataFrame
    ensembles: dict[int, list[int]]

    def contributivity_table(self) -> pd.DataFrame:
        """Per member: ``submission``, ``contributivity`` (% of the blend, mean over folds)."""
        table = self.contributivity.groupby("submission", sort=False)["share"].mean() * 100
        return table.rename("contributivity").reset_index().sort_values(
            "contributivity", ascending=False, kind="stable").reset_index(drop=True)


def _member_folds(members: list[RunInfo], prediction: BasePrediction
                  ) -> dict[int, list[SavedFold]]:
    """Fold -> each member's saved fold result, for folds every member ran."""
    from rampconf.saved import load_fold_predictions

    per_member = [{f.fold: f for f in load_fold_predictions(m, prediction)} for m in members]
    common = set.intersection(*(set(f) for f in per_member))
    return {fold: [p[fold] for p in per_member] for fold in sorted(common)}


def _blend_run_config(members: list[RunInfo]) -> dict[str, Any]:
    config = {k: v for k, v in members[0].config.items() if k != "trial"}
    config["submission"] = {"name": "blend", "path": None, "params": {}}
    return config


def _default_output(problem: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    candidate, n = Path("outputs") / problem / "blend" / stamp, 0
    while candidate.exists():
        n += 1
        candidate = candidate.with_name(f"{stamp}_{n}")
    return candidate


def blend(runs: Sequence[RunInfo | str | os.PathLike[str]], score: str | None = None,
          max_size: int = 80, min_improvement: float = 0.0,
          output_dir: str | os.PathLike[str] | None = None) -> BlendResult:
    """Blend comparable runs fold by fold and bag the per-fold blends.

    Parameters
    ----------
    runs
        Two or more runs of one problem on the same folds and data, with saved
        predictions; their order breaks ties.
    score
        Name of the score that chooses the ensemble (default: the official score).
    max_size, min_improvement
        See :func:`select_ensemble`.
    output_dir
        The blend's run directory (default ``outputs/<problem>/blend/<timestamp>``).

    Raises
    ------
    ConfigError
        Fewer than two runs, runs that are not comparable, or an unknown score.
    DataError
        Missing predictions or data.
    """
    from rampconf.outputs import RunWriter, load_run, package_versions, write_csv
    from rampconf.rescore import score_saved, summary_of
    from rampconf.runs import as_run
    from rampconf.saved import SavedFold, load_run_data

    members = [as_run(run) for run in runs]
    if len(members) < 2:
        raise ConfigError(f"blend: at least 2 runs are needed, got {len(members)}")
    keys = {m.comparable_key for m in members}
    if len(keys) > 1:
        raise ConfigError("blend: the runs are not comparable (problem, official score, data "
                          "files or CV folds differ): " + "; ".join(
                              f"{m.label}: {m.problem}, {m.cv_text}" for m in members))
    started = dt.datetime.now(dt.timezone.utc)
    data = load_run_data(members[0])
    names = [s.name for s in data.scores]
    chooser = next((s for s in data.scores if s.name == (score or names[0])), None)
    if chooser is None:
        raise ConfigError(f"blend: --score {score!r} is not a score of {members[0].problem}; "
                          f"its scores: {', '.join(names)}")
    folds = _member_folds(members, data.prediction)
    if not folds:
        raise DataError("blend: no fold ran successfully in every run")
    combine = data.prediction.combine
    weights = data.train.weights
    blended: list[SavedFold] = []
    best_single: list[SavedFold] = []
    ensembles: dict[int, list[int]] = {}
    shares: list[dict[str, Any]] = []
    for fold, results in folds.items():
        valid_idx = results[0].valid_idx
        valid = [r.y_pred_train[valid_idx] for r in results]
        chosen = select_ensemble(valid, data.y_train[valid_idx], data.prediction, chooser,
                                 None if weights is None else weights[valid_idx], max_size,
                                 min_improvement)
        ensembles[fold] = chosen
        used = sorted(set(chosen))
        times = {step: float(sum(results[i].times.get(step, 0.0) for i in used))
                 for step in ("train", "valid", "test")}
        blended.append(SavedFold(
            fold=fold, seed=results[0].seed, train_idx=results[0].train_idx,
            valid_idx=valid_idx,
            times=times, y_pred_train=combine([results[i].y_pred_train for i in chosen]),
            y_pred_test=combine([results[i].y_pred_test for i in chosen])))
        best_single.append(results[chosen[0]])
        shares += [{"submission": m.label, "run_dir": str(m.run_dir), "fold": fold,
                    "count": chosen.count(i), "share": chosen.count(i) / len(chosen)}
                   for i, m in enumerate(members)]
    scored = score_saved(data, blended)
    foldwise = score_saved(data, best_single)
    out = Path(output_dir) if output_dir is not None else _default_output(members[0].problem)
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: the output directory exists and is not empty")
    writer = RunWriter(out, save_predictions=True, pack=data.prediction.pack)
    writer.write_config(_blend_run_config(members))
    metadata: dict[str, Any] = {
        "started": started.isoformat(), "versions": package_versions(),
        "data_files": members[0].metadata.get("data_files", {}),
        "blend": {"score": chooser.name, "max_size": max_size,
                  "min_improvement": min_improvement,
                  "members": [{"label": m.label, "submission": m.submission,
                               "run_dir": str(m.run_dir.resolve())} for m in members]}}
    writer.write_metadata(metadata)
    for result in blended:
        writer.write_fold(result, scored["fold_scores"][result.fold], len(data.y_train))
    writer.write_bagging(scored["curve"], scored["bagged"])
    labels = ", ".join(m.label for m in members)
    base = {"problem": members[0].problem, "submission": "blend", "status": "ok",
            "n_folds": len(blended), "n_folds_ok": len(blended), "failed_folds": [],
            "seeds": members[0].summary.get("seeds", {}), "description":
            f"a blend of {labels}, chosen fold by fold on the valid rows by {chooser.name}"}
    rows = [{"entry": "blend", "step": step, "score": name, "value": value}
            for step, values in (scored["curve"][-1] if scored["curve"] else {}).items()
            for name, value in values.items()]
    rows += [{"entry": "foldwise_best", "step": step, "score": name, "value": value}
             for step, values in (foldwise["curve"][-1] if foldwise["curve"] else {}).items()
             for name, value in values.items()]
    rows += [{"entry": m.label, "step": step, "score": name, "value": value}
             for m in members for step, values in m.table("bagged").items()
             for name, value in values.items()]
    scores = pd.DataFrame(rows, columns=["entry", "step", "score", "value"])
    contributivity = pd.DataFrame(shares, columns=["submission", "run_dir", "fold", "count",
                                                   "share"])
    write_csv(out / "contributivity.csv", contributivity)
    write_csv(out / "blend_scores.csv", scores, na_rep="NaN")
    metadata["finished"] = dt.datetime.now(dt.timezone.utc).isoformat()
    writer.write_metadata(metadata)
    writer.write_summary(summary_of(base, data, scored))
    return BlendResult(run=load_run(out), members=members, contributivity=contributivity,
                       scores=scores, ensembles=ensembles)
