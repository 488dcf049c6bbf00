"""Drug spectra plugin: array-string columns, the combined prediction type, combined scores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rampconf_spectra.predictions import Combined
from rampconf_spectra.readers import TypedCSV
from rampconf_spectra.scores import CombinedScore, PartScore, split_part
from rampconf_spectra.workflows import DrugSpectra
from rampconf_tabular.arrays import parse_array_string, parse_array_strings

from rampconf.errors import ConfigError, DataError
from rampconf.plugin import make_plugin
from rampconf.predictions import BasePrediction
from rampconf.readers import BaseReader
from rampconf.scores import BaseScore

LABELS = ["A", "B", "Q", "R"]
PARTS = [{"type": "multiclass", "params": {"labels": LABELS}}, {"type": "regression"}]
WIDTHS = [4, 1]


def _prediction(y_train: np.ndarray | None = None) -> Combined:
    prediction = make_plugin("prediction", "combined", {"parts": PARTS}, "p", BasePrediction)
    assert isinstance(prediction, Combined)
    prediction.setup(np.array([["A", 1.0], ["B", 2.0]], dtype=object)
                     if y_train is None else y_train)
    return prediction


def _combined_score(weights=(2 / 3, 1 / 3), parts=("classification_error", "mare")) -> BaseScore:
    return make_plugin("score", "combined",
                       {"parts": [{"type": t} for t in parts], "weights": list(weights),
                        "widths": WIDTHS}, "s", BaseScore, name="combined", precision=3)


def _part(score: str, index: int, name: str) -> BaseScore:
    return make_plugin("score", "part", {"score": score, "index": index, "widths": WIDTHS},
                       "s", BaseScore, name=name, precision=3)


# --------------------------------------------------------------------------- array strings


def test_parse_array_string():
    np.testing.assert_array_equal(parse_array_string("[0.1, 0.2,3e-2]"), [0.1, 0.2, 0.03])
    np.testing.assert_array_equal(parse_array_string(" 1, 2 "), [1.0, 2.0])
    assert parse_array_string("[]").shape == (0,)
    assert parse_array_string("[0.0267]").dtype == np.float64


@pytest.mark.parametrize(("text", "message"), [
    ("[0.1, x]", "not a comma-separated list of numbers"),
    ("[0.1, 0.2", "unbalanced brackets"),
    (3.5, "expected an array written as a string"),
])
def test_parse_array_string_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_array_string(text)


def test_parse_array_strings_names_the_row_and_checks_lengths():
    with pytest.raises(ValueError, match="row 1: "):
        parse_array_strings(["[1, 2]", "[1, a]"])
    with pytest.raises(ValueError, match="row 0 has 2 values, row 2 has 3"):
        parse_array_strings(["[1, 2]", "[3, 4]", "[1, 2, 3]"])
    assert [len(a) for a in parse_array_strings(["[1]", "[1, 2]"], same_length=False)] == [1, 2]


def _reader(tmp_path, **extra) -> BaseReader:
    params = {"train": "train.csv", "test": "test.csv", "target": ["molecule", "concentration"],
              "array_columns": ["spectra"], **extra}
    return make_plugin("reader", "typed_csv", params, "problem.data", BaseReader,
                       data_root=tmp_path)


def test_typed_csv_parses_array_columns(tmp_path):
    frame = pd.DataFrame({"spectra": ["[1.5, 2.0, 3.0]", "[0.0, -1.0, 2e3]"],
                          "molecule": ["A", "B"], "concentration": [10.0, 20.5], "vial": [1, 2]})
    frame.to_csv(tmp_path / "train.csv", index=False)
    data = _reader(tmp_path).load("train")
    assert list(data.X.columns) == ["spectra", "vial"]
    assert data.y.shape == (2, 2) and data.y[1, 0] == "B" and data.y[1, 1] == 20.5
    np.testing.assert_array_equal(np.stack(data.X["spectra"]), [[1.5, 2.0, 3.0], [0.0, -1.0, 2e3]])
    # Rows of the features are taken with iloc: the arrays follow.
    np.testing.assert_array_equal(data.X.iloc[[1]]["spectra"].iloc[0], [0.0, -1.0, 2e3])


def test_typed_csv_errors_name_file_column_and_row(tmp_path):
    pd.DataFrame({"spectra": ["[1, 2]", "[1, oops]"], "molecule": ["A", "B"],
                  "concentration": [1.0, 2.0]}).to_csv(tmp_path / "train.csv", index=False)
    with pytest.raises(DataError, match=r"column 'spectra': row 1: not a comma-separated"):
        _reader(tmp_path).load("train")
    with pytest.raises(DataError, match="array column 'spectrum'"):
        _reader(tmp_path, array_columns=["spectrum"]).load("train")


def test_typed_csv_reads_the_drug_spectra_kit(kits):
    reader = make_plugin("reader", "typed_csv", {
        "train": "drug_spectra/train_mini.csv.bz2", "test": "drug_spectra/test_mini.csv.bz2",
        "target": ["molecule", "concentration"], "array_columns": ["spectra"]},
        "problem.data", BaseReader, data_root=kits)
    assert isinstance(reader, TypedCSV)
    train, test = reader.load("train"), reader.load("test")
    assert (len(train), len(test)) == (100, 50)
    spectra = np.stack(train.X["spectra"])
    assert spectra.ndim == 2 and spectra.dtype == np.float64 and np.isfinite(spectra).all()
    assert sorted(set(train.y[:, 0])) == LABELS


# --------------------------------------------------------------------------- prediction type


def test_combined_prediction_layout_and_encoding():
    prediction = _prediction()
    assert prediction.widths() == WIDTHS and prediction.labels == LABELS
    y = np.array([["Q", 3.5], ["A", 1.0]], dtype=object)
    np.testing.assert_array_equal(prediction.encode_y(y), [[2.0, 3.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"targets of shape \(n_samples, 2\)"):
        prediction.encode_y(np.array(["A", "B"]))
    with pytest.raises(ValueError, match="not among the problem's labels"):
        prediction.encode_y(np.array([["Z", 1.0]], dtype=object))


def test_combined_prediction_checks_each_part():
    prediction = _prediction()
    y_true = prediction.encode_y(np.array([["Q", 3.5], ["A", 1.0]], dtype=object))
    good = [[0.1, 0.2, 0.6, 0.1, 3.0], [1.0, 0.0, 0.0, 0.0, 1.5]]
    checked = prediction.check_y_pred(good, y_true)
    assert checked.shape == (2, 5) and checked.dtype == np.float64
    with pytest.raises(ValueError, match=r"shape \(2, 5\) \(columns 4 \(multiclass\) \+ 1 "
                                         r"\(regression\)\), got shape \(2, 4\)"):
        prediction.check_y_pred(np.zeros((2, 4)), y_true)
    bad = np.array(good)
    bad[1, 4] = np.nan
    with pytest.raises(ValueError, match=r"part 1 \(regression\): NaN or infinite"):
        prediction.check_y_pred(bad, y_true)
    bad = np.array(good)
    bad[0, 1] = np.inf
    with pytest.raises(ValueError, match=r"part 0 \(multiclass\)"):
        prediction.check_y_pred(bad, y_true)


def test_combined_prediction_bags_each_part():
    prediction = _prediction()
    a = prediction.empty(3, np.zeros((1, 5)))
    assert a.shape == (3, 5) and not prediction.has_prediction(a).any()
    b = a.copy()
    a[[0, 1]] = [[1.0, 0.0, 0.0, 0.0, 10.0], [0.0, 1.0, 0.0, 0.0, 20.0]]
    b[[1, 2]] = [[0.0, 0.0, 1.0, 0.0, 40.0], [0.0, 0.0, 0.0, 1.0, 5.0]]
    np.testing.assert_array_equal(prediction.has_prediction(a), [True, True, False])
    bagged = prediction.combine([a, b])
    # the class part is bagged as multiclass (probabilities clipped to 1e-15 first)
    np.testing.assert_allclose(bagged, [[1.0, 0.0, 0.0, 0.0, 10.0],
                                        [0.0, 0.5, 0.5, 0.0, 30.0],
                                        [0.0, 0.0, 0.0, 1.0, 5.0]], rtol=0, atol=4e-15)
    assert bagged[0, 1] == pytest.approx(1e-15, rel=1e-13)
    assert prediction.has_prediction(bagged).all()
    columns = prediction.to_columns(bagged)
    assert list(columns) == ["proba_A", "proba_B", "proba_Q", "proba_R", "y_pred"]
    np.testing.assert_array_equal(columns["y_pred"], [10.0, 30.0, 5.0])


def test_combined_prediction_config_errors():
    with pytest.raises(ConfigError) as info:
        make_plugin("prediction", "combined",
                    {"parts": [{"type": "multiclas"}, {"type": "combined"}]}, "p",
                    BasePrediction)
    text = "\n".join(info.value.lines)
    assert "multiclas" in text and "did you mean 'multiclass'" in text
    assert "a combined prediction cannot be a part" in text
    with pytest.raises(ConfigError, match="labels"):
        make_plugin("prediction", "combined",
                    {"parts": [{"type": "multiclass", "params": {"labels": ["A"]}}]}, "p",
                    BasePrediction)


# --------------------------------------------------------------------------- scores


@pytest.fixture(scope="module")
def combined_case(kits) -> dict:
    cases = json.loads((kits / "reference" / "score_vectors.json").read_text())["cases"]
    return next(c for c in cases if c["kind"] == "combined")


def test_combined_scores_match_ramp_workflow(combined_case):
    case = combined_case
    prediction = make_plugin("prediction", "combined", {"parts": [
        {"type": "multiclass", "params": {"labels": case["labels"]}}, {"type": "regression"}]},
        "p", BasePrediction)
    y = np.array(case["y_true"], dtype=object)
    prediction.setup(y)
    y_true = prediction.encode_y(y)
    y_pred = prediction.check_y_pred(case["y_pred"], y_true)
    scores = [_combined_score(weights=case["weights"]), _part("classification_error", 0, "err"),
              _part("mare", 1, "mare")]
    assert set(case["expected"]) == {s.name for s in scores}
    for score in scores:
        assert score(y_true, y_pred) == pytest.approx(case["expected"][score.name], abs=1e-9)


def test_combined_score_is_the_weighted_sum_of_part_scores(combined_case):
    rng = np.random.default_rng(0)
    y_true = np.column_stack([rng.integers(0, 4, 30), rng.uniform(1, 5, 30)])
    y_pred = np.column_stack([rng.dirichlet(np.ones(4), 30), rng.uniform(1, 5, 30)])
    combined = _combined_score(weights=(0.25, 2.0))
    err, mare = _part("classification_error", 0, "err"), _part("mare", 1, "mare")
    assert combined(y_true, y_pred) == pytest.approx(
        0.25 * err(y_true, y_pred) + 2.0 * mare(y_true, y_pred), abs=1e-12)


def test_directions_and_bounds():
    combined = _combined_score()
    assert isinstance(combined, CombinedScore)
    assert combined.greater_is_better is False
    assert combined.minimum == 0.0 and combined.maximum == np.inf
    higher = _combined_score(parts=("accuracy", "accuracy"), weights=(0.5, 0.5))
    assert higher.greater_is_better is True and higher.maximum == pytest.approx(1.0)
    # The class default is untouched: directions are per instance.
    assert CombinedScore.greater_is_better is False
    acc = _part("accuracy", 0, "acc")
    assert isinstance(acc, PartScore) and acc.greater_is_better is True
    assert (acc.minimum, acc.maximum) == (0.0, 1.0)
    with pytest.raises(ConfigError, match="cannot combine scores of opposite directions"):
        _combined_score(parts=("accuracy", "mare"))


def test_score_config_errors():
    with pytest.raises(ConfigError, match="one entry per part"):
        make_plugin("score", "combined", {"parts": [{"type": "mare"}], "weights": [1, 2],
                                          "widths": [1]}, "s", BaseScore)
    with pytest.raises(ConfigError, match="index 2 is out of range"):
        make_plugin("score", "part", {"score": "mare", "index": 2, "widths": WIDTHS}, "s",
                    BaseScore)
    with pytest.raises(ConfigError, match="did you mean 'mare'"):
        make_plugin("score", "part", {"score": "maree", "index": 1, "widths": WIDTHS}, "s",
                    BaseScore)
    with pytest.raises(ConfigError, match="cannot be a part"):
        make_plugin("score", "part", {"score": "combined", "index": 1, "widths": WIDTHS}, "s",
                    BaseScore)


def test_split_part_layout_errors():
    y_true, y_pred = np.zeros((3, 2)), np.zeros((3, 5))
    t, p = split_part(y_true, y_pred, WIDTHS, 0)
    assert t.dtype.kind == "i" and p.shape == (3, 4)
    t, p = split_part(y_true, y_pred, WIDTHS, 1)
    assert t.shape == p.shape == (3,)
    with pytest.raises(ValueError, match="must have 5 columns"):
        split_part(y_true, np.zeros((3, 4)), WIDTHS, 0)
    with pytest.raises(ValueError, match="one column per part"):
        split_part(np.zeros(3), y_pred, WIDTHS, 0)


# --------------------------------------------------------------------------- workflow


def test_workflow_needs_a_combined_prediction():
    prediction = make_plugin("prediction", "regression", {}, "p", BasePrediction)
    with pytest.raises(TypeError, match="multiclass then regression"):
        DrugSpectra().predict((None, None, None, None), pd.DataFrame(), prediction)
    assert list(DrugSpectra.elements) == ["feature_extractor_clf", "classifier",
                                          "feature_extractor_reg", "regressor"]
