"""Particle tracking starting kit: follow each track outwards from the innermost layer.

Per event, a track starts at each hit of layer 0 (in the order of the hits);
then, layer by layer, the nearest unused hit of the next layer (in x, y) is
added, until a layer has no unused hit or the cosine between the last segment
and the new one drops below ``min_cosine``. Hits in no track get -1.
``X_event`` columns: layer, iphi, x, y.
"""

import numpy as np


class Clusterer:
    def __init__(self, min_cosine=0.8):
        self.min_cosine = min_cosine

    def fit(self, X, y):
        return self

    def predict_single_event(self, X_event):
        layer = X_event[:, 0]
        xy = X_event[:, 2:4]
        labels = np.full(len(X_event), -1, dtype=int)
        if len(X_event) == 0:
            return labels
        used = np.zeros(len(X_event), dtype=bool)
        n_layers = int(layer.max()) + 1
        for track_id, start in enumerate(np.flatnonzero(layer == 0)):
            track = [start]
            used[start] = True
            labels[start] = track_id
            for next_layer in range(1, n_layers):
                candidates = np.flatnonzero((layer == next_layer) & ~used)
                if len(candidates) == 0:
                    break
                last = xy[track[-1]]
                nearest = candidates[np.argmin(np.hypot(*(xy[candidates] - last).T))]
                if len(track) >= 2:
                    before = last - xy[track[-2]]
                    after = xy[nearest] - last
                    cosine = before @ after / (np.linalg.norm(before) * np.linalg.norm(after))
                    if cosine < self.min_cosine:
                        break
                track.append(nearest)
                used[nearest] = True
                labels[nearest] = track_id
        return labels
