"""Extras: plugins declare the optional modules they import; a missing one stops the run first."""

from __future__ import annotations

import re
import sys
from importlib.metadata import metadata
from pathlib import Path

import pytest

from rampconf import registry
from rampconf.errors import ConfigError
from rampconf.extras import Extra, MissingExtraError
from rampconf.plugin import make_plugin
from rampconf.readers import BaseReader

#: Plugins that need an extra, with parameters that validate, the module and the extra.
NEEDS = [
    ("netcdf_time_series", {"train": "a.nc", "test": "b.nc", "train_target": "a.npy",
                            "test_target": "b.npy"}, "xarray", "netcdf"),
    ("netcdf_time_series", {"train": "a.nc", "test": "b.nc", "train_target": "a.npy",
                            "test_target": "b.npy"}, "h5py", "netcdf"),
    ("parquet", {"train": "a.parquet", "test": "b.parquet", "target": "y"}, "pyarrow",
     "parquet"),
    ("image_folder", {"train_folder": "a", "train_labels": "a.csv", "test_folder": "b",
                      "test_labels": "b.csv"}, "PIL", "images"),
]


def block(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """Make ``module`` unimportable, as if it were not installed (undone after the test)."""
    monkeypatch.setitem(sys.modules, module, None)


@pytest.mark.parametrize(("reader", "params", "module", "extra"), NEEDS,
                         ids=[f"{r}-{m}" for r, _, m, _ in NEEDS])
def test_a_reader_whose_extra_is_missing_is_refused_before_it_is_built(
        monkeypatch, tmp_path, reader, params, module, extra):
    block(monkeypatch, module)
    with pytest.raises(MissingExtraError) as info:
        make_plugin("reader", reader, params, "problem.data", BaseReader, data_root=tmp_path)
    assert str(info.value) == (f"problem.data: the reader {reader!r} needs {module}, not "
                               f"installed: run pip install 'rampconf[{extra}]'")
    assert isinstance(info.value, ConfigError) and info.value.exit_code == 2


def test_with_its_modules_installed_the_reader_is_built(tmp_path):
    params = NEEDS[0][1]
    reader = make_plugin("reader", "netcdf_time_series", params, "problem.data", BaseReader,
                         data_root=tmp_path)
    assert reader.requires == Extra("netcdf", ("xarray", "h5netcdf", "h5py"))


def test_missing_lists_every_absent_module_and_the_install_command(monkeypatch):
    extra = Extra("gpu", ("json", "no_such_module_for_rampconf", "csv"), distribution="my-plugin")
    block(monkeypatch, "csv")
    assert extra.missing() == ["no_such_module_for_rampconf", "csv"]
    assert extra.install == "pip install 'my-plugin[gpu]'"
    with pytest.raises(MissingExtraError, match=re.escape(
            "x: the score 'y' needs no_such_module_for_rampconf, csv, not installed: "
            "run pip install 'my-plugin[gpu]'")):
        extra.check("x: the score 'y'")
    Extra("fine", ("json",)).check("never raised")


def _declared_extras() -> list[tuple[str, Extra]]:
    found = []
    for kind in registry.KINDS:
        for name in registry.available(kind):
            cls = registry.get(kind, name)
            for attribute in ("requires", "figures_require"):
                extra = getattr(cls, attribute, None)
                if extra is not None:
                    found.append((f"{kind}-{name}-{attribute}", extra))
    return found


DECLARED = _declared_extras()


def _extra_requirements() -> dict[str, list[str]]:
    """Extra -> its requirement lines, from the installed distribution's metadata."""
    extras: dict[str, list[str]] = {}
    for line in metadata("rampconf").get_all("Requires-Dist") or []:
        match = re.fullmatch(r"(.+?)\s*;\s*extra\s*==\s*['\"](\w+)['\"]", line)
        if match:
            extras.setdefault(match.group(2), []).append(match.group(1))
    return extras


def test_the_built_in_plugins_declare_the_four_domain_extras():
    assert {extra.name for _, extra in DECLARED} == {"netcdf", "images", "plots", "parquet"}


@pytest.mark.parametrize(("where", "extra"), DECLARED, ids=[where for where, _ in DECLARED])
def test_every_declared_extra_exists_and_is_in_all_and_test(where, extra):
    extras = _extra_requirements()
    assert extra.distribution == "rampconf"
    assert extra.name in extras, f"{where}: no extra {extra.name!r} in pyproject.toml"
    (everything,) = extras["all"]
    assert extra.name in re.fullmatch(r"rampconf\[([\w,]+)\]", everything).group(1).split(",")
    assert "rampconf[all]" in extras["test"]
    assert extra.missing() == []  # the test environment installs every extra


@pytest.mark.slow
def test_no_extra_module_is_imported_by_the_core_or_when_plugins_load():
    """A core install (no extras) must import the engine and every plugin module."""
    import subprocess

    modules = sorted({m for _, extra in DECLARED for m in extra.modules})
    code = (
        "import sys\n"
        f"for m in {modules!r}: sys.modules[m] = None\n"
        "import rampconf.cli, rampconf.api, rampconf.runner\n"
        "from rampconf import registry\n"
        "for kind in registry.KINDS:\n"
        "    for name in registry.available(kind): registry.get(kind, name)\n"
        "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=Path(__file__).parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
