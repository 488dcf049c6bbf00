"""rampconf: declarative, config-driven predictive-workflow experiments.

The RAMP idea (problem, workflow, submission, cross-validation, train / valid /
test scores, CV bagging) on Hydra, pydantic and scikit-learn. Run
``python -m rampconf --help`` for the command line, or from Python::

    import rampconf
    result = rampconf.run(problem="iris", overrides=["cv.n_splits=3"])
    result.table("mean")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rampconf.errors import ConfigError, DataError, RampconfError, RegistryError, SubmissionError

if TYPE_CHECKING:
    from rampconf.api import compose, run
    from rampconf.outputs import RunResult, load_run
    from rampconf.registry import register

__version__ = "0.1.0"
__all__ = [
    "ConfigError",
    "DataError",
    "RampconfError",
    "RegistryError",
    "RunResult",
    "SubmissionError",
    "__version__",
    "compose",
    "load_run",
    "register",
    "run",
]

_LAZY = {"run": "rampconf.api", "compose": "rampconf.api", "RunResult": "rampconf.outputs",
         "load_run": "rampconf.outputs", "register": "rampconf.registry"}


def __getattr__(name: str) -> Any:
    # Heavy modules (Hydra, pandas) load on first use, so `--help` and errors stay fast.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rampconf' has no attribute {name!r}")
