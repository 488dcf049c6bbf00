"""Titanic: scaled logistic regression, made for hyperparameter sweeps.

`Sex, Pclass, Embarked` are one-hot encoded; `Age, SibSp, Parch, Fare` get
their missing values imputed (`imputer`: "mean" or "median") and are
standardised. `C` is the inverse regularisation strength.
"""

from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CATEGORICAL = ["Sex", "Pclass", "Embarked"]
NUMERICAL = ["Age", "SibSp", "Parch", "Fare"]


def get_estimator(C=1.0, imputer="median"):
    preprocessor = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        (make_pipeline(SimpleImputer(strategy=imputer), StandardScaler()), NUMERICAL),
    )
    return Pipeline([
        ("transformer", preprocessor),
        ("classifier", LogisticRegression(C=C, max_iter=1000)),
    ])
