"""Re-scoring: every score and the bagging again from a run's saved predictions, no retraining.

>>> from rampconf.rescore import rescore
>>> result = rescore("outputs/titanic/starting_kit/2026-11-28_10-00-00",  # doctest: +SKIP
...                  ["+score@problem.scores.f1_50=f1_above",
...                   "problem.scores.f1_50.name=f1_50", "problem.scores.f1_50.threshold=0.5"])

The overrides apply to the run's own saved ``config.yaml`` (not to today's
problem YAML), with Hydra's syntax: change a score's parameter
(``problem.scores.f1_70.threshold=0.6``), add a score from the ``score`` group
(``+score@problem.scores.KEY=OPTION``), remove one (``~problem.scores.KEY``),
or switch ``compat``. Anything else would need a new training, and is
refused. The new run directory has the same layout as a run's, the source's
fold predictions, and ``metadata.json`` names its source (``rescored_from``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rampconf.errors import ConfigError, DataError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rampconf.outputs import RunResult
    from rampconf.runs import RunInfo
    from rampconf.saved import ProblemData, SavedFold

__all__ = ["compose_on_run", "rescore", "score_saved", "summary_of"]

#: Keys of the configuration that re-scoring may change (the rest needs retraining).
CHANGEABLE = ("problem.scores", "compat", "progress", "debug", "n_jobs", "n_figures")


def compose_on_run(config: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply Hydra overrides to a run's saved configuration; plain data back.

    The saved configuration is the primary config; ``./conf`` and the packaged
    conf are on the search path, so ``+score@problem.scores.KEY=OPTION`` finds
    the score options a run finds.

    Raises
    ------
    ConfigError
        Bad override syntax, an unknown option or key (one line).
    """
    import yaml
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from rampconf.api import register_submissions
    from rampconf.resources import packaged_conf_dir

    register_submissions()
    saved = {key: value for key, value in config.items() if key != "trial"}
    user_conf = Path.cwd() / "conf"  # searched first, as for a run
    searchpath = [f"file://{folder}" for folder in (user_conf, packaged_conf_dir())
                  if folder.is_dir()]
    document = {"defaults": ["_self_"], **saved, "hydra": {"searchpath": searchpath}}
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "saved_run.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        try:
            with initialize_config_dir(config_dir=folder, version_base="1.3"):
                composed = compose(config_name="saved_run", overrides=list(overrides))
        except (HydraException, OmegaConfBaseException, yaml.YAMLError) as exc:
            from rampconf.hydra_errors import composition_error

            raise ConfigError(composition_error(exc)) from None
    raw = OmegaConf.to_container(composed, resolve=True)
    assert isinstance(raw, dict)
    raw.pop("hydra", None)
    return {str(key): value for key, value in raw.items()}


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict) and tree:
        return {k: v for key, value in tree.items()
                for k, v in _flat(value, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): tree}


def _keep_env_text(tree: Any, saved: Any) -> Any:
    """``tree`` with the values ``saved`` keeps as ``${oc.env:...}`` text put back."""
    if isinstance(saved, str) and "${oc.env:" in saved:
        return saved
    if isinstance(tree, dict) and isinstance(saved, dict):
        return {key: _keep_env_text(value, saved.get(key)) for key, value in tree.items()}
    return tree


def check_changes(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Refuse changes that re-scoring cannot honour without retraining.

    Raises
    ------
    ConfigError
        The first key outside :data:`CHANGEABLE` whose value differs.
    """
    old, new = _flat(before), _flat(after)
    for key in sorted(set(old) | set(new)):
        if any(key == c or key.startswith(f"{c}.") for c in CHANGEABLE):
            continue
        if old.get(key) != new.get(key):
            raise ConfigError(f"{key}: re-scoring changes only scores (problem.scores.*) and "
                              f"compat; other keys need a new run, got {new.get(key)!r} "
                              f"instead of the run's {old.get(key)!r}")


def score_saved(data: ProblemData, folds: list[SavedFold],
                retrain: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Score saved fold predictions as a run does: folds, bagging curve, retrain.

    Returns ``fold_scores`` (fold -> step -> score -> value), ``curve``,
    ``bagged`` (predictions), ``retrain`` (scores or None), ``undefined``.
    """
    from rampconf.scoring import Scoring

    scoring = Scoring(data.scores, data.y_train, data.y_test, data.train.weights,
                      data.test.weights)
    fold_scores = {f.fold: scoring.fold(f.fold, f.train_idx, f.valid_idx, f.y_pred_train,
                                        f.y_pred_test) for f in folds}
    curve, bagged = scoring.bag(data.prediction, folds) if folds else ([], {})
    retrain_scores = None
    if retrain and "train" in retrain and "test" in retrain:
        retrain_scores = scoring.retrain(retrain["train"], retrain["test"])
    elif retrain and "test" in retrain:  # written before retrain.npz kept the train part
        retrain_scores = {"test": scoring.rows(data.y_test, retrain["test"],
                                               data.test.weights, "retrain test")}
    return {"fold_scores": fold_scores, "curve": curve, "bagged": bagged,
            "retrain": retrain_scores, "undefined": scoring.undefined_records()}


def summary_of(base: dict[str, Any], data: ProblemData, scored: dict[str, Any]
               ) -> dict[str, Any]:
    """``base`` (a run's summary) with every score-dependent entry recomputed from ``scored``."""
    from rampconf.scoring import mean_std

    mean, std = mean_std(scored["fold_scores"])
    scores = data.scores
    return {**base,
            "official_score": scores[0].name,
            "greater_is_better": scores[0].greater_is_better,
            "score_names": [s.name for s in scores],
            "precisions": {s.name: s.precision for s in scores},
            "directions": {s.name: "max" if s.greater_is_better else "min" for s in scores},
            "mean": mean, "std": std,
            "bagged": scored["curve"][-1] if scored["curve"] else {},
            "retrain": scored["retrain"], "undefined": scored["undefined"]}


def score_rows(fold_scores: dict[int, dict[str, dict[str, float]]]) -> pd.DataFrame:
    """The tidy ``scores.csv`` table."""
    rows = [{"fold": fold, "step": step, "score": name, "value": value}
            for fold in sorted(fold_scores) for step, values in fold_scores[fold].items()
            for name, value in values.items()]
    return pd.DataFrame(rows, columns=["fold", "step", "score", "value"])


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link (no extra space; the files are never rewritten in place), else copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _default_output(source: Path) -> Path:
    candidate, n = source.with_name(f"{source.name}_rescored"), 0
    while candidate.exists():
        n += 1
        candidate = source.with_name(f"{source.name}_rescored_{n}")
    return candidate


def rescore(run: RunInfo | str | os.PathLike[str], overrides: Sequence[str] = (),
            output_dir: str | os.PathLike[str] | None = None) -> RunResult:
    """Recompute every score and the bagging of a run from its saved predictions.

    Parameters
    ----------
    run
        The source run directory.
    overrides
        Hydra overrides applied to the run's configuration (scores and ``compat`` only).
    output_dir
        The new run directory; default ``<run dir>_rescored`` (``_1``, ``_2``, ... when taken).

    Raises
    ------
    ConfigError
        Bad overrides, or overrides of keys that need retraining.
    DataError
        Missing predictions, missing data, or data files changed since the run.
    """
    from rampconf.outputs import RunWriter, fold_indices_sha256, load_run, write_csv
    from rampconf.runs import as_run
    from rampconf.saved import load_fold_predictions, load_problem_data, load_saved
    from rampconf.schema import validate_config

    source = as_run(run)
    started = dt.datetime.now(dt.timezone.utc)
    raw = compose_on_run(source.config, overrides)
    config = validate_config(raw)
    dump = config.model_dump(mode="json")
    # The saved config keeps ${oc.env:...} values as their text: compare with the run's
    # config resolved the same way, and save those values as text again.
    before = validate_config(compose_on_run(source.config, [])).model_dump(mode="json")
    check_changes({k: v for k, v in before.items() if k != "trial"}, dump)
    dump = _keep_env_text(dump, source.config)
    data = load_problem_data(config, source.metadata, str(source.run_dir))
    folds = load_fold_predictions(source, data.prediction)
    scored = score_saved(data, folds, load_saved(source, data.prediction, "retrain"))
    out = Path(output_dir) if output_dir is not None else _default_output(source.run_dir)
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: the output directory exists and is not empty")
    writer = RunWriter(out, save_predictions=True, pack=data.prediction.pack)
    writer.write_config(dump)
    metadata = {**source.metadata, "rescored_from": str(source.run_dir.resolve()),
                "rescore_overrides": list(overrides), "rescored": started.isoformat()}
    writer.write_metadata(metadata)
    for name in ("predictions", "errors", "figures"):
        folder = source.run_dir / name
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file() and path.name != "bagged.npz":
                _link_or_copy(path, out / path.relative_to(source.run_dir))
    table = source.result.folds.copy()
    if "indices_sha256" not in table:  # an older run: hash the folds its predictions hold
        hashes = {f.fold: fold_indices_sha256(f.train_idx, f.valid_idx) for f in folds}
        table["indices_sha256"] = [hashes.get(int(f), "") for f in table["fold"]]
    write_csv(out / "folds.csv", table)
    write_csv(out / "scores.csv", score_rows(scored["fold_scores"]), na_rep="NaN")
    writer.write_bagging(scored["curve"], scored["bagged"])
    if scored["retrain"] is not None:
        rows = [{"step": step, "score": name, "value": value}
                for step, values in scored["retrain"].items() for name, value in values.items()]
        write_csv(out / "retrain_scores.csv",
                  pd.DataFrame(rows, columns=["step", "score", "value"]), na_rep="NaN")
    summary = summary_of(source.summary, data, scored)
    summary["rescored_from"] = str(source.run_dir.resolve())
    metadata["finished"] = dt.datetime.now(dt.timezone.utc).isoformat()
    writer.write_metadata(metadata)
    writer.write_summary(summary)
    return load_run(out)
