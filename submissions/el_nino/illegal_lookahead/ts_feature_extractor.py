"""An illegal El Niño submission: it peeks one month into the future.

The feature of month t is the Niño 3.4 box mean of month t + 1
(``shift(time=-1)``; the last month, which has no future, gets 0). The
workflow's lookahead check rejects it.
"""

LAT = (-5, 5)
LON = (190, 240)


class FeatureExtractor:
    def fit(self, X_ds, y):
        return self

    def transform(self, X_ds):
        n_burn_in = int(X_ds.attrs["n_burn_in"])
        enso = X_ds["tas"].sel(lat=slice(*LAT), lon=slice(*LON)).mean(dim=("lat", "lon"))
        future = enso.shift(time=-1, fill_value=0.0)
        return future.values[n_burn_in:].reshape(-1, 1)
