"""Warning classes named by fold processes that the runner does not have.

A fold process sends each warning's class as ``module.QualName``. When the
runner has no such class (its module is not imported here, and is never
imported on a fold's word), the warning is shown with a ``UserWarning``
subclass of the same name, made here on first use. Any process finds it again
by this module and its name (``getattr(rampconf.fold_warnings, name)``), as
pickling and pytest-xdist's transport of warnings do.
"""

from __future__ import annotations

_made: dict[str, type[Warning]] = {}


def __getattr__(name: str) -> type[Warning]:
    if not name.isidentifier() or name.startswith("__"):
        raise AttributeError(name)
    if name not in _made:
        _made[name] = type(name, (UserWarning,), {"__module__": __name__})
    return _made[name]
