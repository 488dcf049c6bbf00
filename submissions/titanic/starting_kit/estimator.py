"""Titanic starting kit: one-hot categories, -1 for missing numbers, logistic regression.

`Sex, Pclass, Embarked` are one-hot encoded (categories unseen at fit time are
ignored); `Age, SibSp, Parch, Fare` have their missing values imputed (a
constant -1 by default); all other columns are dropped.
"""

from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

CATEGORICAL = ["Sex", "Pclass", "Embarked"]
NUMERICAL = ["Age", "SibSp", "Parch", "Fare"]


def get_estimator(C=1.0, imputer="constant"):
    fill_value = -1 if imputer == "constant" else None
    preprocessor = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        (SimpleImputer(strategy=imputer, fill_value=fill_value), NUMERICAL),
    )
    return Pipeline([
        ("transformer", preprocessor),
        ("classifier", LogisticRegression(C=C)),
    ])
