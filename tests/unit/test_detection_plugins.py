"""The detection domain's reader, prediction type and workflow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rampconf_detection.predictions import Detection

from rampconf.errors import DataError
from rampconf.plugin import make_plugin
from rampconf.readers import BaseReader, take_rows

MARS = {
    "train_images": "mars_craters/data_train_mini.npy",
    "train_labels": "mars_craters/labels_train_mini.csv",
    "test_images": "mars_craters/data_test_mini.npy",
    "test_labels": "mars_craters/labels_test_mini.csv",
}


@pytest.fixture
def reader(kits: Path) -> BaseReader:
    return make_plugin("reader", "npy_images", MARS, "problem.data", BaseReader, data_root=kits)


def test_reader_memory_maps_images_and_groups_labels_by_image(reader, kits):
    train = reader.load("train")
    assert isinstance(train.X, np.memmap) and train.X.shape == (30, 224, 224)
    assert train.X.dtype == np.uint8
    labels = pd.read_csv(kits / MARS["train_labels"])
    assert len(train.y) == 30
    assert [len(y) for y in train.y] == [int((labels["i"] == i).sum()) for i in range(30)]
    first = labels[labels["i"] == labels["i"].iloc[0]][["row_p", "col_p", "radius_p"]]
    np.testing.assert_array_equal(train.y[labels["i"].iloc[0]], first.to_numpy(float))


def test_contiguous_rows_of_a_memory_map_are_a_view(reader):
    images = reader.load("train").X
    view = take_rows(images, np.arange(10, 20))
    assert np.shares_memory(view, images) and view.shape == (10, 224, 224)
    staged = take_rows(images, np.r_[0:5, 20:25])
    # Rows from two blocks are staged in a temporary memory-mapped file, not in memory.
    assert isinstance(staged, np.memmap) and not np.shares_memory(staged, images)
    assert staged.shape == (10, 224, 224) and not Path(staged.filename).exists()
    np.testing.assert_array_equal(staged[:5], images[:5])
    np.testing.assert_array_equal(staged[5:], images[20:25])
    shuffled = take_rows(images, np.array([7, 3, 3]))
    np.testing.assert_array_equal(shuffled, images[[7, 3, 3]])


def test_labels_with_image_index_out_of_range_are_rejected(tmp_path, kits):
    folder = tmp_path / "mars_craters"
    folder.mkdir()
    images = np.zeros((2, 8, 8), dtype=np.uint8)
    for split in ("train", "test"):
        np.save(folder / f"data_{split}_mini.npy", images)
        (folder / f"labels_{split}_mini.csv").write_text("i,row_p,col_p,radius_p\n5,1,1,1\n")
    bad = make_plugin("reader", "npy_images", MARS, "problem.data", BaseReader,
                      data_root=tmp_path)
    with pytest.raises(DataError, match=r"image indices in 0\.\.1, got 5\.\.5"):
        bad.load("train")


def test_missing_files_are_listed(tmp_path):
    reader = make_plugin("reader", "npy_images", MARS, "problem.data", BaseReader,
                         data_root=tmp_path)
    with pytest.raises(DataError, match=r"train_images: .*data_train_mini\.npy"):
        reader.check_files()


@pytest.mark.parametrize(
    ("y_pred", "message"),
    [
        ([[(0.9, 10, 10, 5)]], "expected one list of (confidence, row, col, radius) tuples "
                               "per image for 2 images, got 1 lists"),
        ([[(0.9, 10, 10, 5)], [(0.9, 10, 10)]],
         "image 1: expected a list of (confidence, row, col, radius) tuples, got 1 item(s) "
         "like (0.9, 10, 10)"),
        ([[], [(0.5, np.nan, 1, 1)]], "image 1: a detection holds NaN"),
        ([[], "abc"], "image 1: expected a list of (confidence, row, col, radius) tuples"),
        (7, "expected one list of (confidence, row, col, radius) tuples per image, got int"),
    ],
    ids=["too-few-images", "three-numbers", "nan", "string", "not-a-sequence"],
)
def test_bad_detections_name_the_image_and_the_expected_tuple(y_pred, message):
    y_true = np.empty(2, dtype=object)
    with pytest.raises(ValueError) as info:
        Detection().check_y_pred(y_pred, y_true)
    assert message in str(info.value)


def test_detections_are_checked_packed_and_marked():
    detection = Detection()
    y_pred = detection.check_y_pred([[(0.9, 10, 12, 5), (0.2, 1, 2, 3)], []],
                                    np.empty(2, dtype=object))
    assert y_pred[0].shape == (2, 4) and y_pred[1].shape == (0, 4)
    partial = detection.empty(3, like=y_pred)
    partial[[0, 2]] = y_pred
    np.testing.assert_array_equal(detection.has_prediction(partial), [True, False, True])
    packed = detection.pack(partial)
    np.testing.assert_array_equal(packed["predicted"], [True, False, True])
    np.testing.assert_array_equal(packed["circles"],
                                  [[0, 0.9, 10, 12, 5], [0, 0.2, 1, 2, 3]])


def test_pictures_leave_the_callers_matplotlib_backend_alone(tmp_path):
    """Drawn on Figure objects: a notebook's backend is not switched and pyplot not imported."""
    import subprocess
    import sys

    code = f"""
import sys
import matplotlib
import numpy as np
from pathlib import Path
from rampconf_detection.predictions import Detection

matplotlib.use("svg")
X = np.zeros((3, 32, 32), dtype=np.uint8)
y_true = np.empty(3, dtype=object)
y_pred = np.empty(3, dtype=object)
for i in range(3):
    y_true[i] = np.array([[10.0, 12.0, 4.0]])
    y_pred[i] = np.array([[0.9, 11.0, 12.0, 4.0], [0.2, 20.0, 20.0, 3.0]])
paths = Detection().save_figures(Path({str(tmp_path)!r}) / "figures", X, y_true, y_pred,
                                 np.array([0, 2]), fold=1)
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
print(*[p.name for p in paths])
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    backend, names = proc.stdout.splitlines()
    assert backend == "svg False"
    assert names == "fold_1_image_0.png fold_1_image_2.png"
    for name in names.split():
        assert (tmp_path / "figures" / name).read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == names.split()
