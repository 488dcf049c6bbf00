"""Regressor features: median-centred, L2-normalised spectra, then the four class columns."""

import numpy as np

LABELS = ["A", "B", "Q", "R"]


class FeatureExtractor:
    def fit(self, X_df, y):
        return self

    def transform(self, X_df):
        spectra = np.stack([np.asarray(s, dtype=float) for s in X_df["spectra"]])
        spectra = spectra - np.median(spectra, axis=1)[:, None]
        spectra = spectra / np.sqrt(np.sum(spectra ** 2, axis=1))[:, None]
        classes = X_df[LABELS].to_numpy(dtype=float)
        return np.concatenate([spectra, classes], axis=1)
