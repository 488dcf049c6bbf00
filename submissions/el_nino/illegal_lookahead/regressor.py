"""El Niño (illegal lookahead example): Bayesian ridge regression on the extracted features."""

from sklearn.linear_model import BayesianRidge


class Regressor:
    def __init__(self):
        self.model = BayesianRidge()

    def fit(self, X, y):
        self.model.fit(X, y)
        return self

    def predict(self, X):
        return self.model.predict(X)
