"""Image classification plugins: lazy image collections, batches, the reader, the generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from rampconf_images import readers as image_readers
from rampconf_images.data import DigitsImages, digit_image
from rampconf_images.readers import ImageCollection, ImageFolder
from rampconf_images.workflows import ImageBatches

from rampconf import registry
from rampconf.errors import DataError
from rampconf.readers import take_rows


def _write_images(folder: Path, n: int, size: int = 6) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for k in range(n):
        name = f"{k:03d}.png"
        Image.fromarray(np.full((size, size), k, dtype=np.uint8)).save(folder / name)
        names.append(name)
    return names


def _reader(root: Path, n_train: int = 10, n_test: int = 3, **params) -> ImageFolder:
    for split, n in (("train", n_train), ("test", n_test)):
        names = _write_images(root / "set" / split, n)
        pd.DataFrame({"id": names, "class": [k % 2 for k in range(n)]}).to_csv(
            root / "set" / f"{split}.csv", index=False)
    return ImageFolder(ImageFolder.Params(
        train_folder="set/train", train_labels="set/train.csv", test_folder="set/test",
        test_labels="set/test.csv", **params), data_root=root)


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """Records every image file Pillow opens."""
    calls: list[str] = []
    original = Image.open

    def spy(fp, *args, **kwargs):
        calls.append(str(fp))
        return original(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", spy)
    return calls


def test_plugins_are_registered():
    assert registry.get("reader", "image_folder") is ImageFolder
    assert registry.get("dataset", "digits_images") is DigitsImages
    assert "image_classifier" in registry.available("workflow")


def test_reader_decodes_nothing_until_iterated(tmp_path, opened):
    reader = _reader(tmp_path)
    reader.check_files()
    train = reader.load("train")
    assert isinstance(train.X, ImageCollection)
    assert len(train.X) == len(train) == 10
    assert train.y.tolist() == [0, 1] * 5
    fold = take_rows(train.X, np.array([7, 2, 5]))
    assert opened == []
    first = next(iter(fold.batches(2)))
    assert len(opened) == 2
    assert first.dtype == np.uint8 and first.shape == (2, 6, 6)


def test_take_rows_keeps_order_and_stays_lazy(tmp_path):
    images = _reader(tmp_path).load("train").X
    fold = take_rows(images, np.array([7, 2, 5]))
    assert isinstance(fold, ImageCollection)
    assert fold.names.tolist() == ["007.png", "002.png", "005.png"]
    pixels = np.concatenate(list(fold.batches(10)))
    assert pixels[:, 0, 0].tolist() == [7, 2, 5]
    assert take_rows(fold, np.array([1])).names.tolist() == ["002.png"]


@pytest.mark.parametrize(("batch_size", "sizes"), [(4, [4, 4, 2]), (10, [10]), (1, [1] * 10),
                                                   (64, [10])])
def test_batch_sizes(tmp_path, batch_size, sizes):
    images = _reader(tmp_path).load("train").X
    batches = list(images.batches(batch_size))
    assert [len(b) for b in batches] == sizes
    assert np.concatenate(batches)[:, 0, 0].tolist() == list(range(10))


def test_batch_size_must_be_positive(tmp_path):
    images = _reader(tmp_path).load("train").X
    with pytest.raises(ValueError, match="batch_size"):
        next(images.batches(0))


def test_image_batches_pairs_labels_and_is_reiterable(tmp_path):
    train = _reader(tmp_path).load("train")
    batches = ImageBatches(train.X, train.y, batch_size=4)
    assert len(batches) == 10 and batches.n_batches == 3
    for _ in range(2):  # two epochs
        pairs = list(batches)
        assert [len(images) for images, _ in pairs] == [4, 4, 2]
        assert np.concatenate([labels for _, labels in pairs]).tolist() == train.y.tolist()
        for images, labels in pairs:  # image k holds grey level k and has class k % 2
            assert (images[:, 0, 0] % 2).tolist() == labels.tolist()
    unlabelled = list(ImageBatches(train.X, None, batch_size=4))
    assert [b.shape for b in unlabelled] == [(4, 6, 6), (4, 6, 6), (2, 6, 6)]


def test_image_batches_accepts_an_array():
    array = np.arange(5 * 2 * 2, dtype=np.uint8).reshape(5, 2, 2)
    batches = list(ImageBatches(array, np.arange(5), batch_size=2))
    assert [labels.tolist() for _, labels in batches] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="labels"):
        ImageBatches(array, np.arange(4))


def test_missing_image_file_is_reported_at_load(tmp_path):
    reader = _reader(tmp_path)
    (tmp_path / "set" / "train" / "003.png").unlink()
    with pytest.raises(DataError, match=r"1 image file\(s\).*missing.*003\.png"):
        reader.load("train")


def test_file_removed_after_load_is_reported_when_decoded(tmp_path):
    images = _reader(tmp_path).load("train").X
    (tmp_path / "set" / "train" / "004.png").unlink()
    with pytest.raises(DataError, match=r"004\.png: image file not found"):
        list(images.batches(4))


def test_unreadable_image_is_reported(tmp_path):
    images = _reader(tmp_path).load("train").X
    (tmp_path / "set" / "train" / "001.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"001\.png: not a readable image"):
        list(images.batches(4))


def test_images_of_different_sizes_are_refused(tmp_path):
    images = _reader(tmp_path).load("train").X
    Image.fromarray(np.zeros((3, 3), dtype=np.uint8)).save(tmp_path / "set" / "train" / "001.png")
    with pytest.raises(DataError, match="different sizes"):
        list(images.batches(4))


def test_missing_folder_and_labels_are_reported(tmp_path):
    reader = _reader(tmp_path)
    (tmp_path / "set" / "test.csv").unlink()
    with pytest.raises(DataError, match=r"test_labels: .*test\.csv"):
        reader.check_files()
    reader = _reader(tmp_path / "other")
    for path in (tmp_path / "other" / "set" / "test").iterdir():
        path.unlink()
    (tmp_path / "other" / "set" / "test").rmdir()
    with pytest.raises(DataError, match=r"missing image folders \(test_folder"):
        reader.check_files()


def test_labels_csv_columns_and_allowed_labels(tmp_path):
    reader = _reader(tmp_path, labels=[0])
    with pytest.raises(DataError, match=r"classes \['1'\] are not among the labels"):
        reader.load("train")
    pd.DataFrame({"file": ["000.png"], "class": [0]}).to_csv(tmp_path / "set" / "test.csv",
                                                              index=False)
    with pytest.raises(DataError, match=r"missing column\(s\) \['id'\]"):
        reader.load("test")


def test_files_lists_only_files(tmp_path):
    reader = _reader(tmp_path)
    assert all(path.is_file() for path in reader.files().values())
    assert all(path.is_dir() for path in reader.folders().values())


def test_collection_pickles_without_pixels(tmp_path):
    import pickle

    images = _reader(tmp_path).load("train").X
    copy = pickle.loads(pickle.dumps(images))
    assert copy.names.tolist() == images.names.tolist() and copy.folder == images.folder


def test_digit_image_is_seeded_and_jittered():
    from sklearn.datasets import load_digits

    digit = load_digits().images[0]
    a = digit_image(digit, np.random.default_rng(1), 32)
    b = digit_image(digit, np.random.default_rng(1), 32)
    c = digit_image(digit, np.random.default_rng(2), 32)
    assert a.shape == (32, 32) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_generate_writes_pngs_and_labels(tmp_path):
    data = DigitsImages(tmp_path)
    written = data.generate(12, 4, seed=3, size=16)
    assert [p.name for p in written] == ["train_labels.csv", "test_labels.csv"]
    labels = pd.read_csv(written[0], dtype={"id": str})
    assert list(labels.columns) == ["id", "class"] and len(labels) == 12
    assert set(labels["class"]) <= set(range(10))
    first = np.asarray(Image.open(tmp_path / "digits_images" / "train" / labels["id"][0]))
    assert first.shape == (16, 16) and first.dtype == np.uint8
    data.check()
    again = DigitsImages(tmp_path / "again")
    again.generate(12, 4, seed=3, size=16)
    for name in labels["id"]:
        assert (tmp_path / "digits_images" / "train" / name).read_bytes() == \
            (tmp_path / "again" / "digits_images" / "train" / name).read_bytes()
    (tmp_path / "digits_images" / "test" / "00001.png").unlink()
    with pytest.raises(DataError, match=r"00001\.png"):
        data.check()


def test_generated_images_are_distinct(tmp_path):
    DigitsImages(tmp_path).generate(200, 0, seed=0, size=16)
    images = ImageCollection(tmp_path / "digits_images" / "train",
                             sorted(p.name for p in (tmp_path / "digits_images" / "train")
                                    .iterdir()))
    pixels = np.concatenate(list(images.batches(64))).reshape(200, -1)
    assert len(np.unique(pixels, axis=0)) == 200


def test_decode_image_converts_colour(tmp_path):
    Image.fromarray(np.zeros((4, 5, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    assert image_readers.decode_image(tmp_path / "rgb.png").shape == (4, 5)
