"""Iris starting kit: a single random-forest tree with two leaves.

A deliberately weak baseline. It uses the columns by position only, so it runs
on any iris table whatever its column names.
"""

from sklearn.ensemble import RandomForestClassifier


def get_estimator(n_estimators=1, max_leaf_nodes=2, random_state=61):
    return RandomForestClassifier(
        n_estimators=n_estimators,
        max_leaf_nodes=max_leaf_nodes,
        random_state=random_state,
    )
