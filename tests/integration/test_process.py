"""RAMP's process end to end on titanic: runs, a sweep, leaderboard, blend, re-score, report.

Three shipped submissions, a sweep of three trials, a run on other folds, a
submission that fails and a run that was interrupted; then the commands, as
a user types them, and the HTML pages rendered by headless Chromium.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import rampconf
from tests.conftest import cli_env

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]

FOLDS = "problem.cv.n_splits=4"
ADDED_SCORE = ["+score@problem.scores.f1_50=f1_above", "problem.scores.f1_50.name=f1_50",
               "problem.scores.f1_50.threshold=0.5", "problem.scores.f1_70.threshold=0.6"]
BROKEN = '''
def get_estimator():
    raise RuntimeError("this submission is broken on purpose")
'''


def command(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``rampconf-<name> ARGS`` (the console script's module, with this interpreter)."""
    code = f"import sys; from rampconf.process_cli import {name}_main as m; sys.exit(m())"
    if name == "report":
        code = "import sys; from rampconf.report import main as m; sys.exit(m())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory, kits) -> Path:
    """A working directory holding outputs/ and multirun/ as a user's would."""
    root = tmp_path_factory.mktemp("process")
    common = [f"data_root={kits}", "n_figures=0", "progress=false"]
    for name in ("starting_kit", "logistic_regression", "random_forest"):
        run = rampconf.run(problem="titanic", submission=name, overrides=[*common, FOLDS],
                           output_dir=root / "outputs" / "titanic" / name / "1", quiet=True)
        assert run.status == "ok"
    rampconf.run(problem="titanic", submission="starting_kit",
                 overrides=[*common, "cv=kfold", "cv.n_splits=3"],
                 output_dir=root / "outputs" / "titanic" / "starting_kit" / "kfold", quiet=True)
    broken = root / "broken"
    broken.mkdir()
    (broken / "estimator.py").write_text(BROKEN)
    failed = rampconf.run(problem="titanic", submission="broken",
                          overrides=[*common, FOLDS, f"submission.path={broken}"],
                          output_dir=root / "outputs" / "titanic" / "broken" / "1", quiet=True)
    assert failed.status == "failed"
    # A run stopped by a signal (status "interrupted", as trusted execution writes it).
    halted = root / "outputs" / "titanic" / "halted" / "1"
    shutil.copytree(root / "outputs" / "titanic" / "random_forest" / "1", halted)
    summary = json.loads((halted / "summary.json").read_text())
    summary.update(status="interrupted", submission="halted")
    (halted / "summary.json").write_text(json.dumps(summary))
    proc = subprocess.run(
        [sys.executable, "-m", "rampconf", "-m", "problem=titanic", *common, FOLDS,
         "submission=logistic_regression", "hydra/sweeper=rampconf", "hydra.sweeper.n_trials=3",
         "submission.params.C=tag(log, interval(0.001, 0.1))", "hydra.sweep.dir=multirun/lr"],
        cwd=root, env=cli_env(), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root


def test_leaderboard_ranks_compares_and_explains(project):
    proc = command("leaderboard", "--format", "csv", cwd=project)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(StringIO(proc.stdout))
    main = table[table["cv"].str.startswith("stratified_shuffle_split n_splits=4")]
    ranked = main[main["rank"].notna()]
    # ranked by mean valid AUC, greater is better; failed and interrupted runs not ranked
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert ranked["auc valid"].is_monotonic_decreasing
    assert set(ranked["status"]) == {"ok"}
    unranked = main[main["rank"].isna()].set_index("submission")["status"].to_dict()
    assert unranked == {"broken": "failed", "halted": "interrupted"}
    assert ranked["submission"].str.fullmatch(r"logistic_regression \(trial \d, "
                                              r"best of 3\)").sum() == 1
    assert len(ranked) == 4
    # marks follow the numbers: * for p < 0.05, † for a bootstrap interval without 0
    assert ranked["mark"].iloc[0] == "leader"
    for row in ranked.iloc[1:].itertuples():
        mark = "" if not isinstance(row.mark, str) else row.mark
        assert ("*" in mark) == (row.p_value < 0.05)
        assert ("†" in mark) == (row.test_diff_low > 0 or row.test_diff_high < 0)
        assert row.test_diff_low <= row.test_diff <= row.test_diff_high
    # the p-value is Nadeau–Bengio's on the fold valid scores (recomputed here)
    leader, last = (rampconf.load_run(project / ranked["run_dir"].iloc[i]) for i in (0, -1))
    a, b = (r.scores.query("step == 'valid' and score == 'auc'")["value"].to_numpy()
            for r in (leader, last))
    folds = leader.folds
    ratio = folds["n_valid"].mean() / folds["n_train"].mean()
    d = b - a
    t = d.mean() / np.sqrt((1 / len(d) + ratio) * d.var(ddof=1))
    assert ranked["p_value"].iloc[-1] == pytest.approx(2 * stats.t.sf(abs(t), len(d) - 1))
    # the run on other folds is on a board of its own
    other = table[table["cv"].str.startswith("kfold")]
    assert other["submission"].tolist() == ["starting_kit"] and other["rank"].tolist() == [1]
    text = command("leaderboard", "--format", "markdown", cwd=project).stdout
    assert "run(s) of titanic are on another board: other CV folds (kfold n_splits=3" in text
    # a lower-is-better ranking: nll, ascending
    proc = command("leaderboard", "--format", "csv", "--rank-by", "mean.valid.nll",
                   "--no-compare", "--problem", "titanic", cwd=project)
    by_nll = pd.read_csv(StringIO(proc.stdout)).query("rank == rank")
    main_nll = by_nll[by_nll["cv"].str.startswith("stratified")]
    assert main_nll["nll valid"].is_monotonic_increasing
    every = pd.read_csv(StringIO(command("leaderboard", "--format", "csv", "--all",
                                         "--no-compare", cwd=project).stdout))
    assert every["submission"].str.contains("trial").sum() == 3


def test_blend_contributivities_and_scores(project):
    proc = command("blend", "--problem", "titanic", "--output", "blend", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert "left out: starting_kit" in proc.stderr and "other CV folds (kfold" in proc.stderr
    assert "contributivity" in proc.stdout and "best single" in proc.stdout
    shares = pd.read_csv(project / "blend" / "contributivity.csv")
    assert set(shares["submission"]) >= {"starting_kit", "logistic_regression", "random_forest"}
    per_fold = shares.groupby("fold")["share"].sum()
    assert np.allclose(per_fold, 1.0) and len(per_fold) == 4
    assert shares.groupby("submission")["share"].mean().sum() * 100 == pytest.approx(100.0)
    blended = rampconf.load_run(project / "blend")
    assert blended.summary["submission"] == "blend" and blended.status == "ok"
    members = json.loads((project / "blend" / "metadata.json").read_text())["blend"]["members"]
    runs = [rampconf.load_run(m["run_dir"]) for m in members]
    # each fold's blend starts from the fold's best member, so the mean valid can only gain
    assert blended.objective >= max(r.objective for r in runs) - 1e-12
    assert blended.summary["bagged"]["valid"]["auc"] >= \
        max(r.summary["bagged"]["valid"]["auc"] for r in runs) - 1e-12
    scores = pd.read_csv(project / "blend" / "blend_scores.csv")
    assert {"blend", "foldwise_best"} <= set(scores["entry"])
    # on a leaderboard a blend is listed, not ranked (unless asked): its valid scores flatter it
    for flags, ranked in (((), False), (("--rank-blends", "--no-compare"), True)):
        board = pd.read_csv(StringIO(command("leaderboard", "outputs", "blend", "--format",
                                             "csv", *flags, cwd=project).stdout))
        row = board[board["submission"] == f"blend of {len(members)} runs"]
        assert len(row) == 1 and row["rank"].notna().item() == ranked
        if not ranked:  # compared with the leader on test only
            assert np.isnan(row["p_value"].item()) and np.isfinite(row["test_diff"].item())


def test_rescore_with_an_added_score_equals_a_fresh_run(project, kits):
    source = project / "outputs" / "titanic" / "starting_kit" / "1"
    proc = command("rescore", str(source), *ADDED_SCORE, "--output", "rescored", "--quiet",
                   cwd=project)
    assert proc.returncode == 0, proc.stderr
    rescored = rampconf.load_run(project / "rescored")
    fresh = rampconf.run(problem="titanic", submission="starting_kit",
                         overrides=[f"data_root={kits}", "n_figures=0", FOLDS, *ADDED_SCORE],
                         output_dir=project / "fresh", quiet=True)
    assert rescored.summary["score_names"] == fresh.summary["score_names"]
    assert "f1_50" in fresh.summary["score_names"]
    pd.testing.assert_frame_equal(rescored.scores, fresh.scores, rtol=1e-12)
    pd.testing.assert_frame_equal(rescored.bagged, fresh.bagged, rtol=1e-12)
    for stat in ("mean", "std", "bagged"):
        assert rescored.table(stat).to_numpy() == pytest.approx(fresh.table(stat).to_numpy(),
                                                                rel=1e-12, nan_ok=True)
    metadata = json.loads((project / "rescored" / "metadata.json").read_text())
    assert metadata["rescored_from"] == str(source.resolve())
    assert rescored.summary["rescored_from"] == str(source.resolve())
    # the rescored run is what the leaderboard shows for the starting kit now
    board = pd.read_csv(StringIO(command("leaderboard", "outputs", "rescored", "--format",
                                         "csv", "--no-compare", "--scores", "f1_50",
                                         cwd=project).stdout))
    shown = board[board["cv"].str.startswith("stratified")].set_index("submission")
    assert "starting_kit (rescored)" in shown.index and "starting_kit" not in shown.index
    assert shown.loc["starting_kit (rescored)", "f1_50 valid"] == \
        pytest.approx(fresh.summary["mean"]["valid"]["f1_50"])
    # what needs a new training is refused, in one line
    proc = command("rescore", str(source), "problem.cv.n_splits=3", cwd=project)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "rampconf-rescore: error: problem.cv.n_splits: re-scoring changes only scores "
        "(problem.scores.*) and compat; other keys need a new run, got 3 instead of the "
        "run's 4")


def chromium(html: Path, tmp_path: Path) -> tuple[str, Path]:
    """The page's DOM after rendering, and a screenshot, by headless Chromium."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'chromium'}"]
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "headless Chromium is needed: apt-get install chromium (.ci/run does)"
    url = html.resolve().as_uri()
    dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    png = tmp_path / f"{html.stem}.png"
    subprocess.run([browser, *flags, f"--screenshot={png}", "--window-size=1280,2000", url],
                   capture_output=True, timeout=120, check=True)
    return dom, png


def not_blank(png: Path) -> bool:
    from PIL import Image

    with Image.open(png) as image:
        pixels = np.asarray(image.convert("L"))
    return pixels.shape == (2000, 1280) and pixels.std() > 10 and (pixels < 100).mean() > 0.01


def test_html_report_and_leaderboard_render_in_chromium(project, tmp_path):
    run_dir = project / "outputs" / "titanic" / "logistic_regression" / "1"
    proc = command("report", str(run_dir), "--html", cwd=project)
    assert proc.returncode == 0, proc.stderr
    report = run_dir / "report.html"
    assert f"HTML report: {report}" in proc.stdout
    text = report.read_text()
    assert "http" not in text.replace("http-equiv", "")  # nothing to fetch
    dom, png = chromium(report, tmp_path)
    assert dom.count("<table") >= 4  # folds, mean ± std, bagged, versions (+ data files)
    assert dom.count('src="data:image/png;base64,') >= 3  # folds, bagging curve, confusion
    for caption in ("auc per fold", "bagging curve", "bagged valid predictions"):
        assert f"<figcaption>{caption}</figcaption>" in dom
    assert "<h2>Configuration</h2>" in dom and "scikit-learn" in dom
    assert not_blank(png)
    proc = command("leaderboard", "--format", "html", "--output", "board.html", cwd=project)
    assert proc.returncode == 0, proc.stderr
    dom, png = chromium(project / "board.html", tmp_path)
    assert dom.count("<table") == 2 and dom.count('src="data:image/png;base64,') == 2
    assert "Nadeau–Bengio" in dom and "random_forest" in dom
    assert not_blank(png)


def test_report_of_a_run_whose_folds_all_failed(project):
    run_dir = project / "outputs" / "titanic" / "broken" / "1"
    proc = command("report", str(run_dir), "--html", cwd=project)
    assert proc.returncode == 0, proc.stderr
    text = (run_dir / "report.html").read_text()
    assert "status <b>failed</b>" in text and text.count('<tr class="failed">') == 4
    assert "<img" not in text  # nothing ran: no plot to draw


def test_report_without_matplotlib_keeps_its_tables(project):
    """No plots extra: the page says how to get the pictures; pyplot is never imported."""
    run_dir = project / "outputs" / "titanic" / "random_forest" / "1"
    code = ("import sys\nsys.modules['matplotlib'] = None\n"
            "from rampconf.html_report import run_report\n"
            f"html = run_report({str(run_dir)!r})\n"
            "print(html.count('<table'), html.count('<img'), "
            "\"pip install 'rampconf[plots]'\" in html)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=cli_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["5", "0", "True"]
    code = ("import sys, matplotlib\nmatplotlib.use('svg')\n"
            "from rampconf.html_report import run_report\n"
            f"html = run_report({str(run_dir)!r})\n"
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=cli_env(), check=False)
    assert proc.stdout.split() == ["svg", "False"], proc.stderr
