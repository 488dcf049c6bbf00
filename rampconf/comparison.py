"""Each entry of a leaderboard against its leader: fold scores paired, bagged test bootstrapped."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from rampconf.errors import RampconfError
from rampconf.significance import bootstrap_differences, corrected_ttest

if TYPE_CHECKING:
    from rampconf.leaderboard import Column
    from rampconf.runs import RunInfo

__all__ = ["compare_entries"]


def _fold_step(column: Column) -> str:
    return column.step if column.stat in ("mean", "std") else "valid"


def compare_entries(ranked: list[RunInfo], column: Column, n_bootstrap: int = 1000,
                    confidence: float = 0.95, alpha: float = 0.05, random_state: int = 0,
                    test_rows: np.ndarray | None = None, test_only: int = 0
                    ) -> tuple[list[dict[str, Any]], list[str]]:
    """Compare every entry with the first (the leader).

    The last ``test_only`` entries (blends, whose valid scores are optimistic)
    get the bootstrap on the test set only, no t-test on their valid folds.
    Returns one dict per entry (``p_value``, ``test_diff``, ``test_diff_low``,
    ``test_diff_high``, ``mark``) and the notes that explain them.
    """
    from rampconf.saved import load_run_data, load_saved

    leader = ranked[0]
    step = _fold_step(column)
    lead_folds = leader.fold_values(step, column.score)
    folds = leader.result.folds
    ok = folds[folds["status"] == "ok"] if not folds.empty else folds
    n_train = ok["n_train"].to_numpy(dtype=float) if not ok.empty else np.array([np.nan])
    n_valid = ok["n_valid"].to_numpy(dtype=float) if not ok.empty else np.array([np.nan])
    notes = []
    data = lead_test = None
    score = None
    try:
        data = load_run_data(leader)
        score = next((s for s in data.scores if s.name == column.score), None)
        lead_test = load_saved(leader, data.prediction, "bagged").get("test")
        if score is None or lead_test is None:
            missing = "score" if score is None else "bagged test predictions"
            notes.append(f"no bootstrap: the leader has no {missing} ({leader.run_dir})")
    except (RampconfError, OSError, ValueError) as exc:
        notes.append(f"no bootstrap: the leader's data cannot be read again: {exc}")
    results: list[dict[str, Any]] = [{"p_value": np.nan, "test_diff": 0.0, "test_diff_low": 0.0,
                                      "test_diff_high": 0.0, "mark": "leader"}]
    for position, run in enumerate(ranked[1:], start=1):
        if position >= len(ranked) - test_only:
            results.append({"p_value": np.nan, "test_diff": np.nan, "test_diff_low": np.nan,
                            "test_diff_high": np.nan, "mark": ""})
            continue
        values = run.fold_values(step, column.score)
        common = [f for f in sorted(set(lead_folds) & set(values))
                  if math.isfinite(lead_folds[f]) and math.isfinite(values[f])]
        ttest = corrected_ttest([lead_folds[f] for f in common], [values[f] for f in common],
                                n_train, n_valid) if common else None
        pvalue = np.nan if ttest is None else ttest.pvalue
        results.append({"p_value": pvalue, "test_diff": np.nan, "test_diff_low": np.nan,
                        "test_diff_high": np.nan, "mark": "*" if pvalue < alpha else ""})
    if data is not None and score is not None and lead_test is not None:
        rows = np.arange(len(data.y_test)) if test_rows is None else np.asarray(test_rows)
        others = {i: load_saved(run, data.prediction, "bagged").get("test")
                  for i, run in enumerate(ranked) if i > 0}
        for i, pred in others.items():
            if pred is None:
                notes.append(f"no bootstrap for {ranked[i].label}: no saved bagged test "
                             "predictions")
        usable = [(i, pred[rows]) for i, pred in others.items() if pred is not None]
        weights = None if data.test.weights is None else data.test.weights[rows]
        found = bootstrap_differences(score, data.y_test[rows], lead_test[rows],
                                      [pred for _, pred in usable], weights=weights,
                                      n_bootstrap=n_bootstrap, confidence=confidence,
                                      random_state=random_state)
        for (i, _), boot in zip(usable, found, strict=True):
            results[i].update(test_diff=boot.difference, test_diff_low=boot.low,
                              test_diff_high=boot.high)
            if boot.excludes_zero:
                results[i]["mark"] += "†"
    ratio = float(np.nanmean(n_valid) / np.nanmean(n_train))
    notes.insert(0, f"p_value: Nadeau–Bengio corrected resampled t-test of the fold {step} "
                    f"{column.score} against the leader, paired on {len(lead_folds)} folds "
                    f"(n_valid/n_train = {ratio:.3g}); * marks p < {alpha:g}")
    part = "its rows given" if test_rows is not None else "the test rows"
    notes.insert(1, f"test_diff: bagged test {column.score} minus the leader's, with a "
                    f"{confidence:.0%} paired bootstrap interval over {part} ({n_bootstrap} "
                    f"resamples, seed {random_state}); † marks an interval without 0")
    return results, notes
