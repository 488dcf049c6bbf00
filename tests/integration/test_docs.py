"""The documentation site builds with warnings as errors, and every page is in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_mkdocs_builds_the_site_strictly(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "--site-dir", str(tmp_path / "site")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "WARNING" not in proc.stderr
    pages = sorted(path.relative_to(ROOT / "docs").with_suffix("")
                   for path in (ROOT / "docs").rglob("*.md"))
    for page in pages:  # use_directory_urls: docs/a/b.md -> site/a/b/index.html
        folder = page.parent if page.name == "index" else page
        assert (tmp_path / "site" / folder / "index.html").is_file(), page


def test_a_broken_link_fails_the_build(tmp_path):
    """Strict really is strict: the same configuration with one dead link does not build."""
    import shutil

    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    with (tmp_path / "docs" / "index.md").open("a") as page:
        page.write("\nSee [a page that does not exist](guide/nothing.md).\n")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "--site-dir", str(tmp_path / "site")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1
    assert "guide/nothing.md" in proc.stderr
