"""A class challenge end to end on titanic: five students, kit, evaluate, reveal, publish, blend.

alice's submission is good, bob's poor, carol's raises, dave's hangs (stopped by
fold_timeout) and eve's reads the teacher's test file to copy its labels (the
sandbox hides it: she gets nothing). The commands run as a teacher types them
(``rampconf-challenge``'s entry point); the pages render in headless Chromium.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import rampconf
from rampconf.challenge.cli import main
from tests.integration.test_process import chromium, not_blank

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]

POOR = '''
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline


def get_estimator():
    return make_pipeline(make_column_transformer((SimpleImputer(), ["Age"])),
                         LogisticRegression())
'''
RAISES = '''
def get_estimator():
    raise ValueError("carol's model is not ready")
'''
HANGS = '''
import time

from sklearn.base import BaseEstimator, ClassifierMixin


class Slow(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        while True:
            time.sleep(1)


def get_estimator():
    return Slow()
'''
#: Copies the labels of the teacher's test file (by passenger name) when it can read it.
PEEKS = '''
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

SECRET = {secret!r}


class Peek(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        try:
            labels = pd.read_csv(SECRET).set_index("Name")["Survived"]
            p = X["Name"].map(labels).fillna(0.5).to_numpy(dtype=float)
        except OSError:
            p = np.full(len(X), 0.5)
        return np.column_stack([1 - p, p])


def get_estimator():
    return Peek()
'''
CHALLENGE = """name: titanic_class
problem: titanic
data_root: {kits}
overrides: [problem.cv.n_splits=2]
split: {{public_fraction: 0.5, seed: 3}}
limits: {{fold_timeout: 6, fold_memory: 1GB, sandbox: bwrap, submission_timeout: 300}}
select: newest
n_jobs: 2
"""


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def classroom(tmp_path_factory, kits) -> dict:
    root = tmp_path_factory.mktemp("classroom")
    (root / "challenge.yaml").write_text(CHALLENGE.format(kits=kits))
    starting = Path(rampconf.__file__).parents[1] / "submissions" / "titanic" / "starting_kit"
    class_ = {"alice/good": starting.joinpath("estimator.py").read_text(),
              "bob/poor": POOR, "carol/raises": RAISES, "dave/hangs": HANGS,
              "eve/peeks": PEEKS.format(secret=str(kits / "titanic" / "test.csv"))}
    for label, code in class_.items():
        folder = root / "submissions" / label
        folder.mkdir(parents=True)
        (folder / "estimator.py").write_text(code)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        code = main(["kit", "challenge.yaml", "kit"])
        assert code == 0
        clock = time.perf_counter()
        code = main(["evaluate", "challenge.yaml", "submissions"])
        elapsed = time.perf_counter() - clock
    assert code == 0
    print(f"evaluate: 5 submissions in {elapsed:.1f} s")
    return {"root": root, "results": root / "results", "kits": kits}


def records(results: Path) -> dict[str, dict]:
    found = {}
    for path in results.glob("evaluations/*/*/*/record.json"):
        record = json.loads(path.read_text())
        found[f"{record['student']}/{record['submission']}"] = record
    return found


def test_the_kit_holds_no_private_test_row(classroom):
    root, kits = classroom["root"], classroom["kits"]
    test = pd.read_csv(kits / "titanic" / "test.csv", dtype=str, keep_default_na=False)
    kit_test = pd.read_csv(root / "kit" / "data" / "titanic" / "test.csv", dtype=str,
                           keep_default_na=False)
    public_ids = set(kit_test["PassengerId"])
    assert 0 < len(public_ids) < len(test)
    private = test[~test["PassengerId"].isin(public_ids)]
    assert len(private) == len(test) - len(kit_test)
    full_test = hashlib.sha256((kits / "titanic" / "test.csv").read_bytes()).hexdigest()
    files = [p for p in (root / "kit").rglob("*") if p.is_file()]
    assert len(files) == 5  # README, problem YAML, train, public test, starting kit
    for path in files:
        content = path.read_bytes()
        assert hashlib.sha256(content).hexdigest() != full_test, path
        for name in private["Name"]:  # names are unique: a private row leaves its name
            assert name.encode() not in content, f"{path} holds the private row of {name}"
    assert (root / "kit" / "data" / "titanic" / "train.csv").read_bytes() == \
        (kits / "titanic" / "train.csv").read_bytes()
    readme = (root / "kit" / "README.md").read_text()
    assert "python -m rampconf problem=titanic submission=starting_kit" in readme
    assert f"{len(kit_test)} rows" in readme


def test_evaluate_ranks_the_three_that_ran(classroom):
    results = classroom["results"]
    found = records(results)
    assert {label: r["status"] for label, r in found.items()} == {
        "alice/good": "ok", "bob/poor": "ok", "carol/raises": "failed",
        "dave/hangs": "timeout", "eve/peeks": "ok"}
    assert found["carol/raises"]["error"].startswith("failed: fold 0: ")
    assert "carol's model is not ready" in found["carol/raises"]["error"]
    assert found["dave/hangs"]["error"].startswith(
        "timeout: fold 0: ran longer than fold_timeout=6 s")
    board = pd.read_csv(results / "public_leaderboard.csv")
    assert not any("private" in column for column in board.columns)
    ranked = board[board["rank"].notna()].sort_values("rank")
    assert ranked["submission"].tolist()[0] == "alice/good"
    assert set(ranked["submission"]) == {"alice/good", "bob/poor", "eve/peeks"}
    public = dict(zip(board["submission"], board["auc bagged public"], strict=True))
    assert public["alice/good"] > 0.8 and public["bob/poor"] < 0.7
    assert public["eve/peeks"] == 0.5  # her constant fallback: the labels were not readable
    unranked = board[board["rank"].isna()].set_index("submission")["status"].to_dict()
    assert unranked == {"carol/raises": "failed", "dave/hangs": "timeout"}
    page = (results / "public_leaderboard.html").read_text()
    assert "titanic_class: public leaderboard" in page and "private" not in page


def test_eves_trick_works_where_the_file_is_readable(classroom, tmp_path):
    """The control: outside the sandbox her code reads the labels and scores perfectly."""
    namespace: dict = {}
    code = (classroom["root"] / "submissions" / "eve" / "peeks" / "estimator.py").read_text()
    exec(compile(code, "estimator.py", "exec"), namespace)
    test = pd.read_csv(classroom["kits"] / "titanic" / "test.csv")
    proba = namespace["get_estimator"]().fit(None, None).predict_proba(test)
    assert roc_auc_score(test["Survived"], proba[:, 1]) == 1.0


def test_the_kit_gives_the_public_scores(classroom, tmp_path, monkeypatch):
    """A student running alice's files in the kit sees her CV and public test scores."""
    kit = classroom["root"] / "kit"
    monkeypatch.chdir(kit)
    folder = kit / "submissions" / "titanic" / "good"
    folder.mkdir()
    (folder / "estimator.py").write_text(
        (classroom["root"] / "submissions" / "alice" / "good" / "estimator.py").read_text())
    local = rampconf.run(problem="titanic", submission="good", quiet=True,
                         overrides=["progress=false", "n_figures=0"], output_dir=tmp_path / "r")
    board = pd.read_csv(classroom["results"] / "public_leaderboard.csv").set_index("submission")
    assert np.isclose(local.summary["bagged"]["test"]["auc"],
                      board.loc["alice/good", "auc bagged public"], rtol=0, atol=1e-12)
    assert np.isclose(local.summary["mean"]["valid"]["auc"],
                      board.loc["alice/good", "auc valid"], rtol=0, atol=1e-12)


def test_a_second_evaluate_reruns_only_what_changed(classroom, capsys, monkeypatch):
    monkeypatch.chdir(classroom["root"])
    before = {k: r["evaluated"] for k, r in records(classroom["results"]).items()}
    code, out, _ = cli(capsys, "evaluate", "challenge.yaml", "submissions")
    assert code == 0
    assert "evaluated 0, skipped 5 (already evaluated)" in out
    assert {k: r["evaluated"] for k, r in records(classroom["results"]).items()} == before
    poor = classroom["root"] / "submissions" / "bob" / "poor" / "estimator.py"
    poor.write_text(poor.read_text() + "# a comment: new content, a new version\n")
    code, out, _ = cli(capsys, "evaluate", "challenge.yaml", "submissions")
    assert code == 0
    assert "evaluated 1, skipped 4 (already evaluated)" in out
    assert "bob/poor: ok in" in out
    assert len(list(classroom["results"].glob("evaluations/bob/poor/*/record.json"))) == 2


def test_reveal_adds_the_private_scores(classroom, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(classroom["root"])
    results, kits = classroom["results"], classroom["kits"]
    public_before = pd.read_csv(results / "public_leaderboard.csv")
    code, out, _ = cli(capsys, "reveal", "challenge.yaml")
    assert code == 0 and "final leaderboard:" in out
    final = pd.read_csv(results / "private_leaderboard.csv").set_index("submission")
    ranked = final[final["rank"].notna()].sort_values("rank")
    assert ranked.index[0] == "alice/good" and len(ranked) == 3
    # The private score, recomputed here from alice's saved bagged test predictions.
    test = pd.read_csv(kits / "titanic" / "test.csv")
    kit_ids = pd.read_csv(classroom["root"] / "kit" / "data" / "titanic" / "test.csv")
    private = ~test["PassengerId"].isin(kit_ids["PassengerId"]).to_numpy()
    run_dir = Path(final.loc["alice/good", "run_dir"])
    with np.load(run_dir / "predictions" / "bagged.npz") as saved:
        proba = saved["test"]
    expected = roc_auc_score(test["Survived"][private], proba[private][:, 1])
    assert np.isclose(final.loc["alice/good", "auc bagged private"], expected, atol=1e-12)
    public = public_before.set_index("submission")["auc bagged public"]
    assert np.allclose(final.loc[public.index, "auc bagged public"], public, equal_nan=True)
    assert final.loc["alice/good", "mark"] == "leader"
    for name in ("public_leaderboard", "private_leaderboard"):
        dom, png = chromium(results / f"{name}.html", tmp_path)
        assert dom.count("<table") == 1 and "alice/good" in dom and "dave/hangs" in dom
        assert ("auc bagged private" in dom) == (name == "private_leaderboard")
        assert not_blank(png)


def test_publish_and_blend(classroom, capsys, monkeypatch):
    monkeypatch.chdir(classroom["root"])
    code, out, _ = cli(capsys, "publish", "challenge.yaml", "published")
    assert code == 0
    published = classroom["root"] / "published"
    page = (published / "index.html").read_text()
    for label in ("alice/good", "bob/poor", "carol/raises", "dave/hangs", "eve/peeks"):
        assert f"<h2 id=\"{label.replace('/', '.')}\">{label}</h2>" in page
        assert (published / "submissions" / label.replace("/", ".") / "estimator.py").is_file()
    assert "carol&#x27;s model is not ready" in page  # her code and her error
    # revealed here too: the tests of this module may run in other processes (pytest-xdist),
    # each with its own classroom, so test_reveal_adds_the_private_scores may not have run
    code, _, _ = cli(capsys, "reveal", "challenge.yaml")
    assert code == 0
    code, out, _ = cli(capsys, "blend", "challenge.yaml")
    assert code == 0, out
    shares = {line.split()[0]: float(line.split()[1]) for line in out.splitlines()
              if line.startswith("  ")}
    assert set(shares) == {"alice/good", "bob/poor", "eve/peeks"}
    assert abs(sum(shares.values()) - 100) < 0.2 and shares["alice/good"] > 50
    assert "blend: bagged auc valid" in out and "public" in out and "private" in out


def test_an_evaluation_over_its_time_is_stopped_and_recorded(tmp_path, kits, capsys):
    """submission_timeout: the evaluation's whole process group is killed, the record says so."""
    (tmp_path / "challenge.yaml").write_text(
        CHALLENGE.format(kits=kits).replace("submission_timeout: 300", "submission_timeout: 1"))
    folder = tmp_path / "submissions" / "frank" / "slow"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(HANGS)
    code, out, _ = cli(capsys, "evaluate", str(tmp_path / "challenge.yaml"),
                       str(tmp_path / "submissions"))
    assert code == 0
    assert "frank/slow: timeout in" in out and "limits.submission_timeout=1 s" in out
    [record] = records(tmp_path / "results").values()
    assert record["status"] == "timeout" and record["run_dir"] is None
    target = str(tmp_path / "results")
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit()
            and target.encode() in _cmdline(p)]
    assert not left  # no evaluation process (nor its fork server) is left running
    board = pd.read_csv(tmp_path / "results" / "public_leaderboard.csv")
    assert board.to_dict("records")[0]["status"] == "timeout"


def _cmdline(process: Path) -> bytes:
    try:
        return (process / "cmdline").read_bytes()
    except OSError:
        return b""


GREEDY = '''
import numpy as np
from sklearn.linear_model import LogisticRegression


def get_estimator():
    np.ones(600 * 10**6 // 8)  # 600 MB, every page written
    return LogisticRegression()
'''


def test_memory_hogs_and_missing_files_are_recorded(tmp_path, kits, capsys):
    (tmp_path / "challenge.yaml").write_text(
        CHALLENGE.format(kits=kits).replace("fold_memory: 1GB", "fold_memory: 300MB"))
    for label, name, code in (("gina/greedy", "estimator.py", GREEDY),
                              ("hugo/misnamed", "classifier.py", "x = 1\n"),
                              ("ines", "estimator.py", "x = 1\n")):
        (tmp_path / "submissions" / label).mkdir(parents=True)
        (tmp_path / "submissions" / label / name).write_text(code)
    code, out, _ = cli(capsys, "evaluate", str(tmp_path / "challenge.yaml"),
                       str(tmp_path / "submissions"))
    assert code == 0
    assert "ines: estimator.py directly in the student's folder: not evaluated" in out
    found = records(tmp_path / "results")
    assert {k: r["status"] for k, r in found.items()} == {"gina/greedy": "out_of_memory",
                                                          "hugo/misnamed": "error"}
    assert "fold_memory=300.0 MB" in found["gina/greedy"]["error"]
    assert "estimator.py" in found["hugo/misnamed"]["error"]
    board = pd.read_csv(tmp_path / "results" / "public_leaderboard.csv")
    assert board["rank"].isna().all()
    assert dict(zip(board["submission"], board["status"], strict=True)) == {
        "gina/greedy": "out_of_memory", "hugo/misnamed": "error"}
    page = (tmp_path / "results" / "public_leaderboard.html").read_text()
    assert "<h2>Not run</h2>" in page and "hugo/misnamed" in page
