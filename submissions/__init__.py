"""Starting kits and example submissions shipped with rampconf (``<problem>/<name>/``).

A data package, never imported for its code: the runner finds a submission's
folder through :func:`rampconf.resources.packaged_submissions_dir`.
"""
