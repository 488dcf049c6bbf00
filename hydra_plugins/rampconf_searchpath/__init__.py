"""Hydra search-path plugin: a user's ``./conf`` comes before rampconf's packaged conf.

Options in ``./conf/<group>/<name>.yaml`` appear next to the built-in ones
and replace a built-in option of the same name. Only rampconf's own
application is affected.

Both folders are read through rampconf's guarded config sources
(``rampconf-file://``, ``rampconf-pkg://``): every problem, workflow, score,
CV and search file is checked as Hydra loads it (see
:mod:`rampconf.configguard`), and one that tries to configure Hydra (or any
``_target_``) stops the run before anything runs, with exit code 2.
"""

from __future__ import annotations

import os
from typing import Any

from hydra._internal.core_plugins.file_config_source import FileConfigSource
from hydra._internal.core_plugins.importlib_resources_config_source import (
    ImportlibResourcesConfigSource,
)
from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.config_source import ConfigResult
from hydra.plugins.search_path_plugin import SearchPathPlugin

GUARDED = {"file": "rampconf-file", "pkg": "rampconf-pkg"}


def _checked(config_path: str, result: ConfigResult, folder: str) -> ConfigResult:
    from omegaconf import OmegaConf

    from rampconf.configguard import check_config_file
    from rampconf.errors import ConfigError, ErrorExit

    name = config_path if config_path.endswith(".yaml") else f"{config_path}.yaml"
    content: Any = OmegaConf.to_container(result.config, resolve=False)
    problems = check_config_file(name, result.header.get("package"), content)
    if problems:
        more = f" (and {len(problems) - 1} more in this file)" if len(problems) > 1 else ""
        raise ErrorExit(ConfigError(f"{folder}/{name}: {problems[0]}; refused{more}"))
    return result


class GuardedFileConfigSource(FileConfigSource):
    """``file://`` whose option files are checked as they load (``rampconf-file://``)."""

    @staticmethod
    def scheme() -> str:
        return GUARDED["file"]

    def load_config(self, config_path: str) -> ConfigResult:
        return _checked(config_path, super().load_config(config_path), self.path)


class GuardedPackageConfigSource(ImportlibResourcesConfigSource):
    """``pkg://`` whose option files are checked as they load (``rampconf-pkg://``)."""

    @staticmethod
    def scheme() -> str:
        return GUARDED["pkg"]

    def load_config(self, config_path: str) -> ConfigResult:
        return _checked(config_path, super().load_config(config_path), f"pkg://{self.path}")


def _location(path: str) -> tuple[str, str]:
    """``(scheme, rest)`` of a search-path entry (a bare path is a ``file`` one)."""
    scheme, sep, rest = path.partition("://")
    return (scheme, rest) if sep else ("file", path)


class RampconfSearchPathPlugin(SearchPathPlugin):
    """Prepend ``./conf`` to rampconf's config search path; read both through the guard."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from rampconf.resources import packaged_conf_dir

        wanted = {str(packaged_conf_dir()), "rampconf.conf"}  # as a folder or as the package
        ours = [element for element in search_path.get_path()
                if _location(element.path or "")[1] in wanted]
        if not ours:  # another Hydra application
            return
        for element in ours:
            scheme, rest = _location(element.path or "")
            if scheme in GUARDED:
                element.path = f"{GUARDED[scheme]}://{rest}"
        search_path.prepend(provider="rampconf-user",
                            path=f"{GUARDED['file']}://{os.path.join(os.getcwd(), 'conf')}")
