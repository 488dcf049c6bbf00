"""Iris: a random forest of 10 trees with at most 10 leaves each.

The starting kit with more and larger trees. It uses the columns by position
only, so it runs on any iris table whatever its column names.
"""

from sklearn.ensemble import RandomForestClassifier


def get_estimator(n_estimators=10, max_leaf_nodes=10, random_state=61):
    return RandomForestClassifier(
        n_estimators=n_estimators,
        max_leaf_nodes=max_leaf_nodes,
        random_state=random_state,
    )
