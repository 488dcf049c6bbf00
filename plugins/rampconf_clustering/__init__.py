"""Supervised clustering of events (RAMP's particle tracking): hits -> tracks, event by event.

Plugins: the ``clustering`` prediction type (an ``(event_id, cluster_id)``
pair per hit), the ``clustering_efficiency`` score, the ``event_shuffle_split``
CV scheme (whole events to either side), the ``clusterer`` workflow and the
``clustering_csv`` reader (a CSV whose event column is both a feature and
part of the target).
"""
