"""Light curves starting kit: folded-curve features per star, then a random forest.

Each row of ``X`` holds a star's ``times`` and ``magnitudes`` (NumPy arrays,
a different length per star) and its ``mean_error``. ``curve_features``
searches the period with a Lomb-Scargle periodogram, folds the curve on it
and describes the folded shape: binned mean magnitude by phase (aligned on
the faintest bin), amplitude, spread, skewness, and the periodogram's power.
"""

import numpy as np
import pandas as pd
from scipy.signal import lombscargle
from scipy.stats import kurtosis, skew
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

#: Trial frequencies (cycles a day) of the period search.
FREQUENCIES = np.linspace(0.05, 4.0, 2000)
N_BINS = 10


def folded_features(times, magnitudes):
    """Features of one light curve (see the module docstring)."""
    t = np.asarray(times, dtype=float)
    m = np.asarray(magnitudes, dtype=float)
    if len(m) < 5:
        return np.zeros(8 + N_BINS)
    centred = m - np.median(m)
    spread = np.std(centred) or 1.0
    power = lombscargle(t, centred - centred.mean(), 2 * np.pi * FREQUENCIES)
    power = power / (power.sum() or 1.0)
    best = int(np.argmax(power))
    frequency = FREQUENCIES[best]
    phase = (t * frequency) % 1.0
    bins = np.minimum((phase * N_BINS).astype(int), N_BINS - 1)
    means = np.array([centred[bins == b].mean() if np.any(bins == b) else np.nan
                      for b in range(N_BINS)])
    means = np.where(np.isnan(means), np.nanmean(means), means)
    means = np.roll(means, -int(np.argmax(means)))  # start at the faintest bin
    amplitude = np.percentile(m, 95) - np.percentile(m, 5)
    # Eclipsing binaries are often found at half their period: also fold at twice it.
    phase2 = (t * frequency / 2) % 1.0
    halves = [centred[(phase2 >= a) & (phase2 < a + 0.5)] for a in (0.0, 0.5)]
    asymmetry = abs(np.median(halves[0]) - np.median(halves[1])) / spread \
        if all(len(h) for h in halves) else 0.0
    return np.concatenate([
        [np.log10(1 / frequency), power[best] * len(FREQUENCIES), amplitude,
         np.log10(spread), skew(centred), kurtosis(centred), asymmetry, len(m)],
        means / spread])


def curve_features(X):
    """One row of folded-curve features per star, plus the scalar columns."""
    features = np.array([folded_features(t, m) for t, m in zip(X["times"], X["magnitudes"])])
    scalars = X.drop(columns=["times", "magnitudes"]).to_numpy(dtype=float)
    return np.hstack([features, scalars]) if scalars.size else features


def get_estimator():
    return make_pipeline(
        FunctionTransformer(curve_features),
        RandomForestClassifier(n_estimators=200, random_state=0, n_jobs=1))
