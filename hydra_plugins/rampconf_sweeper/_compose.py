"""Compose a sweep's base config once; each trial's config is a copy with its values applied.

Hydra's launchers compose every job's config from scratch
(``config_loader.load_sweep_config``): the defaults list, every YAML file,
the overrides. The trials of a sweep differ only by a few values
(``submission.params.C=0.5``, ``trial={...}``), so :class:`ReusingConfigLoader`
(given to the launcher in place of Hydra's loader) composes once per set of
*structural* overrides (config group choices, ``+``/``~`` overrides, Hydra's
own keys) and keeps it pickled; for each job, it unpickles a copy (a deep
copy in half the time of ``copy.deepcopy``, which is used when the config
does not pickle) and applies the plain value overrides with Hydra's own
function, in the order given, then records them in ``hydra.overrides.task``
and ``hydra.job.override_dirname`` as Hydra does. The result is the config
Hydra would compose; the run validates it with the same pydantic models.
Anything else is delegated to Hydra's loader.
"""

from __future__ import annotations

import copy
import pickle
from typing import Any

__all__ = ["ReusingConfigLoader"]


class ReusingConfigLoader:
    """Hydra's config loader, with :meth:`load_sweep_config` reusing one composition."""

    def __init__(self, loader: Any, light: bool = False) -> None:
        self._loader = loader
        self._bases: dict[tuple[str, ...], Any] = {}
        self._light = light  # the sweep's light trial output: no hydra.output_subdir per job

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_loader", "_bases", "_light"):
            raise AttributeError(name)
        return getattr(self._loader, name)

    def __getstate__(self) -> dict[str, Any]:  # a launcher's worker gets the loader, not the cache
        return {"_loader": self._loader, "_bases": {}, "_light": self._light}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _is_value(self, override: Any, groups: set[str]) -> bool:
        """A plain ``key=value`` on a config key (not a group choice, a sweep or Hydra's)."""
        from hydra.core.override_parser.types import OverrideType

        return (override.type == OverrideType.CHANGE and override.package is None
                and not override.is_sweep_override() and not override.is_hydra_override()
                and override.key_or_group.replace(".", "/") not in groups)

    def load_sweep_config(self, master_config: Any, sweep_overrides: list[str]) -> Any:
        """The config of one job: the shared composition, then the job's values."""
        from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
        from hydra.core.override_parser.overrides_parser import OverridesParser
        from hydra.types import RunMode
        from omegaconf import OmegaConf, read_write

        try:
            parsed = OverridesParser.create().parse_overrides(list(sweep_overrides))
        except Exception:  # Hydra's loader reports it
            return self._loader.load_sweep_config(master_config, sweep_overrides)
        # the groups of the sweep's defaults list (a group outside it needs a `+`: structural)
        groups = {str(name).split("@")[0] for name in master_config.hydra.runtime.choices}
        values = [o for o in parsed if self._is_value(o, groups)]
        structural = [str(o.input_line) for o in parsed if not self._is_value(o, groups)]
        # as written: an interpolation in an override (${hydra:job.num}) is left to each job
        written = OmegaConf.to_container(master_config.hydra.overrides.hydra)
        assert isinstance(written, list)
        hydra_overrides = [str(line) for line in written]
        key = (*hydra_overrides, "\0", *structural)
        if key not in self._bases:
            base = self._loader.load_configuration(
                config_name=master_config.hydra.job.config_name,
                overrides=hydra_overrides + structural, run_mode=RunMode.RUN)
            try:
                pickled: bytes | None = pickle.dumps(base, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # e.g. a plugin's config class imported twice (joblib's workers)
                pickled = None
            self._bases[key] = (base, pickled)
        base, pickled = self._bases[key]
        # a deep copy: unpickled in half the time of copy.deepcopy
        cfg = copy.deepcopy(base) if pickled is None else pickle.loads(pickled)
        ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        job = cfg.hydra.job
        cfg.hydra.overrides.task = [str(o.input_line) for o in parsed]
        job.override_dirname = get_overrides_dirname(
            overrides=parsed, kv_sep=job.config.override_dirname.kv_sep,
            item_sep=job.config.override_dirname.item_sep,
            exclude_keys=job.config.override_dirname.exclude_keys)
        if self._light:  # the run's config.yaml and metadata.json say how to rerun it
            with read_write(cfg.hydra):
                cfg.hydra.output_subdir = None
        OmegaConf.copy_cache(from_config=master_config, to_config=cfg)
        return cfg
