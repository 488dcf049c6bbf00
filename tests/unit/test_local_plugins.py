"""Local plugin files: found in the working directory only, loaded only when needed, checked
as built-in plugins are, and portable to other processes by their recorded path."""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rampconf import local_plugins, registry
from rampconf.cv import BaseCV
from rampconf.errors import ConfigError, RegistryError
from rampconf.plugin import make_plugin
from rampconf.scores import BaseScore

REPO = Path(__file__).resolve().parents[2]

CV_FILE = '''\
"""A CV scheme and a score of the problem."""
from pathlib import Path

import numpy as np
from pydantic import Field

import rampconf
from rampconf.cv import BaseCV
from rampconf.plugin import StrictModel
from rampconf.scores import BaseScore

Path("executed").touch()  # shows when the file runs


class EveryParams(StrictModel):
    n_folds: int = Field(2, ge=2, description="folds: row i is validated in fold i % n_folds")


@rampconf.register("cv", "every_nth")
class EveryNth(BaseCV[EveryParams]):
    """Row i is validated in fold i % n_folds."""

    def split(self, X, y, groups=None):
        rows = np.arange(len(y))
        for fold in range(self.params.n_folds):
            yield rows[rows % self.params.n_folds != fold], rows[rows % self.params.n_folds == fold]


@rampconf.register("score", "hits")
class Hits(BaseScore):
    """Share of rows whose most probable label is the true one."""

    def score(self, y_true, y_pred):
        return float(np.mean(np.argmax(y_pred, axis=1) == y_true))
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working directory of its own, with a registry and local-plugin state of its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "_runtime", {kind: {} for kind in registry.KINDS})
    monkeypatch.setattr(local_plugins, "_loaded", {})
    monkeypatch.setattr(local_plugins, "_classes", {})
    monkeypatch.setattr(local_plugins, "_failed", {})
    modules = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - modules:
        if name.startswith("rampconf_local_"):
            del sys.modules[name]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_local_plugin_is_loaded_only_when_a_name_needs_it(project):
    write(project / "conf" / "plugins.py", CV_FILE)
    assert registry.get("cv", "kfold") is not None
    assert not (project / "executed").exists()  # built-in names never run the file
    cls = registry.get("cv", "every_nth")
    assert (project / "executed").exists()
    scheme = make_plugin("cv", "every_nth", {"n_folds": 3}, "problem.cv", BaseCV)
    assert type(scheme) is cls
    assert [v.tolist() for _, v in scheme.split(None, np.zeros(7))] == [[0, 3, 6], [1, 4], [2, 5]]
    (loaded,) = local_plugins.loaded_files()
    assert loaded.path == project / "conf" / "plugins.py"
    assert loaded.plugins == {"score": ["hits"], "cv": ["every_nth"]}
    digest = hashlib.sha256(CV_FILE.encode()).hexdigest()
    assert loaded.sha256 == digest and loaded.module == f"rampconf_local_plugins_{digest[:12]}"


def test_local_plugins_are_validated_like_built_in_ones(project):
    write(project / "rampconf_plugins.py", CV_FILE)
    with pytest.raises(ConfigError) as info:
        make_plugin("cv", "every_nth", {"n_folds": 1}, "problem.cv", BaseCV)
    assert str(info.value) == "problem.cv.n_folds: input should be greater than or equal to 2, " \
                              "got 1"
    with pytest.raises(ConfigError, match=r"problem.scores.x.top: unknown key, got 1 "
                                          r"\(parameters of Hits: none\)"):
        make_plugin("score", "hits", {"top": 1}, "problem.scores.x", BaseScore)


def test_listing_plugins_loads_the_local_ones(project):
    write(project / "conf" / "rampconf_plugins.py", CV_FILE)
    assert "every_nth" in registry.available("cv") and "hits" in registry.available("score")


def test_an_unknown_name_lists_the_local_ones_too(project):
    write(project / "conf" / "plugins.py", CV_FILE)
    with pytest.raises(RegistryError, match="did you mean 'every_nth'"):
        registry.get("cv", "every_nt")


def test_a_plugin_package_with_relative_imports(project):
    package = project / "rampconf_plugins"
    write(package / "__init__.py", "from . import schemes  # noqa: F401\n")
    write(package / "schemes.py", CV_FILE)
    cls = registry.get("cv", "every_nth")
    (loaded,) = local_plugins.loaded_files()
    assert loaded.path == package and cls.__module__ == f"{loaded.module}.schemes"


def test_the_packaged_conf_of_a_checkout_is_not_a_users(monkeypatch):
    monkeypatch.chdir(REPO)
    assert local_plugins.find_plugin_files() == []


@pytest.mark.parametrize(("body", "message"), [
    ("import rampconf\n@rampconf.register('cv', 'kfold')\n"
     "class K(__import__('rampconf.cv').cv.BaseCV):\n    def split(self, X, y, g=None): ...\n",
     "conf/plugins.py: cv 'kfold' is the name of an installed plugin "
     "(rampconf_tabular.cv:KFold); a local plugin needs a name of its own"),
    ("import rampconf\n@rampconf.register('score', 'mine')\nclass S:\n    pass\n",
     "conf/plugins.py: score 'mine': 'S' must derive from rampconf.scores.BaseScore"),
    ("import rampconf\nfrom rampconf.scores import BaseScore\n"
     "@rampconf.register('score', 'mine')\nclass S(BaseScore):\n    pass\n",
     "conf/plugins.py: score 'mine': S does not implement score, which BaseScore requires"),
    ("import rampconf\n\nx = 1 +\n", "conf/plugins.py, line 3: SyntaxError: invalid syntax"),
    ("import rampconf\n\n\nraise RuntimeError('no data here')\n",
     "conf/plugins.py, line 4: RuntimeError: no data here"),
], ids=["built-in-name", "wrong-base", "abstract", "syntax-error", "raises"])
def test_a_bad_local_plugin_file_is_one_line_naming_the_file(project, body, message):
    write(project / "conf" / "plugins.py", body)
    with pytest.raises(ConfigError) as info:
        registry.get("score", "mine")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert registry._runtime == {kind: {} for kind in registry.KINDS}  # nothing stays
    assert not [name for name in sys.modules if name.startswith("rampconf_local_plugins")]


def test_two_files_may_not_register_one_name(project):
    write(project / "conf" / "plugins.py", CV_FILE)
    write(project / "rampconf_plugins.py", CV_FILE.replace('"hits"', '"other"'))
    with pytest.raises(ConfigError, match=r"rampconf_plugins.py: cv 'every_nth' is registered "
                                          r"already \(by .*conf/plugins.py\)"):
        registry.available("cv")


# --------------------------------------------------------------------------- other processes


def loads_elsewhere(payload: bytes, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Unpickle ``payload`` in a fresh Python process started in ``cwd`` and run ``code``."""
    script = f"import pickle, sys\nobj = pickle.loads(sys.stdin.buffer.read())\n{code}\n"
    return subprocess.run([sys.executable, "-c", script], input=payload, cwd=cwd,
                          capture_output=True, check=False)


def test_a_local_plugin_object_is_rebuilt_in_a_fresh_process_from_its_path(project, tmp_path):
    write(project / "conf" / "plugins.py", CV_FILE)
    scheme = make_plugin("cv", "every_nth", {"n_folds": 3}, "problem.cv", BaseCV)
    payload = pickle.dumps(scheme)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()  # another working directory: found by its recorded path, not by cwd
    proc = loads_elsewhere(payload, "import numpy as np\n"
                           "print([v.tolist() for _, v in obj.split(None, np.zeros(5))], "
                           "obj.params.n_folds, type(obj).__module__)", elsewhere)
    assert proc.returncode == 0, proc.stderr.decode()
    module = local_plugins.loaded_files()[0].module
    assert proc.stdout.decode().split() == ["[[0,", "3],", "[1,", "4],", "[2]]", "3", module]


def test_a_changed_plugin_file_is_refused_in_the_other_process(project, tmp_path):
    path = write(project / "conf" / "plugins.py", CV_FILE)
    payload = pickle.dumps(make_plugin("score", "hits", {}, "problem.scores.h", BaseScore))
    path.write_text(CV_FILE + "\n# edited\n")
    proc = loads_elsewhere(payload, "", tmp_path)
    assert proc.returncode != 0
    assert "the local plugin file changed since the run recorded it" in proc.stderr.decode()


def test_records_name_the_files_of_the_plugins_a_run_uses(project):
    write(project / "conf" / "plugins.py", CV_FILE)
    scheme = make_plugin("cv", "every_nth", {}, "problem.cv", BaseCV)
    builtin = make_plugin("cv", "kfold", {}, "problem.cv", BaseCV)
    (record,) = local_plugins.records_for([scheme, builtin, scheme])
    assert record["path"] == str(project / "conf" / "plugins.py")
    assert record["sha256"] == hashlib.sha256(CV_FILE.encode()).hexdigest()
    assert local_plugins.records_for([builtin]) == []
