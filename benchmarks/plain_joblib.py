"""The air_passengers CV with plain scikit-learn and joblib: the baseline of ``n_jobs``.

What ``python -m rampconf problem=air_passengers n_jobs=N`` does, written as a
plain script: read the kit, the kit's 8 shuffle-split folds, and for each fold
(``joblib.Parallel(n_jobs=N)``, its default loky workers) fit the starting kit's
forest of ``--trees`` trees on the fold's rows and predict the whole training
set and the test set; then the RMSE of train, valid and test rows per fold,
their mean, and the bagged valid and test RMSE.

    python benchmarks/plain_joblib.py --n-jobs 2 --trees 500
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from plain_sklearn import KITS, default_kits_root, load_module, nan_mean, read_data

REPO = Path(__file__).resolve().parents[1]


def fit_predict(folder: Path, trees: int, X_train, y_fit, train_is, X_test):
    estimator = load_module(folder, "estimator").get_estimator(n_estimators=trees)
    estimator.fit(X_train.iloc[train_is], y_fit)
    return estimator.predict(X_train), estimator.predict(X_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--kits", default=None)
    args = parser.parse_args()
    spec = KITS["air_passengers"]
    data = Path(args.kits) if args.kits else default_kits_root()
    data = data / spec["data"]
    X_train, y_train = read_data(data / spec["train"], spec)
    X_test, y_test = read_data(data / spec["test"], spec)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(REPO / "submissions" / "air_passengers" / "starting_kit" / "estimator.py",
                    work / "estimator.py")
        for extra in spec["extra_files"]:
            shutil.copy(data / extra, work / extra)
        folds = list(spec["cv"].split(X_train, y_train))
        predictions = Parallel(n_jobs=args.n_jobs)(
            delayed(fit_predict)(work, args.trees, X_train, y_train[tr], tr, X_test)
            for tr, _ in folds)

    def rmse(t, p):
        return float(np.sqrt(np.mean((t - p) ** 2)))

    scores, valid_preds = [], []
    for (tr, va), (pred_train, pred_test) in zip(folds, predictions, strict=True):
        scores.append([rmse(y_train[tr], pred_train[tr]), rmse(y_train[va], pred_train[va]),
                       rmse(y_test, pred_test)])
        only_valid = np.full_like(pred_train, np.nan)
        only_valid[va] = pred_train[va]
        valid_preds.append(only_valid)
    bagged = nan_mean(valid_preds)
    seen = ~np.isnan(bagged)
    test = np.mean([p for _, p in predictions], axis=0)
    print("mean train / valid / test rmse:", np.mean(scores, axis=0).round(4),
          "bagged valid / test:", round(rmse(y_train[seen], bagged[seen]), 4),
          round(rmse(y_test, test), 4))


if __name__ == "__main__":
    sys.exit(main())
