"""One PCA(10) (seeded randomized SVD) + gradient boosting model per molecule, on the log concentration.

The last four feature columns are the class columns (true one-hot labels when
fitting, predicted probabilities when predicting); a sample goes to the model
of its most probable molecule.
"""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.pipeline import Pipeline

MOLECULES = ["A", "B", "Q", "R"]


class Regressor(BaseEstimator):
    def __init__(self, n_components=10, n_estimators=40, learning_rate=0.2,
                 pca_random_state=0):
        self.n_components = n_components
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.pca_random_state = pca_random_state

    def _model(self):
        return Pipeline([
            ("pca", PCA(n_components=self.n_components, random_state=self.pca_random_state)),
            ("reg", GradientBoostingRegressor(n_estimators=self.n_estimators,
                                              learning_rate=self.learning_rate,
                                              random_state=42)),
        ])

    def fit(self, X, y):
        molecule = np.argmax(X[:, -len(MOLECULES):], axis=1)
        self.models_ = {}
        for i, name in enumerate(MOLECULES):
            rows = np.flatnonzero(molecule == i)
            self.models_[name] = self._model().fit(X[rows], np.log(y[rows]))
        return self

    def predict(self, X):
        molecule = np.argmax(X[:, -len(MOLECULES):], axis=1)
        y_pred = np.zeros(len(X))
        for i, name in enumerate(MOLECULES):
            rows = np.flatnonzero(molecule == i)
            if len(rows):
                y_pred[rows] = np.exp(self.models_[name].predict(X[rows]))
        return y_pred
