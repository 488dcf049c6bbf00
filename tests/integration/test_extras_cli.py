"""The command line without an extra: a run that needs it stops first; pictures are skipped.

Each run is a real ``python -m rampconf`` (or ``rampconf-data``) process in
which the extra's module cannot be imported: a ``sitecustomize`` module on
``PYTHONPATH`` puts ``None`` in ``sys.modules`` for it, as if it were not
installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_env

pytestmark = pytest.mark.slow


def run_without(modules: list[str], args: list[str], cwd: Path,
                module: str = "rampconf") -> subprocess.CompletedProcess[str]:
    """Run ``python -m MODULE ARGS`` in ``cwd`` with ``modules`` unimportable."""
    site = cwd / "_site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in modules))
    env = cli_env()
    env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_netcdf_problem_without_xarray_names_the_extra_before_reading_data(tmp_path):
    # The data root does not exist: reading data first would report missing files instead.
    proc = run_without(["xarray"], ["problem=el_nino", f"data_root={tmp_path / 'nowhere'}"],
                       tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        "config error: problem.data: the reader 'netcdf_time_series' needs xarray, "
        "not installed: run pip install 'rampconf[netcdf]'"]
    assert not list(tmp_path.rglob("metadata.json"))  # nothing was run


def test_image_data_set_without_pillow_names_the_extra(tmp_path):
    proc = run_without(["PIL"], ["digits_images", "generate", "--data-root", "data"], tmp_path,
                       module="rampconf.datasets")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: the data set 'digits_images' needs PIL, not "
                                   "installed: run pip install 'rampconf[images]'")
    assert not (tmp_path / "data").exists()


def test_pictures_are_skipped_with_one_warning_without_matplotlib(tmp_path):
    generate = run_without(["matplotlib"], ["mars_craters", "generate", "--data-root", "data",
                                            "--n-train", "9", "--n-test", "3"], tmp_path,
                           module="rampconf.datasets")
    assert generate.returncode == 0, generate.stderr
    proc = run_without(["matplotlib"], ["problem=mars_craters", "data_root=data",
                                        "n_figures=2", "progress=false"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: n_figures=2: no pictures drawn: matplotlib not installed "
                        "(run pip install 'rampconf[plots]')"]
    (run_dir,) = (tmp_path / "outputs" / "mars_craters").glob("*/*")
    assert (run_dir / "summary.json").is_file()
    assert not (run_dir / "figures").exists()
