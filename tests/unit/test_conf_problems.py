"""Problems composed from others with Hydra's own means mean what they meant when copied out.

``titanic_old`` is titanic with another name, title and workflow (the defaults
list composes it from ``titanic``); ``mars_craters`` states its scoring window
once and the other scores interpolate it. The expected values are the
composed problems of the version in which both were written out in full, but
with the parameters left to the run's ``compat`` option (``iou_formula``,
``ties``, ``ramp_bin_centres``) null.
"""

from __future__ import annotations

import pytest

import rampconf

WINDOW = [28, 196, 28, 196]
#: problem.scores of mars_craters as written out in full (one minipatch per score).
MARS_SCORES = {
    "ap": {"type": "average_precision", "name": "ap", "precision": 3, "iou_threshold": 0.5,
           "iou_formula": None},
    "ospa": {"type": "ospa", "name": "ospa", "precision": 3, "conf_threshold": 0.5,
             "minipatch": WINDOW, "iou_formula": None, "ties": None},
    "scp": {"type": "scp", "name": "scp", "precision": 3, "conf_threshold": 0.5,
            "minipatch": WINDOW, "shape": [224, 224]},
    **{f"{kind}_{tag}": {"type": f"detection_{long}", "name": f"{kind}({iou:g})", "precision": 3,
                         "conf_threshold": 0.5, "minipatch": WINDOW, "iou_threshold": iou,
                         "iou_formula": None, "ties": None}
       for kind, long in (("prec", "precision"), ("rec", "recall"))
       for tag, iou in (("0", 0.0), ("5", 0.5), ("9", 0.9))},
    **{name: {"type": type_, "name": name, "precision": 3, "conf_threshold": 0.5,
              "minipatch": WINDOW, "iou_threshold": 0.5, "iou_formula": None, "ties": None}
       for name, type_ in (("madc", "mad_center"), ("madr", "mad_radius"))},
}


def _problem(*overrides: str) -> dict:
    return rampconf.compose(list(overrides))["problem"]


def test_titanic_old_is_titanic_with_its_own_name_title_and_workflow():
    old, titanic = _problem("problem=titanic_old"), _problem("problem=titanic")
    assert {k: old[k] for k in ("name", "title", "workflow")} == {
        "name": "titanic_old", "title": "Titanic survival (feature extractor + classifier)",
        "workflow": "feature_extractor_classifier"}
    assert {k: v for k, v in old.items() if k not in ("name", "title", "workflow")} == \
        {k: v for k, v in titanic.items() if k not in ("name", "title", "workflow")}
    assert list(old) == list(titanic)  # same keys, same order
    assert list(old["scores"]) == ["auc", "acc", "nll", "error", "f1_70", "BSS", "BS",
                                   "bs_rel", "bs_res", "ngini", "bac", "mar"]
    assert old["cv"] == {"type": "stratified_shuffle_split", "n_splits": 8, "test_size": 0.2,
                         "train_size": None, "random_state": 57}
    assert old["scores"]["bs_rel"] == {"type": "brier_score_reliability", "name": "BS Rel",
                                       "precision": 5, "bins": None, "ramp_bin_centres": None}


@pytest.mark.parametrize("problem", ["mars_craters", "mars_craters_full"])
def test_mars_scores_are_those_written_out_in_full(problem):
    scores = _problem(f"problem={problem}")["scores"]
    assert list(scores) == list(MARS_SCORES)
    assert scores == MARS_SCORES


def test_mars_window_is_stated_once_and_each_score_may_still_set_its_own():
    scores = _problem("problem=mars_craters", "problem.scores.ospa.minipatch=[0,224,0,224]",
                      "problem.scores.scp.minipatch=[1,2,3,4]")["scores"]
    windows = {name: score.get("minipatch") for name, score in scores.items()}
    assert windows.pop("ap") is None
    assert windows.pop("scp") == [1, 2, 3, 4]
    assert set(map(tuple, windows.values())) == {(0, 224, 0, 224)}
