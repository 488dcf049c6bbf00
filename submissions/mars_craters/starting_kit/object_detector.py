"""Mars craters starting kit: one fixed circle in the middle of every image."""


class ObjectDetector:
    def __init__(self, confidence=1.0, row=112, col=112, radius=112):
        self.circle = (confidence, row, col, radius)

    def fit(self, X, y):
        return self

    def predict(self, X):
        return [[self.circle] for _ in range(len(X))]
