"""The compat option: one switch for every ramp-workflow-compatible behaviour, declared by plugins.

The list of behaviours is derived from the registry (every plugin parameter
that declares a default under ``compat=ramp``), so a plugin that declares one
is checked the day it is registered: its conf options must leave it unset,
the table of docs/ramp-workflow.md must list it, and a run under the switch must use it.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import Field

import rampconf
from rampconf import registry
from rampconf.compat import COMPAT_MODES, compat_default, compat_defaults, compat_mode
from rampconf.describe import describe
from rampconf.plugin import StrictModel, make_plugin
from rampconf.predictions import BasePrediction
from rampconf.resources import packaged_conf_dir
from rampconf.runner import prepare
from rampconf.schema import RunConfig, validate_config
from rampconf.scores import BaseScore

CONF = packaged_conf_dir()
#: The documentation page with the table of what compat=ramp changes.
README = Path(__file__).resolve().parents[2] / "docs" / "ramp-workflow.md"
PARAM_KINDS = ("reader", "prediction", "score", "cv", "workflow")

#: Every (kind, plugin, parameter) whose default differs under compat=ramp, with that default.
COMPAT_PARAMS = {
    (kind, name, param): value
    for kind in PARAM_KINDS for name in registry.available(kind)
    for param, value in compat_defaults(registry.get(kind, name).Params, "ramp").items()
}

#: What the switch covers (the table of docs/ramp-workflow.md lists the same parameters).
EXPECTED = {
    ("prediction", "detection", "iou_formula"): "ramp",
    ("prediction", "detection", "unpredicted"): "no_detections",
    ("prediction", "clustering", "bagging"): "mean",
    ("score", "average_precision", "iou_formula"): "ramp",
    **{("score", name, param): "ramp"
       for name in ("ospa", "detection_precision", "detection_recall", "mad_center",
                    "mad_radius")
       for param in ("iou_formula", "ties")},
    ("score", "brier_score_reliability", "ramp_bin_centres"): True,
    ("workflow", "ts_feature_extractor_regressor", "fold_time"): "ramp",
}


def test_the_switch_covers_these_behaviours():
    assert COMPAT_PARAMS == EXPECTED


def test_the_schema_accepts_exactly_the_declared_modes():
    annotation = RunConfig.model_fields["compat"].annotation
    literal = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
    assert typing.get_args(literal) == COMPAT_MODES


def test_compat_default_refuses_an_unknown_mode():
    with pytest.raises(TypeError, match=r"unknown compatibility mode\(s\) \['rampp'\]"):
        compat_default(rampp=1)


@pytest.fixture
def runtime_registry(monkeypatch):
    monkeypatch.setattr(registry, "_runtime", {kind: {} for kind in registry.KINDS})


def test_a_plugin_declares_its_own_compat_default(runtime_registry):
    class Params(StrictModel):
        formula: str = Field("ours", description="d",
                             json_schema_extra=compat_default(ramp="theirs"))

    @registry.register("score", "declares")
    class Declares(BaseScore[Params]):
        """A score with a compat default."""

        def score(self, y_true, y_pred):
            return 0.0

    def built(raw, mode):
        with compat_mode(mode):
            return make_plugin("score", "declares", raw, "problem.scores.d", BaseScore).params

    assert built({}, None).formula == "ours"
    assert built({}, "ramp").formula == "theirs"
    assert built({"formula": "mine"}, "ramp").formula == "mine"  # explicit wins
    assert built({}, None) == Params()  # and the mode does not outlive its block


def test_plugins_built_by_plugins_take_the_mode():
    parts = [{"type": "brier_score_reliability"}]
    with compat_mode("ramp"):
        combined = make_plugin("score", "combined", {"parts": parts, "weights": [1.0],
                                                     "widths": [2]}, "s", BaseScore)
    assert combined.scores[0].params.ramp_bin_centres is True


def _set(spec: Any, kind: str, name: str) -> dict[str, Any]:
    """The parameters of ``spec`` left to the switch that it sets to something else than null."""
    compat = {param for (k, n, param) in COMPAT_PARAMS if (k, n) == (kind, name)}
    return {key: value for key, value in (spec.items() if isinstance(spec, dict) else ())
            if key in compat and value is not None}


@pytest.mark.parametrize("group", ["score", "workflow"])
def test_no_conf_option_sets_a_parameter_left_to_the_switch(group):
    for path in sorted((CONF / group).glob("*.yaml")):
        option = yaml.safe_load(path.read_text())
        assert not _set(option, group, option["type"]), path.name
        # listed as null, so that the command line can set it without '+'
        for (kind, name, param) in COMPAT_PARAMS:
            if (kind, name) == (group, option["type"]):
                assert param in option and option[param] is None, (path.name, param)


@pytest.mark.parametrize("problem", sorted(p.stem for p in (CONF / "problem").glob("*.yaml")))
def test_no_problem_sets_a_parameter_left_to_the_switch(problem):
    composed = rampconf.compose([f"problem={problem}"])["problem"]
    parts = [("prediction", composed["prediction"]["type"], composed["prediction"]),
             ("workflow", composed["workflow"] if isinstance(composed["workflow"], str)
              else composed["workflow"]["type"], composed["workflow"]),
             *[("score", spec["type"], spec) for spec in composed["scores"].values()]]
    for kind, name, spec in parts:
        assert not _set(spec, kind, name), (problem, kind, name)


def test_readme_table_lists_every_behaviour_of_the_switch():
    text = README.read_text()
    table = text[text.index("## RAMP compatibility"):]
    table = table[:table.index("\n## ")]
    for (kind, name, param), value in COMPAT_PARAMS.items():
        shown = str(value).lower() if isinstance(value, bool) else value
        assert f"`{param}: {shown}`" in table, (kind, name, param)
        assert f"`{name}`" in table, name


def _plan(*overrides: str) -> Any:
    raw = rampconf.compose(list(overrides))
    raw.pop("hydra_run_dir")
    return prepare(validate_config(raw))


def test_a_run_under_the_switch_builds_every_plugin_in_ramp_mode(kits):
    plan = _plan("problem=mars_craters", f"data_root={kits}", "compat=ramp",
                 "problem.scores.madr.iou_formula=exact")  # an explicit value still wins
    assert plan.prediction.params.iou_formula == "ramp"
    assert plan.prediction.params.unpredicted == "no_detections"
    formulas = {score.name: score.params.iou_formula for score in plan.scores
                if "iou_formula" in type(score).Params.model_fields}
    assert formulas == {"ap": "ramp", "ospa": "ramp", "prec(0)": "ramp", "prec(0.5)": "ramp",
                        "prec(0.9)": "ramp", "rec(0)": "ramp", "rec(0.5)": "ramp",
                        "rec(0.9)": "ramp", "madc": "ramp", "madr": "exact"}
    default = _plan("problem=mars_craters", f"data_root={kits}")
    assert default.prediction.params.iou_formula == "exact"
    assert {score.params.ties for score in default.scores
            if "ties" in type(score).Params.model_fields} == {"grouped"}


def test_a_run_under_the_switch_uses_ramp_brier_bins_and_fold_months(kits):
    titanic = _plan("problem=titanic", f"data_root={kits}", "compat=ramp")
    reliability = next(s for s in titanic.scores if s.name == "BS Rel")
    assert reliability.params.ramp_bin_centres is True
    el_nino = _plan("problem=el_nino", f"data_root={kits}", "compat=ramp")
    assert el_nino.workflow.params.fold_time == "ramp"
    assert _plan("problem=el_nino", f"data_root={kits}").workflow.params.fold_time == "exact"
    assert _plan("problem=el_nino", f"data_root={kits}", "compat=ramp",
                 "problem.workflow.fold_time=exact").workflow.params.fold_time == "exact"
    hep = _plan("problem=hep_tracking", f"data_root={kits}", "compat=ramp")
    assert hep.prediction.params.bagging == "mean"


def test_an_unknown_mode_is_a_config_error():
    raw = rampconf.compose(["compat=rampworkflow"])
    raw.pop("hydra_run_dir")
    with pytest.raises(rampconf.ConfigError, match=r"^compat: input should be 'ramp'"):
        validate_config(raw)


def test_describe_shows_the_default_under_the_switch():
    assert "  iou_formula: 'exact' | 'ramp', default exact (compat=ramp: ramp)" in \
        describe("score", "ospa").splitlines()
    assert "  fold_time: 'ramp' | 'exact', default exact (compat=ramp: ramp)" in \
        describe("workflow", "ts_feature_extractor_regressor").splitlines()


def test_prediction_parts_are_checked_too():
    with compat_mode("ramp"):
        prediction = make_plugin("prediction", "clustering", {}, "p", BasePrediction)
    assert prediction.params.bagging == "mean"
