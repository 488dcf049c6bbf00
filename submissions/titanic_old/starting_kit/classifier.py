"""Titanic (old workflow) starting kit: median imputation + a small random forest."""

from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline


class Classifier:
    def __init__(self, n_estimators=10, max_leaf_nodes=10, random_state=61):
        self.model = Pipeline([
            ("imputer", SimpleImputer(strategy="median")),
            ("classifier", RandomForestClassifier(
                n_estimators=n_estimators,
                max_leaf_nodes=max_leaf_nodes,
                random_state=random_state,
            )),
        ])

    def fit(self, X, y):
        self.model.fit(X, y)
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(X)
