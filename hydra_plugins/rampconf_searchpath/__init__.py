"""Hydra search-path plugin: a user's ``./conf`` comes before rampconf's packaged conf.

Options in ``./conf/<group>/<name>.yaml`` appear next to the built-in ones
and replace a built-in option of the same name. Only rampconf's own
application is affected.
"""

from __future__ import annotations

import os

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class RampconfSearchPathPlugin(SearchPathPlugin):
    """Prepend ``file://$PWD/conf`` to rampconf's config search path."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from rampconf.resources import packaged_conf_dir

        ours = {str(packaged_conf_dir()), "rampconf.conf"}  # as a folder or as the package
        paths = {(element.path or "").removeprefix("file://").removeprefix("pkg://")
                 for element in search_path.get_path()}
        if not ours & paths:  # another Hydra application
            return
        search_path.prepend(provider="rampconf-user",
                            path=f"file://{os.path.join(os.getcwd(), 'conf')}")
