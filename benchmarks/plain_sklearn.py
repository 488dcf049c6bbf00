"""Score a RAMP submission with plain scikit-learn (no rampconf).

This is what ``ramp-test`` does for the five tabular test kits, written as a
straightforward script: read the kit CSVs, build the cross-validation, load
the submission files with importlib, and for every fold fit on the fold's
training rows, predict on the whole training set and on the test set, and
score train rows, valid rows and test. Then the mean and population std over
folds, and the CV-bagged valid and test scores.

It serves two purposes: checking that the submissions under
``submissions`` reproduce ramp-workflow's numbers
(``<kits>/reference/ramp_test_scores.json``), and giving a speed baseline.

    python benchmarks/plain_sklearn.py titanic submissions/titanic/starting_kit
    python benchmarks/plain_sklearn.py iris random_forest_10_10 --json

The submission may be a folder or the name of a folder under
``submissions/<kit>/``. The kits folder is ``--kits``, else the
environment variable ``RAMPCONF_KITS``, else ``../shared/kits`` next to the
repository root.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

REPO_ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = REPO_ROOT / "submissions"

# kit -> data folder, files, target, ignored columns, task, labels, cv, workflow, score
KITS = {
    "iris": dict(
        data="iris", train="train.csv", test="test.csv", target="species", ignore=[],
        task="classification", labels=["setosa", "versicolor", "virginica"],
        cv=StratifiedShuffleSplit(n_splits=2, test_size=0.2, random_state=57),
        workflow="estimator", score="acc"),
    "titanic": dict(
        data="titanic", train="train.csv", test="test.csv", target="Survived",
        ignore=["PassengerId"], task="classification", labels=[0, 1],
        cv=StratifiedShuffleSplit(n_splits=8, test_size=0.2, random_state=57),
        workflow="estimator", score="auc"),
    "titanic_old": dict(
        data="titanic", train="train.csv", test="test.csv", target="Survived",
        ignore=["PassengerId"], task="classification", labels=[0, 1],
        cv=StratifiedShuffleSplit(n_splits=8, test_size=0.2, random_state=57),
        workflow="feature_extractor_classifier", score="auc"),
    "boston_housing": dict(
        data="boston_housing", train="train.csv", test="test.csv", target="medv",
        ignore=[], task="regression", labels=None,
        cv=ShuffleSplit(n_splits=2, test_size=0.2, random_state=57),
        workflow="estimator", score="rmse"),
    "air_passengers": dict(
        data="air_passengers", train="train.csv.bz2", test="test.csv.bz2",
        target="log_PAX", ignore=[], task="regression", labels=None,
        cv=ShuffleSplit(n_splits=8, test_size=0.5, random_state=57),
        workflow="estimator_external_data", score="rmse",
        extra_files=["external_data.csv"]),
}


def default_kits_root() -> Path:
    env = os.environ.get("RAMPCONF_KITS")
    if env:
        return Path(env)
    return (REPO_ROOT / ".." / "shared" / "kits").resolve()


def read_data(path: Path, spec: dict) -> tuple[pd.DataFrame, np.ndarray]:
    data = pd.read_csv(path)
    y = data[spec["target"]].to_numpy()
    X = data.drop(columns=[spec["target"], *spec["ignore"]])
    return X, y


def load_module(folder: Path, name: str):
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"submission_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- workflows

def train(workflow: str, folder: Path, X: pd.DataFrame, y: np.ndarray, task: str):
    """Fit the submission on (X, y); return a function X -> predictions."""
    if workflow in ("estimator", "estimator_external_data"):
        estimator = load_module(folder, "estimator").get_estimator()
        estimator.fit(X, y)
        if task == "classification":
            return estimator.predict_proba
        return estimator.predict
    if workflow in ("feature_extractor_classifier", "feature_extractor_regressor"):
        extractor = load_module(folder, "feature_extractor").FeatureExtractor()
        extractor.fit(X, y)
        if task == "classification":
            model = load_module(folder, "classifier").Classifier()
        else:
            model = load_module(folder, "regressor").Regressor()
        model.fit(extractor.transform(X), y)
        method = model.predict_proba if task == "classification" else model.predict
        return lambda X_new: method(extractor.transform(X_new))
    raise ValueError(f"unknown workflow {workflow}")


# ------------------------------------------------------------------- scores

def score(name: str, y_true: np.ndarray, y_pred: np.ndarray, labels) -> float:
    if name == "acc":
        true_index = np.array([labels.index(label) for label in y_true])
        return float(np.mean(np.argmax(y_pred, axis=1) == true_index))
    if name == "auc":
        from sklearn.metrics import roc_auc_score
        return float(roc_auc_score(y_true == labels[1], y_pred[:, 1]))
    if name == "rmse":
        return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))
    raise ValueError(f"unknown score {name}")


def _gini(actual: np.ndarray, pred: np.ndarray) -> float:
    order = np.argsort(-pred, kind="stable")
    cum = np.cumsum(actual[order]) / actual.sum()
    return float(cum.sum() / len(actual) - (len(actual) + 1) / (2 * len(actual)))


def _brier_bins(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts, edges = np.histogram(p, bins=np.arange(0, 1.2, 0.1))
    index = np.clip(np.digitize(p, edges) - 1, 0, len(counts) - 1)
    observed = np.bincount(index, weights=y, minlength=len(counts))
    return counts, observed, (edges[:-1] + edges[1:]) / 2


def _reliability(y: np.ndarray, p: np.ndarray) -> float:
    counts, observed, centres = _brier_bins(y, p)
    keep = counts > 0
    return float(np.sum(counts[keep] * (centres[keep] - observed[keep] / counts[keep]) ** 2)
                 / len(y))


def _resolution(y: np.ndarray, p: np.ndarray) -> float:
    counts, observed, _ = _brier_bins(y, p)
    keep, base = counts > 0, y.mean()
    return float(np.sum(counts[keep] * (observed[keep] / counts[keep] - base) ** 2)
                 / len(y) / (base * (1 - base)))


def all_scores(task: str, n_labels: int | None) -> dict:
    """Every score of the kit's problem, written plainly (for a fair timing baseline)."""
    from sklearn import metrics

    if task == "regression":
        return {
            "rmse": lambda t, p: float(np.sqrt(np.mean((t - p) ** 2))),
            "rel_rmse": lambda t, p: float(np.sqrt(np.mean(((t - p) / t) ** 2))),
            "n_rmse": lambda t, p: float(np.sqrt(np.mean((t - p) ** 2)) / np.std(t)),
        }
    scores = {
        "acc": lambda t, p: metrics.accuracy_score(t, p.argmax(1)),
        "error": lambda t, p: 1 - metrics.accuracy_score(t, p.argmax(1)),
        "nll": lambda t, p: metrics.log_loss(t, p / p.sum(1, keepdims=True),
                                             labels=range(p.shape[1])),
        "f1_70": lambda t, p: float(np.mean(metrics.f1_score(
            t, p.argmax(1), average=None, labels=range(p.shape[1]), zero_division=0) > 0.7)),
        "ngini": lambda t, p: _gini(t.astype(float), p[:, 1]) / _gini(t.astype(float), t),
        "bac": lambda t, p: metrics.balanced_accuracy_score(t, p.argmax(1), adjusted=True),
        "mar": lambda t, p: metrics.recall_score(t, p.argmax(1), average="macro",
                                                 zero_division=0),
    }
    if n_labels == 2:
        scores.update({
            "auc": lambda t, p: metrics.roc_auc_score(t, p[:, 1]),
            "BSS": lambda t, p: 1 - metrics.brier_score_loss(t, p[:, 1]) / np.mean(
                (t - t.mean()) ** 2),
            "BS": lambda t, p: metrics.brier_score_loss(t, p[:, 1]),
            "BS Rel": lambda t, p: _reliability(t, p[:, 1]),
            "BS Res": lambda t, p: _resolution(t, p[:, 1]),
        })
    return scores


def nan_mean(predictions: list[np.ndarray]) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN rows
        return np.nanmean(np.stack(predictions), axis=0)


def score_all(task, labels, y_train, y_test, pred_train, pred_test, train_is, valid_is):
    """Every score of the problem on train rows, valid rows and test."""
    if task == "classification":
        y_train = np.array([labels.index(v) for v in y_train])
        y_test = np.array([labels.index(v) for v in y_test])
    funcs = all_scores(task, len(labels) if labels else None)
    parts = {"train": (y_train[train_is], pred_train[train_is]),
             "valid": (y_train[valid_is], pred_train[valid_is]), "test": (y_test, pred_test)}
    return {step: {n: f(t, p) for n, f in funcs.items()} for step, (t, p) in parts.items()}


# --------------------------------------------------------------------- run

def run(kit: str, submission_dir, kits_root=None, every_score: bool = False) -> dict:
    spec = KITS[kit]
    kits_root = Path(kits_root) if kits_root is not None else default_kits_root()
    data_dir = kits_root / spec["data"]
    folder = Path(submission_dir)
    if not folder.is_dir():
        folder = SUBMISSIONS / kit / str(submission_dir)

    X_train, y_train = read_data(data_dir / spec["train"], spec)
    X_test, y_test = read_data(data_dir / spec["test"], spec)
    name, labels, task = spec["score"], spec["labels"], spec["task"]

    with tempfile.TemporaryDirectory() as tmp:
        if spec.get("extra_files"):
            # the submission reads its extra files from beside its modules
            work = Path(tmp)
            for path in folder.glob("*.py"):
                shutil.copy(path, work / path.name)
            for extra in spec["extra_files"]:
                shutil.copy(data_dir / extra, work / extra)
        else:
            work = folder

        folds, valid_preds, test_preds = [], [], []
        for train_is, valid_is in spec["cv"].split(X_train, y_train):
            predict = train(spec["workflow"], work, X_train.iloc[train_is],
                            y_train[train_is], task)
            pred_train = np.asarray(predict(X_train), dtype=float)
            pred_test = np.asarray(predict(X_test), dtype=float)
            folds.append({
                "train": score(name, y_train[train_is], pred_train[train_is], labels),
                "valid": score(name, y_train[valid_is], pred_train[valid_is], labels),
                "test": score(name, y_test, pred_test, labels),
            })
            if every_score:
                folds[-1]["all"] = score_all(task, labels, y_train, y_test, pred_train,
                                             pred_test, train_is, valid_is)
            only_valid = np.full_like(pred_train, np.nan)
            only_valid[valid_is] = pred_train[valid_is]
            valid_preds.append(only_valid)
            test_preds.append(pred_test)

    bagged_valid = nan_mean(valid_preds)
    seen = ~np.isnan(bagged_valid.reshape(len(bagged_valid), -1)).all(axis=1)
    steps = ("train", "valid", "test")
    return {
        "score": name,
        "folds": folds,
        "mean": {s: float(np.mean([f[s] for f in folds])) for s in steps},
        "std": {s: float(np.std([f[s] for f in folds])) for s in steps},
        "bagged": {
            "valid": score(name, y_train[seen], bagged_valid[seen], labels),
            "test": score(name, y_test, np.mean(np.stack(test_preds), axis=0), labels),
        },
    }


def print_table(kit: str, submission: str, result: dict) -> None:
    name = result["score"]
    print(f"{kit} / {submission}  ({name})")
    print(f"{'':>8} {'train':>10} {'valid':>10} {'test':>10}")
    for i, fold in enumerate(result["folds"]):
        print(f"{'fold ' + str(i):>8} {fold['train']:10.6f} {fold['valid']:10.6f} "
              f"{fold['test']:10.6f}")
    for row in ("mean", "std"):
        r = result[row]
        print(f"{row:>8} {r['train']:10.6f} {r['valid']:10.6f} {r['test']:10.6f}")
    b = result["bagged"]
    print(f"{'bagged':>8} {'':>10} {b['valid']:10.6f} {b['test']:10.6f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kit", choices=sorted(KITS))
    parser.add_argument("submission", nargs="?", default="starting_kit",
                        help="submission folder, or its name under submissions/<kit>")
    parser.add_argument("--kits", default=None, help="folder holding the kit data")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--all-scores", action="store_true",
                        help="also compute every score of the kit's problem (timing baseline)")
    args = parser.parse_args(argv)

    result = run(args.kit, args.submission, args.kits, every_score=args.all_scores)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(args.kit, args.submission, result)
        if args.all_scores:
            mean = {n: np.mean([f["all"]["valid"][n] for f in result["folds"]])
                    for n in result["folds"][0]["all"]["valid"]}
            print("mean valid, every score:", {n: round(float(v), 4) for n, v in mean.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
