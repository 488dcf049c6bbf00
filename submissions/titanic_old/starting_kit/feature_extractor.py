"""Titanic (old workflow) starting kit: numeric columns plus one-hot dummies.

Keeps `Fare, Age, SibSp, Parch`, adds dummies of `Sex, Pclass, Embarked`
(first level dropped) and fills missing values with -1. The dummy columns are
those seen in `fit`: a level missing at transform time becomes a column of
zeros, an unseen level is ignored.
"""

import pandas as pd

NUMERICAL = ["Fare", "Age", "SibSp", "Parch"]
CATEGORICAL = ["Sex", "Pclass", "Embarked"]


def _features(X_df):
    dummies = [pd.get_dummies(X_df[col], prefix=col, drop_first=True) for col in CATEGORICAL]
    return pd.concat([X_df[NUMERICAL], *dummies], axis=1).fillna(-1)


class FeatureExtractor:
    def fit(self, X_df, y=None):
        self.columns_ = _features(X_df).columns
        return self

    def transform(self, X_df):
        X = _features(X_df).reindex(columns=self.columns_, fill_value=0)
        return X.to_numpy(dtype=float)
