"""The sweeper's pure parts: sweep expressions to distributions, values back to overrides,
storage URLs, job outcomes, the failure budget and the seeds."""

from __future__ import annotations

import dataclasses
import gc
import math
import weakref
from pathlib import Path

import optuna
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hydra_plugins.rampconf_sweeper import PrunerConf, RampconfSweeperConf
from hydra_plugins.rampconf_sweeper._outcomes import FailureBudget, job_outcome, lean_return
from hydra_plugins.rampconf_sweeper._sampling import trial_seed
from hydra_plugins.rampconf_sweeper._space import check_points, format_value, parse_search_space
from hydra_plugins.rampconf_sweeper._storage import normalize_storage
from rampconf.errors import ConfigError
from rampconf.trial import PrunerConfig


def space_of(*expressions: str):
    return parse_search_space(list(expressions))


def only(*expressions: str):
    (param,) = space_of(*expressions).params
    return param


@pytest.mark.parametrize(("expression", "distribution"), [
    ("x=interval(0, 1)", FloatDistribution(0.0, 1.0)),
    ("x=tag(log, interval(0.001, 100))", FloatDistribution(0.001, 100.0, log=True)),
    ("x=int(interval(1, 100))", IntDistribution(1, 100)),
    ("x=tag(log, int(interval(1, 1000)))", IntDistribution(1, 1000, log=True)),
    ("x=range(2, 50)", IntDistribution(2, 49)),  # the end is excluded, as in Hydra
    ("x=range(2, 50, 4)", IntDistribution(2, 46, step=4)),
    ("x=range(10, 0, -3)", IntDistribution(1, 10, step=3)),
    ("x=tag(log, range(1, 65))", IntDistribution(1, 64, log=True)),
    ("x=range(0.1, 0.5, 0.1)", FloatDistribution(0.1, 0.4, step=0.1)),
    ("x=choice(mean, median)", CategoricalDistribution(["mean", "median"])),
    ("x=mean,median", CategoricalDistribution(["mean", "median"])),
    ("x=choice(1, 2.5, true, word)", CategoricalDistribution([1, 2.5, True, "word"])),
])
def test_sweep_expressions_become_distributions(expression, distribution):
    assert only(expression).distribution == distribution


def test_values_are_written_back_with_their_type():
    param = only("submission.params.x=choice(1, str(2), 'a b', \"it's\", [1,2], true)")
    texts = [param.override(v) for v in param.distribution.choices]
    assert texts[0] == "submission.params.x=1"
    parser = OverridesParser.create()
    parsed = [parser.parse_override(t).value() for t in texts]
    assert parsed == [1, "2", "a b", "it's", [1, 2], True]
    assert only("x=interval(0, 1)").override(1e-05) == "x=1e-05"


@pytest.mark.parametrize("text", ["mean", "1", "1e-3", "true", "null", "a b", "it's", "x\\y",
                                  "c,d", "${x}", "é", "", "back\\'q"])
def test_format_value_round_trips_strings(text):
    parsed = OverridesParser.create().parse_override(f"k={format_value(text)}").value()
    assert parsed == text


def test_fixed_overrides_pass_through_and_the_last_expression_wins():
    space = space_of("problem=titanic", "+extra=3", "~debug", "a=interval(0, 1)",
                     "a=choice(x, y)", "b=range(1, 3)", "b=5")
    assert [p.name for p in space.params] == ["a"]
    assert space.params[0].distribution == CategoricalDistribution(["x", "y"])
    assert space.fixed == ["problem=titanic", "+extra=3", "~debug", "b=5"]
    assert space.overrides({"a": "y"}) == [*space.fixed, "a=y"]


def test_plus_keys_keep_their_prefix_in_job_overrides():
    param = only("+submission.params.new=choice(1, 2)")
    assert param.name == "submission.params.new"
    assert param.override(2) == "+submission.params.new=2"


@pytest.mark.parametrize(("expression", "message"), [
    ("x=interval(0, 1", "bad sweep syntax"),
    ("x=tag(log, interval(0, 1))", "needs a positive lower bound"),
    ("x=tag(log, choice(1, 2))", "not to a choice"),
    ("x=tag(log, range(1, 10, 2))", "needs step 1"),
    ("x=tag(log, range(0.1, 1.0, 0.1))", "no log scale"),
    ("x=tag(lgo, interval(1, 2))", "unknown tag lgo"),
    ("x=range(5, 1)", "the range is empty"),
    ("x=interval(2, 1)", "the low end is above the high end"),
    ("x=choice(1, 1)", "given twice"),
])
def test_bad_expressions_are_config_errors(expression, message):
    with pytest.raises(ConfigError) as info:
        space_of("ok=interval(0, 1)", expression)
    assert len(info.value.lines) == 1
    assert info.value.lines[0].startswith(f"{expression}: ")
    assert message in info.value.lines[0]


def test_every_bad_expression_is_reported():
    with pytest.raises(ConfigError) as info:
        space_of("a=interval(1, 0)", "b=choice(1, 1)")
    assert len(info.value.lines) == 2


def test_checked_points_cover_both_ends_and_every_choice():
    space = space_of("a=interval(1, 2)", "b=choice(x, y, z)")
    assert check_points(space) == [{"a": 1.0, "b": "x"}, {"a": 2.0, "b": "z"},
                                   {"a": 1.0, "b": "y"}]


def test_storage_urls_are_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep = Path("multirun/x")
    assert normalize_storage(None, sweep) == f"sqlite:///{tmp_path / 'multirun/x/optuna.db'}"
    assert normalize_storage("sqlite:///a.db", sweep) == f"sqlite:///{tmp_path / 'a.db'}"
    assert normalize_storage("sqlite:////abs/a.db", sweep) == "sqlite:////abs/a.db"
    assert normalize_storage("b.db", sweep) == f"sqlite:///{tmp_path / 'b.db'}"
    assert normalize_storage("j.log", sweep) == f"journal://{tmp_path / 'j.log'}"
    assert normalize_storage("journal://j.log", sweep) == f"journal://{tmp_path / 'j.log'}"
    assert normalize_storage("journal:///abs/j.log", sweep) == "journal:///abs/j.log"
    url = "postgresql://user:pw@host/db"
    assert normalize_storage(url, sweep) == url
    for bad in ("sqlite:///:memory:", "sqlite://", "not-a-url"):
        with pytest.raises(ConfigError, match=r"hydra\.sweeper\.storage"):
            normalize_storage(bad, sweep)


def job(status: JobStatus, value) -> JobReturn:
    ret = JobReturn()
    ret.status = status
    ret.return_value = value
    return ret


def test_job_outcomes():
    assert job_outcome(job(JobStatus.COMPLETED, 0.8)) == ("COMPLETE", 0.8, None)
    state, value, error = job_outcome(job(JobStatus.COMPLETED, None))
    assert (state, value) == ("FAIL", None) and "no score" in str(error)
    state, value, error = job_outcome(job(JobStatus.COMPLETED, math.nan))
    assert (state, value) == ("FAIL", None) and "nan" in str(error)
    assert job_outcome(job(JobStatus.FAILED, optuna.TrialPruned("pruned after 2 fold(s)"))) \
        == ("PRUNED", None, "pruned after 2 fold(s)")
    assert job_outcome(job(JobStatus.FAILED, RuntimeError("fold 0 failed"))) == \
        ("FAIL", None, "fold 0 failed")
    assert job_outcome(job(JobStatus.FAILED, ValueError("bad"))) == \
        ("FAIL", None, "ValueError: bad")
    error = job_outcome(job(JobStatus.FAILED, ConfigError("x", lines=["a: b", "c: d"])))[2]
    assert error == "a: b | c: d"


class _Rows:  # stands for the data a failed run's frames hold
    pass


def _failing_run(refs):
    rows = _Rows()
    refs.append(weakref.ref(rows))
    raise RuntimeError("fold 0 failed")


def test_what_a_sweep_keeps_of_a_job_holds_neither_its_configs_nor_its_run_frames():
    from omegaconf import OmegaConf

    complete = job(JobStatus.COMPLETED, 0.8)
    complete.cfg, complete.hydra_cfg = OmegaConf.create({"a": 1}), OmegaConf.create({"b": 2})
    complete.overrides, complete.working_dir, complete.task_name = ["C=1"], "/runs/3", "t"
    lean = lean_return(complete)
    assert (lean.cfg, lean.hydra_cfg) == (None, None)
    assert dataclasses.replace(lean, cfg=complete.cfg, hydra_cfg=complete.hydra_cfg) == complete
    refs: list = []
    try:
        _failing_run(refs)
    except RuntimeError as exc:
        failed = job(JobStatus.FAILED, exc)
    lean = lean_return(failed)
    del failed
    gc.collect()
    assert refs[0]() is None  # the run's objects are freed
    assert job_outcome(lean) == ("FAIL", None, "fold 0 failed")


def test_a_failed_job_is_read_through_public_api_without_hydra_s_stderr_line(capsys):
    ret = job(JobStatus.FAILED, RuntimeError("fold 0 failed"))
    ret.overrides = ["x=1"]
    assert job_outcome(ret) == ("FAIL", None, "fold 0 failed")
    assert capsys.readouterr().err == ""  # the sweeper prints its own line per trial
    assert job_outcome(job(JobStatus.UNKNOWN, None))[2] == \
        "the job did not finish (status UNKNOWN)"


def test_failure_budget():
    budget = FailureBudget(max_failures=1, max_failure_rate=1.0)
    budget.record("FAIL", "boom", 0)
    budget.record("PRUNED", "pruned", 1)
    assert budget.exceeded() is None
    budget.record("FAIL", "boom again", 2)
    assert "2 of the 3 trials" in str(budget.exceeded())
    assert "trial 2: boom again" in str(budget.exceeded())
    rate = FailureBudget(max_failures=None, max_failure_rate=0.5)
    for number in range(4):
        rate.record("FAIL", "boom", number)
    assert rate.exceeded() is None  # the rate applies from 5 finished trials on
    rate.record("COMPLETE", None, 4)
    assert "max_failure_rate=0.5" in str(rate.exceeded())


def test_trial_seeds_differ_and_are_reproducible():
    seeds = [trial_seed(0, n) for n in range(100)]
    assert len(set(seeds)) == 100
    assert seeds == [trial_seed(0, n) for n in range(100)]
    assert trial_seed(1, 0) != trial_seed(0, 0)


def test_pruner_defaults_mirror_the_engine():
    assert dataclasses.asdict(PrunerConf()) == PrunerConfig().model_dump()
    assert RampconfSweeperConf().pruner == PrunerConf()


@pytest.mark.parametrize("collecting", [True, False])
def test_a_sweep_that_fails_its_checks_leaves_the_garbage_collector_on(collecting):
    """The sweep's checks run without collections; a failing check turns them back on (a
    notebook's process would otherwise go on without them), whatever the caller had."""
    from types import SimpleNamespace

    from omegaconf import OmegaConf

    from hydra_plugins.rampconf_sweeper._sweep import RampconfSweeperImpl

    impl = RampconfSweeperImpl(n_trials=-1)
    impl.hydra_context = SimpleNamespace(config_loader=None)  # type: ignore[assignment]
    impl.config = OmegaConf.create({})
    if not collecting:
        gc.disable()
    try:
        with pytest.raises(ConfigError, match="n_trials"):
            impl.sweep([])
        assert gc.isenabled()
    finally:
        gc.enable()
