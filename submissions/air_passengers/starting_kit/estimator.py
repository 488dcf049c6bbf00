"""Air passengers starting kit: weather join, one-hot airports, random forest.

The maximum temperature at the arrival airport on the day of departure is
joined from `external_data.csv` (which sits beside this file); `Arrival` and
`Departure` are one-hot encoded, `DateOfDeparture` is dropped and the other
columns are used as they are. The forest has no random state, so scores vary
slightly from run to run.
"""

import os

import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

EXTERNAL_DATA = os.path.join(os.path.dirname(__file__), "external_data.csv")


def merge_external_data(X):
    X = X.copy()
    X["DateOfDeparture"] = pd.to_datetime(X["DateOfDeparture"])
    weather = pd.read_csv(EXTERNAL_DATA)
    weather = weather.rename(columns={"Date": "DateOfDeparture", "AirPort": "Arrival"})
    weather = weather[["DateOfDeparture", "Arrival", "Max TemperatureC"]]
    weather["DateOfDeparture"] = pd.to_datetime(weather["DateOfDeparture"])
    return X.merge(weather, how="left", on=["DateOfDeparture", "Arrival"], sort=False)


def get_estimator(n_estimators=10, max_depth=10, max_features=10, random_state=None):
    preprocessor = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["Arrival", "Departure"]),
        ("drop", ["DateOfDeparture"]),
        remainder="passthrough",
    )
    return Pipeline([
        ("merge", FunctionTransformer(merge_external_data)),
        ("transformer", preprocessor),
        ("regressor", RandomForestRegressor(
            n_estimators=n_estimators,
            max_depth=max_depth,
            max_features=max_features,
            random_state=random_state,
        )),
    ])
