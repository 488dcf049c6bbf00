"""Histograms of oriented gradients + logistic regression, streamed batch by batch (CPU).

Each batch of images is turned into small features at once (a HOG-like
gradient histogram per cell plus a coarse thumbnail), so memory holds one
batch of images and the features of all images, never all the images.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def _cell_sums(values, cells):
    """Sum ``values`` (b, H, W, ...) over a cells x cells grid -> (b, cells, cells, ...)."""
    b, h, w = values.shape[:3]
    rows = np.array_split(np.arange(h), cells)
    cols = np.array_split(np.arange(w), cells)
    out = np.empty((b, cells, cells, *values.shape[3:]), dtype=np.float32)
    for i, r in enumerate(rows):
        band = values[:, r[0]:r[-1] + 1].sum(axis=1)
        for j, c in enumerate(cols):
            out[:, i, j] = band[:, c[0]:c[-1] + 1].sum(axis=1)
    return out


def shrink(images, target=32):
    """Average-pool a batch (b, H, W) by an integer factor so the sides are about ``target``."""
    factor = max(1, min(images.shape[1], images.shape[2]) // target)
    b, h, w = images.shape
    h, w = h // factor * factor, w // factor * factor
    x = images[:, :h, :w].astype(np.float32) / 255.0
    return x.reshape(b, h // factor, factor, w // factor, factor).mean(axis=(2, 4))


def gradient_features(images, cells=4, n_bins=9, thumbnail=8):
    """HOG-like features of a batch of grey images (b, H, W) -> (b, n_features) float32.

    Per cell of a ``cells`` x ``cells`` grid, a histogram of gradient
    orientations (unsigned, ``n_bins`` bins) weighted by the gradient
    magnitude, L2-normalised per image; plus a ``thumbnail`` x ``thumbnail``
    average of the grey levels. Images are first shrunk to about 32 pixels.
    """
    x = shrink(images)
    gy, gx = np.gradient(x, axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    angle = np.mod(np.arctan2(gy, gx), np.pi)  # unsigned orientation in [0, pi)
    bins = np.minimum((angle / np.pi * n_bins).astype(np.int8), n_bins - 1)
    hist = np.stack([_cell_sums(np.where(bins == k, magnitude, 0), cells)
                     for k in range(n_bins)], axis=-1).reshape(len(x), -1)
    hist /= np.linalg.norm(hist, axis=1, keepdims=True) + 1e-6
    thumb = _cell_sums(x, thumbnail).reshape(len(x), -1)
    thumb /= (x.shape[1] / thumbnail) * (x.shape[2] / thumbnail)
    return np.hstack([hist, thumb]).astype(np.float32)


class ImageClassifier:
    def __init__(self, C=1.0, cells=4):
        self.C = C
        self.cells = cells

    def _features(self, batches):
        return np.vstack([gradient_features(images, self.cells) for images in batches])

    def fit(self, batches, y):
        features, labels = [], []
        for images, batch_labels in batches:
            features.append(gradient_features(images, self.cells))
            labels.append(batch_labels)
        self.model = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=500))
        self.model.fit(np.vstack(features), np.concatenate(labels))
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, batches):
        return self.model.predict_proba(self._features(batches))
