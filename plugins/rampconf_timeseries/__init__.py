"""Time series on a grid (RAMP's El Niño): a netCDF dataset in, one prediction per time step out.

Plugins: the ``netcdf_time_series`` reader (an xarray ``Dataset`` with a
burn-in period, targets from a ``.npy`` file with the burn-in stripped), the
``time_series_blocks`` CV scheme (RAMP's expanding-window block CV) and the
``ts_feature_extractor_regressor`` workflow (a feature extractor that gets the
whole dataset and must not look ahead, then a regressor).
"""
