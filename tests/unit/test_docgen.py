"""The generated reference (``rampconf-docs``): up to date, complete, described."""

from __future__ import annotations

import re
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from rampconf import docgen, registry

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference"


@pytest.fixture(scope="module")
def builtin_pages() -> dict[str, str]:
    return docgen.generate(builtin_only=True)


def headings(text: str) -> list[str]:
    return re.findall(r"^## `([^`]+)`$", text, re.M)


@pytest.mark.slow  # composes every built-in problem (which uses each plugin)
def test_committed_reference_pages_are_up_to_date(builtin_pages):
    committed = {path.name: path.read_text() for path in REFERENCE.glob("*.md")}
    assert set(committed) == set(builtin_pages)
    stale = [name for name, text in builtin_pages.items() if committed[name] != text]
    assert not stale, f"out of date: {stale}; run rampconf-docs --builtin-only"


def test_every_entry_point_of_every_group_is_on_its_page():
    uses: dict[tuple[str, str], list[str]] = {}
    for kind, group in registry.ENTRY_POINT_GROUPS.items():
        page = docgen.plugin_page(kind, uses)
        names = sorted(ep.name for ep in entry_points(group=group))
        assert names, group
        assert headings(page) == names, kind
    committed = {kind: headings((REFERENCE / docgen.TITLES[kind][0]).read_text())
                 for kind in registry.KINDS}
    for kind, group in registry.ENTRY_POINT_GROUPS.items():
        builtin = sorted(ep.name for ep in entry_points(group=group)
                         if ep.dist is not None and ep.dist.name == "rampconf")
        assert committed[kind] == builtin, kind


def test_every_plugin_setting_and_key_has_a_description():
    assert docgen.missing_descriptions() == []


@pytest.mark.slow  # composes every built-in problem (which uses each plugin)
def test_pages_say_what_the_code_knows(builtin_pages):
    scores = builtin_pages["scores.md"]
    rmse = scores[scores.index("## `rmse`"):]
    rmse = rmse[:rmse.index("\n## ")]
    assert "- direction: lower is better; bounds [0, +∞]" in rmse
    assert "`boston_housing`" in rmse and "`el_nino`" in rmse
    workflows = builtin_pages["workflows.md"]
    assert "- submission files: `feature_extractor.py` defines `FeatureExtractor`, " \
           "`classifier.py` defines `Classifier`" in workflows
    readers = builtin_pages["readers.md"]
    assert "- needs the extra `netcdf` (xarray, h5netcdf, h5py): " \
           "`pip install 'rampconf[netcdf]'`" in readers
    problem = builtin_pages["problem.md"]
    assert "| `quick_rows` | int, >= 1 | 100 |" in problem
    assert "| `data_root` | str | ${oc.env:RAMPCONF_DATA_ROOT,data} |" in problem
    sweeper = builtin_pages["sweeper.md"]
    assert "| `hydra.sweeper.n_trials` | int | 20 |" in sweeper
    assert "| `hydra.sweeper.pruner.reduction_factor` | int, >= 2 | 3 |" in sweeper


@pytest.fixture(autouse=True)
def _forget_third_party_module():
    yield
    sys.modules.pop("thirdparty_cv", None)


def _third_party(root: Path, doc: str) -> None:
    """An installed distribution (a dist-info on sys.path) with one CV scheme, as pip leaves it."""
    (root / "thirdparty_cv.py").write_text(textwrap.dedent(f'''
        from rampconf.cv import BaseCV


        class Halves(BaseCV):
            {doc}
            def split(self, X, y, groups=None):
                n = len(y)
                yield list(range(n // 2)), list(range(n // 2, n))
        '''))
    info = root / "thirdparty_cv-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-cv\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[rampconf.cv]\nhalves = thirdparty_cv:Halves\n")


def test_an_installed_third_party_plugin_is_listed(tmp_path, monkeypatch):
    _third_party(tmp_path, '"""Train on the first half of the rows, validate on the second."""')
    monkeypatch.syspath_prepend(str(tmp_path))
    page = docgen.plugin_page("cv", {})
    assert "halves" in headings(page)
    assert "- class: `thirdparty_cv:Halves`, from the package `thirdparty-cv`" in page
    assert "halves" not in headings(docgen.plugin_page("cv", {}, builtin_only=True))
    assert docgen.missing_descriptions() == []


def test_a_plugin_without_a_description_fails_the_check(tmp_path, monkeypatch, capsys):
    _third_party(tmp_path, "")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert docgen.missing_descriptions() == ["cv halves (thirdparty_cv:Halves): no docstring"]
    assert docgen.main(["--check", "--output", str(tmp_path / "reference")]) == 1
    assert "no description: cv halves" in capsys.readouterr().err


@pytest.mark.slow  # composes every built-in problem (which uses each plugin)
def test_check_fails_on_a_stale_page_and_write_fixes_it(tmp_path, capsys):
    out = tmp_path / "reference"
    assert docgen.main(["--builtin-only", "--output", str(out)]) == 0
    assert docgen.main(["--check", "--builtin-only", "--output", str(out)]) == 0
    (out / "cv.md").write_text((out / "cv.md").read_text().replace("number of folds", "folds"))
    (out / "old.md").write_text("# a page nobody generates\n")
    assert docgen.main(["--check", "--builtin-only", "--output", str(out)]) == 1
    assert "out of date in" in capsys.readouterr().err
    assert docgen.main(["--builtin-only", "--output", str(out)]) == 0
    (out / "old.md").unlink()
    assert docgen.main(["--check", "--builtin-only", "--output", str(out)]) == 0
