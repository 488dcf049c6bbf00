"""Submissions: loading element files, routing parameter overrides, errors, extra files."""

from __future__ import annotations

import os
import textwrap
import traceback
from pathlib import Path

import pytest

from rampconf.errors import ConfigError, SubmissionError
from rampconf.resources import packaged_submissions_dir
from rampconf.submission import (
    Submission,
    find_submission,
    list_submissions,
    route_params,
    signature_defaults,
    submission_traceback,
)

ESTIMATOR = """\
from sklearn.linear_model import LogisticRegression


def get_estimator(C=1.0, penalty="l2"):
    return LogisticRegression(C=C, penalty=penalty)
"""

FEATURE_EXTRACTOR = """\
class FeatureExtractor:
    def __init__(self, scale=1.0):
        self.scale = scale
"""

CLASSIFIER = """\
class Classifier:
    def __init__(self, scale=2.0, depth=3):
        self.scale = scale
        self.depth = depth
"""

PAIR = {"feature_extractor": "FeatureExtractor", "classifier": "Classifier"}


def write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, source in files.items():
        (folder / f"{stem}.py").write_text(textwrap.dedent(source))
    return folder


@pytest.fixture
def estimator_dir(tmp_path: Path) -> Path:
    return write(tmp_path / "my_estimator", estimator=ESTIMATOR)


@pytest.fixture
def pair_dir(tmp_path: Path) -> Path:
    return write(tmp_path / "my_pair", feature_extractor=FEATURE_EXTRACTOR, classifier=CLASSIFIER)


# --------------------------------------------------------------------------- routing


def test_route_params_to_the_only_element(estimator_dir):
    sub = Submission("s", estimator_dir, params={"C": 0.5})
    routed = route_params(sub, {"estimator": "get_estimator"})
    assert routed == {"estimator": {"C": 0.5}}
    model = sub.build("estimator", "get_estimator", routed)
    assert model.C == 0.5
    assert model.penalty == "l2"


def test_route_no_params(estimator_dir):
    sub = Submission("s", estimator_dir)
    assert route_params(sub, {"estimator": "get_estimator"}) == {"estimator": {}}
    assert sub.build("estimator", "get_estimator", {"estimator": {}}).C == 1.0


def test_route_unknown_param_lists_valid_and_closest(estimator_dir):
    sub = Submission("s", estimator_dir, params={"penalti": "l1"})
    with pytest.raises(ConfigError) as info:
        route_params(sub, {"estimator": "get_estimator"})
    message = str(info.value)
    assert message.startswith("submission.params.penalti: unknown parameter of my_estimator "
                              "(the submission's callables)")
    assert "did you mean 'penalty'?" in message
    assert message.endswith("valid parameters: C, penalty")


def test_route_unknown_param_without_close_match(estimator_dir):
    sub = Submission("s", estimator_dir, params={"n_estimators": 10})
    with pytest.raises(ConfigError) as info:
        route_params(sub, {"estimator": "get_estimator"})
    assert "did you mean" not in str(info.value)
    assert "valid parameters: C, penalty" in str(info.value)


def test_route_ambiguous_param_suggests_qualified_names(pair_dir):
    sub = Submission("s", pair_dir, params={"scale": 3})
    with pytest.raises(ConfigError) as info:
        route_params(sub, PAIR)
    message = str(info.value)
    assert message.startswith("submission.params.scale: ambiguous")
    assert "feature_extractor" in message and "classifier" in message
    assert "submission.params.classifier.scale" in message
    assert "submission.params.feature_extractor.scale" in message


def test_route_nested_params(pair_dir):
    sub = Submission("s", pair_dir, params={"classifier": {"scale": 3}, "depth": 5})
    routed = route_params(sub, PAIR)
    assert routed == {"feature_extractor": {}, "classifier": {"scale": 3, "depth": 5}}
    classifier = sub.build("classifier", "Classifier", routed)
    assert (classifier.scale, classifier.depth) == (3, 5)
    assert sub.build("feature_extractor", "FeatureExtractor", routed).scale == 1.0


def test_route_nested_unknown_param_lists_that_elements_parameters(pair_dir):
    sub = Submission("s", pair_dir, params={"classifier": {"dept": 5}})
    with pytest.raises(ConfigError) as info:
        route_params(sub, PAIR)
    message = str(info.value)
    assert message.startswith("submission.params.classifier.dept: unknown parameter of my_pair "
                              "(classifier.py)")
    assert "did you mean 'depth'?" in message
    assert message.endswith("valid parameters: depth, scale")


def test_signature_defaults_of_a_class_and_a_function():
    class Model:
        def __init__(self, a, b=1, *args, c="x", **kwargs):
            pass

    def make(x, y=2.5, *, z=None):
        pass

    assert signature_defaults(Model) == {"b": 1, "c": "x"}
    assert signature_defaults(make) == {"y": 2.5, "z": None}
    assert signature_defaults(lambda: None) == {}


def test_signature_defaults_of_a_class_without_init():
    class Bare:
        pass

    assert signature_defaults(Bare) == {}


# --------------------------------------------------------------------------- loading errors


def test_module_missing_file_names_path_and_files_present(estimator_dir):
    sub = Submission("s", estimator_dir)
    (estimator_dir / "helpers.py").write_text("X = 1\n")
    with pytest.raises(SubmissionError) as info:
        sub.module("classifier")
    message = str(info.value)
    assert message.startswith(f"{estimator_dir / 'classifier.py'}: missing workflow element "
                              "file 'classifier.py'")
    assert message.endswith("the submission has estimator.py, helpers.py")


def test_module_missing_file_in_empty_folder(tmp_path):
    with pytest.raises(SubmissionError, match=r"the submission has no \.py file$"):
        Submission("s", tmp_path).module("estimator")


def test_callable_missing_lists_what_the_file_defines(tmp_path):
    folder = write(tmp_path / "sub", estimator="""\
        import os
        from sklearn.linear_model import LogisticRegression

        LIMIT = 3


        def make_model(C=1.0):
            return LogisticRegression(C=C)


        class Helper:
            pass


        def _private():
            pass
        """)
    sub = Submission("s", folder)
    with pytest.raises(SubmissionError) as info:
        sub.callable("estimator", "get_estimator")
    message = str(info.value)
    assert message.startswith(f"{folder / 'estimator.py'}: missing 'get_estimator'")
    assert message.endswith("the file defines Helper, make_model")


def test_callable_that_is_not_callable(tmp_path):
    folder = write(tmp_path / "sub", estimator="get_estimator = 3\n")
    with pytest.raises(SubmissionError, match=r"the file defines nothing callable$"):
        Submission("s", folder).callable("estimator", "get_estimator")


def test_import_error_points_at_submission_file_and_line(tmp_path):
    folder = write(tmp_path / "sub", estimator="""\
        import math


        def helper():
            return math.sqrt(-1)


        VALUE = helper()
        """)
    sub = Submission("s", folder)
    with pytest.raises(SubmissionError) as info:
        sub.module("estimator")
    path = folder / "estimator.py"
    message = str(info.value)
    assert message.startswith(f"{path}: importing the submission failed: ValueError: ")
    lines = info.value.lines
    assert lines[0] == f"{path}:5 in helper: return math.sqrt(-1)"
    assert lines[1] == f"{path}:8 in <module>: VALUE = helper()"
    assert "ValueError: math domain error" in lines
    assert "full traceback:" in lines


def test_syntax_error_is_a_submission_error(tmp_path):
    folder = write(tmp_path / "sub", estimator="def get_estimator(:\n    pass\n")
    with pytest.raises(SubmissionError) as info:
        Submission("s", folder).module("estimator")
    assert "SyntaxError" in str(info.value)
    assert str(folder / "estimator.py") in str(info.value)


def test_failed_import_is_retried(tmp_path):
    folder = write(tmp_path / "sub", estimator="raise RuntimeError('not yet')\n")
    sub = Submission("s", folder)
    with pytest.raises(SubmissionError):
        sub.module("estimator")
    (folder / "estimator.py").write_text(ESTIMATOR)
    assert callable(sub.module("estimator").get_estimator)


def test_module_imported_once(estimator_dir):
    sub = Submission("s", estimator_dir)
    assert sub.module("estimator") is Submission("other", estimator_dir).module("estimator")
    assert sub.module("estimator").__file__ == str(estimator_dir / "estimator.py")


# --------------------------------------------------------------------------- extra files


def test_extra_files_beside_the_module_and_real_traceback(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "external_data.csv").write_text("a,b\n1,2\n")
    folder = write(tmp_path / "sub", estimator="""\
        import os

        HERE = os.path.dirname(__file__)
        with open(os.path.join(HERE, "external.csv")) as f:
            EXTERNAL = f.read()


        def get_estimator():
            raise RuntimeError("from the submission")
        """)
    sub = Submission("s", folder, extra_files={"external.csv": data / "external_data.csv"})
    module = sub.module("estimator")
    assert module.EXTERNAL == "a,b\n1,2\n"
    here = Path(module.HERE)
    assert (here / "external.csv").is_file()
    assert (here / "estimator.py").is_file()
    assert here != folder
    assert not (folder / "external.csv").exists()  # nothing written into the submission
    with pytest.raises(RuntimeError) as info:
        sub.callable("estimator", "get_estimator")()
    frames = traceback.extract_tb(info.value.__traceback__)
    assert frames[-1].filename == str(folder / "estimator.py")
    assert frames[-1].lineno == 9
    lines = submission_traceback(info.value, folder)
    assert lines[0] == (f"{folder / 'estimator.py'}:9 in get_estimator: "
                        "raise RuntimeError(\"from the submission\")")
    assert lines[1] == "RuntimeError: from the submission"


def test_submission_without_extra_files_sees_its_own_folder(estimator_dir):
    module = Submission("s", estimator_dir).module("estimator")
    assert os.path.dirname(module.__file__) == str(estimator_dir)


# --------------------------------------------------------------------------- finding


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_list_submissions_of_iris(in_tmp):
    names = list_submissions("iris")
    assert "starting_kit" in names
    assert names == sorted(names)


def test_list_submissions_includes_local_ones_first_searched(in_tmp):
    (in_tmp / "submissions" / "iris" / "mine").mkdir(parents=True)
    (in_tmp / "submissions" / "iris" / "_hidden").mkdir(parents=True)
    names = list_submissions("iris")
    assert "mine" in names and "starting_kit" in names
    assert "_hidden" not in names
    assert find_submission("iris", "mine") == (in_tmp / "submissions" / "iris" / "mine").resolve()


def test_list_submissions_of_every_problem(in_tmp):
    names = list_submissions()
    assert "starting_kit" in names
    assert "random_forest_10_10" in names


def test_list_submissions_of_unknown_problem(in_tmp):
    assert list_submissions("no_such_problem") == []


def test_find_packaged_submission(in_tmp):
    assert find_submission("iris", "starting_kit") == \
        (packaged_submissions_dir() / "iris" / "starting_kit").resolve()


def test_find_submission_unknown_lists_available_with_closest(in_tmp):
    with pytest.raises(ConfigError) as info:
        find_submission("iris", "startin_kit")
    message = str(info.value)
    assert message.startswith("submission: unknown submission option 'startin_kit' for problem "
                              "'iris'")
    assert "did you mean 'starting_kit'?" in message
    assert "valid names: " + ", ".join(list_submissions("iris")) in message
    assert str(in_tmp / "submissions" / "iris" / "startin_kit") in message


def test_find_submission_says_how_to_create_one(in_tmp):
    with pytest.raises(ConfigError) as info:
        find_submission("iris", "mine", elements={"classifier": "Classifier"})
    assert str(info.value).endswith(
        "a new submission is the folder ./submissions/iris/mine/ holding classifier.py defining "
        "Classifier, or a folder anywhere: submission=mine submission.path=DIR")


def test_problem_without_submissions_says_where_to_create_one(in_tmp):
    with pytest.raises(ConfigError) as info:
        find_submission("wine", "starting_kit",
                        elements={"feature_extractor": "FeatureExtractor",
                                  "classifier": "Classifier"})
    message = str(info.value)
    assert message.startswith("submission: problem 'wine' has no submission yet (looked in "
                              f"{in_tmp / 'submissions' / 'wine'}, ")
    assert "valid names" not in message
    assert message.endswith("create the folder ./submissions/wine/starting_kit/ holding "
                            "feature_extractor.py defining FeatureExtractor, classifier.py "
                            "defining Classifier, or a folder anywhere: submission=starting_kit "
                            "submission.path=DIR")


def test_find_submission_by_path(tmp_path, estimator_dir):
    assert find_submission("iris", "anything", path=str(estimator_dir)) == estimator_dir.resolve()
    with pytest.raises(ConfigError, match=r"^submission\.path: folder .* does not exist$"):
        find_submission("iris", "anything", path=str(tmp_path / "nope"))
