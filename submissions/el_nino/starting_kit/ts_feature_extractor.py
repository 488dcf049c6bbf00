"""El Niño starting kit: the mean temperature of the Niño 3.4 box as the only feature.

The box is latitude [-5, 5] and longitude [190, 240] (170°W to 120°W). The
series is shifted forward by 12 - n_lookahead months (np.roll; the values
that wrap around land in the burn-in, which is dropped), so the feature of a
month uses only that month and earlier ones.
"""

import numpy as np

LAT = (-5, 5)
LON = (190, 240)


def box_mean(tas, lat=LAT, lon=LON):
    """Mean of ``tas`` over a latitude/longitude box, one value per time step."""
    box = tas.sel(lat=slice(*lat), lon=slice(*lon))
    return box.mean(dim=("lat", "lon"))


class FeatureExtractor:
    def fit(self, X_ds, y):
        return self

    def transform(self, X_ds):
        n_burn_in = int(X_ds.attrs["n_burn_in"])
        n_lookahead = int(X_ds.attrs["n_lookahead"])
        enso = box_mean(X_ds["tas"]).values
        shifted = np.roll(enso, 12 - n_lookahead)
        return shifted[n_burn_in:].reshape(-1, 1)
