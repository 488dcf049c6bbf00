"""Air passengers: date features, weather join and gradient boosting.

Joins the maximum temperature at the arrival airport from `external_data.csv`
(beside this file), turns `DateOfDeparture` into year, month, day, weekday,
week of the year and days since 2011-01-01, adds the route
(departure-arrival), and fits a seeded histogram gradient boosting that
treats the airports and the route as categories.
"""

import os

import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

EXTERNAL_DATA = os.path.join(os.path.dirname(__file__), "external_data.csv")
CATEGORICAL = ["Arrival", "Departure", "Route"]


def add_features(X):
    X = X.copy()
    X["DateOfDeparture"] = pd.to_datetime(X["DateOfDeparture"])
    weather = pd.read_csv(EXTERNAL_DATA)
    weather = weather.rename(columns={"Date": "DateOfDeparture", "AirPort": "Arrival"})
    weather = weather[["DateOfDeparture", "Arrival", "Max TemperatureC"]]
    weather["DateOfDeparture"] = pd.to_datetime(weather["DateOfDeparture"])
    X = X.merge(weather, how="left", on=["DateOfDeparture", "Arrival"], sort=False)

    date = X.pop("DateOfDeparture")
    X["year"] = date.dt.year
    X["month"] = date.dt.month
    X["day"] = date.dt.day
    X["weekday"] = date.dt.weekday
    X["week"] = date.dt.isocalendar().week.astype(int)
    X["n_days"] = (date - pd.Timestamp("2011-01-01")).dt.days
    X["Route"] = X["Departure"] + "-" + X["Arrival"]
    return X


def get_estimator(max_iter=300, learning_rate=0.1, max_leaf_nodes=15, random_state=61):
    encoder = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), CATEGORICAL),
        remainder="passthrough",
    )
    return Pipeline([
        ("features", FunctionTransformer(add_features)),
        ("encoder", encoder),
        ("regressor", HistGradientBoostingRegressor(
            max_iter=max_iter,
            learning_rate=learning_rate,
            max_leaf_nodes=max_leaf_nodes,
            categorical_features=[0, 1, 2],  # the encoded CATEGORICAL columns come first
            random_state=random_state,
        )),
    ])
