"""Hydra's errors as rampconf reports them: one line, exit code 2, the closest valid name.

Two things Hydra does on its own before our task runs need a word from us:

- **Composing** the config can fail (an unknown option in a problem's
  ``defaults`` list, a misspelled key on the command line). Hydra prints
  such errors in many lines and exits 1. The command line runs Hydra with
  ``HYDRA_FULL_ERROR=1`` (:func:`hydra_raises`), Hydra's documented switch
  that lets the exception through instead of printing it, and
  :func:`composition_error` turns the exception into one line: the unknown
  option with the closest of the group's options, or the unknown key with
  the closest key at that level of the config.
- **The run directory**: Hydra creates ``hydra.run.dir`` and writes its own
  files there (``.hydra/``, the job's log file) before calling the task, so
  an error that the task finds before the run starts (bad config, missing
  or bad data, a submission without its files) would leave an empty run
  behind. :func:`discard_run_dir` removes the directory when it holds
  nothing but those files of Hydra's, and the parent folders Hydra created
  for it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampconf.registry import closest, unknown_name_message
from rampconf.resources import packaged_conf_dir

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["composition_error", "discard_run_dir", "hydra_raises", "is_composition_error"]

#: Files Hydra writes in ``hydra.output_subdir`` of a job.
HYDRA_FILES = ("config.yaml", "hydra.yaml", "overrides.yaml")


@contextlib.contextmanager
def hydra_raises() -> Iterator[bool]:
    """Let exceptions out of Hydra's ``main`` instead of printing them (``HYDRA_FULL_ERROR``).

    Yields whether the user had set ``HYDRA_FULL_ERROR`` already (then they
    asked for Hydra's full error and should get it).
    """
    before = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        yield before not in (None, "", "0")
    finally:
        if before is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = before


def is_composition_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an error of Hydra, OmegaConf or YAML composing the config."""
    import yaml
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    return isinstance(exc, (HydraException, OmegaConfBaseException, yaml.YAMLError))


def _bad_yaml(exc: BaseException) -> str | None:
    """``<file>, line L, column C: bad YAML: ...`` for a config file YAML cannot parse."""
    import yaml

    if not isinstance(exc, yaml.MarkedYAMLError):
        return None
    mark = exc.problem_mark or exc.context_mark
    where = f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}" if mark else "config"
    what = "; ".join(part for part in (exc.context, exc.problem) if part)
    return f"{where}: bad YAML: {what}"


def _config_file(where: str) -> str:
    """The YAML file of a config path such as ``problem/wine`` (yours first, then ours)."""
    for root in (Path.cwd() / "conf", packaged_conf_dir()):
        path = root / f"{where}.yaml"
        if path.is_file():
            return str(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd())
                       else path)
    return f"{where}.yaml"


def _missing_option(exc: Any) -> str | None:
    """``<file>: defaults list: unknown <group> option ...`` for a MissingConfigException."""
    missing = getattr(exc, "missing_cfg_file", None)
    options = getattr(exc, "options", None)
    if not missing or options is None or "/" not in missing:
        return None
    group, name = missing.rsplit("/", 1)
    found = re.match(r"In '([^']+)'", str(exc))
    where = found.group(1) if found else None
    message = unknown_name_message(f"{group} option", name, sorted(options))
    if where is None or where in ("config", "hydra/config"):
        return f"{group}={name}: {message}"
    return f"{_config_file(where)}: defaults list: {message}"


def _unknown_key(exc: BaseException) -> str | None:
    """``<key>: unknown key; did you mean ...`` for an override of a key that does not exist."""
    from omegaconf import DictConfig
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    cause = exc.__cause__
    if not isinstance(cause, (ConfigAttributeError, ConfigKeyError)) or not cause.full_key:
        return None
    full_key, key = str(cause.full_key), str(cause.key)
    parent = cause.parent_node
    keys = [str(k) for k in parent if k != "hydra"] \
        if isinstance(parent, DictConfig) else []
    level = full_key.rsplit(".", 1)[0] if "." in full_key else ""
    hint = closest(key, keys)
    prefix = f"{level}." if level else ""
    did_you_mean = f"did you mean '{prefix}{hint}'? " if hint else ""
    listed = f"keys of {level or 'the top level'}: {', '.join(keys)}" if keys else \
        f"{level or 'this key'} has no keys"
    add = "" if hint else f"; to add a key that is not there, write +{full_key}=VALUE"
    return f"{full_key}: unknown key; {did_you_mean}{listed}{add}"


def _one_line(text: str) -> str:
    """Hydra's message in one line: its search-path listing dropped, lines joined."""
    kept = []
    for line in text.splitlines():
        if line.startswith(("Config search path", "Search path")):
            break
        if line.strip():
            kept.append(line.strip())
    return "; ".join(kept).replace(":;", ":")


def composition_error(exc: BaseException) -> str:
    """One line for an error Hydra or OmegaConf raised while composing the config."""
    return (_missing_option(exc) or _unknown_key(exc) or _bad_yaml(exc)
            or f"config: {_one_line(str(exc))}")


def discard_run_dir(run_dir: Path, output_subdir: str | None, log_file: str | None) -> bool:
    """Remove ``run_dir`` when it holds nothing but the files Hydra wrote before the task.

    Those files are ``<output_subdir>/{config,hydra,overrides}.yaml`` and the
    job's ``log_file`` (paths as Hydra's config gives them). Parent folders
    left empty are removed too, up to the current directory (never beyond
    it, so a run directory elsewhere only loses itself). Returns whether the
    directory was removed; anything else in it (results of ours, a user's
    file) keeps it.
    """
    if not run_dir.is_dir():
        return False
    from rampconf.rundir import MARKER

    known = {Path(output_subdir) / name for name in HYDRA_FILES} if output_subdir else set()
    known.add(Path(MARKER))  # the run's claim on the directory (rampconf.rundir)
    if log_file:
        log = Path(log_file)
        known.add(log.relative_to(run_dir) if log.is_absolute() and log.is_relative_to(run_dir)
                  else Path(log.name))
    present = {path.relative_to(run_dir) for path in run_dir.rglob("*") if not path.is_dir()}
    if not present <= known:
        return False
    shutil.rmtree(run_dir, ignore_errors=True)
    here = Path.cwd().resolve()
    parent = run_dir.resolve().parent
    while here in parent.parents and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
    return not run_dir.exists()
