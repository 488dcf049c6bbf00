"""Boston housing: a full-size random forest (200 fully grown trees, seeded)."""

from sklearn.ensemble import RandomForestRegressor


def get_estimator(n_estimators=200, max_features=0.5, random_state=61):
    return RandomForestRegressor(
        n_estimators=n_estimators,
        max_features=max_features,
        random_state=random_state,
        n_jobs=1,
    )
