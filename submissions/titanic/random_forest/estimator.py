"""Titanic: a seeded random forest with a few engineered features.

Adds the passenger's title (Mr, Mrs, Miss, Master or Rare, read from `Name`),
whether a cabin is known and the family size to the starting kit's columns;
one-hot encodes the categories, imputes missing numbers with the median and
fits 200 trees of depth at most 6.
"""

from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

CATEGORICAL = ["Sex", "Pclass", "Embarked", "Title"]
NUMERICAL = ["Age", "SibSp", "Parch", "Fare", "HasCabin", "FamilySize"]
TITLES = ["Mr", "Mrs", "Miss", "Master"]


def add_features(X):
    X = X.copy()
    title = X["Name"].str.extract(r",\s*([^.]+)\.", expand=False)
    X["Title"] = title.where(title.isin(TITLES), "Rare")
    X["HasCabin"] = X["Cabin"].notna().astype(int)
    X["FamilySize"] = X["SibSp"] + X["Parch"]
    return X


def get_estimator(n_estimators=200, max_depth=6, random_state=61):
    preprocessor = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        (SimpleImputer(strategy="median"), NUMERICAL),
    )
    return Pipeline([
        ("features", FunctionTransformer(add_features)),
        ("transformer", preprocessor),
        ("classifier", RandomForestClassifier(
            n_estimators=n_estimators, max_depth=max_depth, random_state=random_state)),
    ])
