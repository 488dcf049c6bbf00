"""PCA to 50 components (seeded randomized SVD), then a random forest of 10 trees."""

from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline


class Classifier(BaseEstimator):
    def __init__(self, n_components=50, n_estimators=10, pca_random_state=0):
        self.n_components = n_components
        self.n_estimators = n_estimators
        self.pca_random_state = pca_random_state

    def fit(self, X, y):
        self.model_ = Pipeline([
            ("pca", PCA(n_components=self.n_components, random_state=self.pca_random_state)),
            ("clf", RandomForestClassifier(n_estimators=self.n_estimators, random_state=42)),
        ])
        self.model_.fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)
