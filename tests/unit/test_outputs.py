"""Atomic writes: the one helper every run directory and data set file goes through."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rampconf.outputs import atomic_path, write_atomic


@pytest.fixture
def umask(request):
    """Set the process umask for one test (restored afterwards)."""
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002], indirect=True,
                         ids=["022", "027", "002"])
def test_written_files_get_the_umask_permissions_not_0600(tmp_path, umask):
    path = tmp_path / "sub" / "summary.json"
    write_atomic(path, "{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    with atomic_path(tmp_path / "streamed.csv") as tmp:
        tmp.write_text("a\n1\n")
    assert stat.S_IMODE((tmp_path / "streamed.csv").stat().st_mode) == 0o666 & ~umask


def test_write_atomic_replaces_text_and_bytes(tmp_path):
    path = tmp_path / "file"
    write_atomic(path, "first")
    write_atomic(path, b"\x00second")
    assert path.read_bytes() == b"\x00second"
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(path) as tmp:
        assert tmp.parent == tmp_path and tmp.name != path.name and tmp.exists()
        tmp.write_text("half a fi")
        raise RuntimeError("disk full")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["labels.csv"]


def test_atomic_path_renames_only_at_the_end(tmp_path):
    path = tmp_path / "data.npy"
    with atomic_path(path) as tmp:
        tmp.write_bytes(b"abc")
        assert not path.exists()  # a reader never sees a part
    assert path.read_bytes() == b"abc"
    assert not tmp.exists()


def test_csv_text_writes_what_pandas_writes_for_the_run_tables():
    import numpy as np
    import pandas as pd

    from rampconf.outputs import FOLD_COLUMNS, csv_text

    folds = [
        {"fold": 1, "status": "failed", "seed": np.uint32(4294967295), "n_train": 7,
         "n_valid": 3, "train_time": None, "valid_time": None, "test_time": None,
         "error": 'ValueError: bad, "quoted"\nsecond line', "indices_sha256": "ab" * 32},
        {"fold": 0, "status": "ok", "seed": 12, "n_train": np.int64(8), "n_valid": 2,
         "train_time": 0.1 + 0.2, "valid_time": 1e-05, "test_time": 3.0, "error": "",
         "indices_sha256": "cd" * 32},
    ]
    scores = [{"fold": f, "step": step, "score": name, "value": value}
              for f in (1, 0) for step in ("train", "valid")
              for name, value in (("acc", 2 / 3), ("nll", float("nan")), ("n", np.float64(1)),
                                  ("inf", float("inf")))]
    expected_folds = pd.DataFrame(folds).sort_values("fold").to_csv(
        index=False, float_format="%.17g", na_rep="")
    expected_scores = pd.DataFrame(scores).to_csv(index=False, float_format="%.17g",
                                                  na_rep="NaN")
    assert csv_text(FOLD_COLUMNS, sorted(folds, key=lambda r: r["fold"])) == expected_folds
    assert csv_text(["fold", "step", "score", "value"], scores, na_rep="NaN") == expected_scores
    bagged = [{"n_folds": k, "step": step, "score": name, "value": value}
              for k in (1, 2) for step in ("valid", "test")
              for name, value in (("acc", np.float64(0.1) * 3), ("auc", float("nan")),
                                  ("n", 1), ("inf", -float("inf")))]
    columns = ["n_folds", "step", "score", "value"]
    assert csv_text(columns, bagged, na_rep="NaN") == pd.DataFrame(bagged, columns=columns).to_csv(
        index=False, float_format="%.17g", na_rep="NaN")  # bagged_scores.csv
    only_failed = [dict(folds[0], fold=2)]
    assert csv_text(FOLD_COLUMNS, only_failed) == pd.DataFrame(only_failed).to_csv(
        index=False, float_format="%.17g", na_rep="")


def test_a_data_file_hash_is_kept_only_once_the_file_has_settled(tmp_path, monkeypatch):
    """A file rewritten in place within its time's clock tick, same size, keeps its stat key."""
    import hashlib
    import os

    from rampconf import provenance

    monkeypatch.setattr(provenance, "_hashes", {})
    path = tmp_path / "train.csv"
    path.write_text("a,y\n1,0\n")
    stat = os.stat(path)
    assert provenance.file_sha256(path) == hashlib.sha256(b"a,y\n1,0\n").hexdigest()
    path.write_text("a,y\n2,1\n")  # in place, same size, same times as the kernel keeps them
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert provenance.file_sha256(path) == hashlib.sha256(b"a,y\n2,1\n").hexdigest()
    assert not provenance._hashes  # changed moments ago: not kept
    monkeypatch.setattr(provenance, "SETTLED_NS", -1)  # as if it had not changed for long
    provenance.file_sha256(path)
    assert list(provenance._hashes.values()) == [hashlib.sha256(b"a,y\n2,1\n").hexdigest()]


PROBLEMS = sorted(p.stem for p in (Path(__file__).parents[2] / "conf" / "problem").glob("*.yaml"))


@pytest.mark.parametrize("problem", PROBLEMS)
def test_config_yaml_is_the_text_of_yaml_safe_dump(tmp_path, problem):
    """libyaml's emitter writes config.yaml; the text must be the pure-Python emitter's."""
    import yaml

    import rampconf
    from rampconf.outputs import RunWriter, _jsonable
    from rampconf.schema import validate_config

    raw = rampconf.compose([f"problem={problem}"])
    raw.pop("hydra_run_dir")
    config = validate_config(raw).model_dump(mode="json")
    # awkward text a config may hold: quotes, colons, unicode, long and multi-line strings
    config["notes"] = ["it's: \"quoted\" # not a comment", "Ångström µm — ✓", "x" * 200,
                       "first line\nsecond line\n", "", "null", "1e-3", " leading space",
                       {"nested": [1.5e-300, float("inf"), None, True, "yes"]}]
    RunWriter(tmp_path).write_config(config)
    assert (tmp_path / "config.yaml").read_text(encoding="utf-8") == yaml.safe_dump(
        _jsonable(config), sort_keys=False, allow_unicode=True)
