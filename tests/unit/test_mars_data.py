"""The Mars craters data set plugin: download (against a loopback server), generate, check."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rampconf_detection.data import (
    MAX_CRATERS,
    MAX_RADIUS,
    MIN_RADIUS,
    RIM_EXTENT,
    MarsCraters,
    check_images,
    check_labels,
    load_labels,
    synthetic_image,
    synthetic_terrain,
)

from rampconf import datasets, registry
from rampconf.errors import DataError
from tests.conftest import REPO

FILES = MarsCraters.files


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------
# A loopback HTTP server that honours Range and can cut a download short
# ---------------------------------------------------------------------------


class FileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.files: dict[str, bytes] = {}
        self.cut: dict[str, int] = {}  # file -> body bytes sent before closing (once)
        self.ignore_range = False
        self.fail: dict[str, int] = {}  # file -> HTTP error status to answer
        self.requests: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class RangeHandler(BaseHTTPRequestHandler):
    server: FileServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server
        name = self.path.lstrip("/")
        range_header = self.headers.get("Range")
        with server.lock:
            server.requests.append((name, range_header))
        data = server.files.get(name)
        if data is None or name in server.fail:
            self.send_error(server.fail.get(name, 404))
            return
        start = 0
        if range_header and not server.ignore_range:
            match = re.fullmatch(r"bytes=(\d+)-", range_header)
            assert match, range_header
            start = int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with server.lock:
            cut = server.cut.pop(name, None)
        if cut is not None:  # simulate a dropped connection
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A small valid set (64×64 images) the server hands out."""
    root = tmp_path_factory.mktemp("origin")
    paths = MarsCraters(root).generate(6, 4, seed=3, size=64, names="full")
    return {path.name: path.read_bytes() for path in paths}


@pytest.fixture
def server(origin: dict[str, bytes]) -> Iterator[FileServer]:
    httpd = FileServer()
    httpd.files = dict(origin)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def assert_identical(folder: Path, origin: dict[str, bytes]) -> None:
    for name, data in origin.items():
        assert sha256(folder / name) == hashlib.sha256(data).hexdigest(), name
    assert not list(folder.glob("*.part"))


# ---------------------------------------------------------------------------
# Download
# ---------------------------------------------------------------------------


def test_download_fetches_checks_and_skips_present_files(tmp_path, server, origin):
    dataset = MarsCraters(tmp_path)
    paths = dataset.download(server.url, quiet=True)
    assert paths == [tmp_path / "mars_craters" / name for name in FILES]
    assert_identical(dataset.path, origin)
    assert [name for name, _ in server.requests] == list(FILES)
    assert all(header is None for _, header in server.requests)
    dataset.check()
    server.requests.clear()
    assert dataset.download(server.url, quiet=True) == paths  # present and valid: skipped
    assert server.requests == []


def test_interrupted_download_keeps_part_and_resumes_with_range(tmp_path, server, origin):
    dataset = MarsCraters(tmp_path)
    server.cut["data_test.npy"] = 5000
    url = f"{server.url}/data_test.npy"
    with pytest.raises(DataError) as info:
        dataset.download(server.url, quiet=True)
    message = str(info.value)
    assert url in message and "interrupted" in message and "rerun" in message
    assert "resume" in message
    part = dataset.path / "data_test.npy.part"
    assert not (dataset.path / "data_test.npy").exists()  # never a truncated final file
    assert part.stat().st_size == 5000
    assert (dataset.path / "data_train.npy").is_file()  # the file before it completed
    assert not (dataset.path / "labels_train.csv").exists()

    server.requests.clear()
    dataset.download(server.url, quiet=True)
    assert ("data_test.npy", "bytes=5000-") in server.requests
    assert "data_train.npy" not in [name for name, _ in server.requests]
    assert_identical(dataset.path, origin)


def test_server_ignoring_range_restarts_from_zero(tmp_path, server, origin):
    dataset = MarsCraters(tmp_path)
    dataset.path.mkdir()
    part = dataset.path / "data_train.npy.part"
    part.write_bytes(b"x" * 3000)  # garbage: only a restart from zero gives a valid file
    server.ignore_range = True
    dataset.download(server.url, quiet=True)
    assert ("data_train.npy", "bytes=3000-") in server.requests
    assert_identical(dataset.path, origin)


def test_complete_part_file_is_accepted_on_416(tmp_path, server, origin):
    dataset = MarsCraters(tmp_path)
    dataset.path.mkdir()
    size = len(origin["data_train.npy"])
    (dataset.path / "data_train.npy.part").write_bytes(origin["data_train.npy"])
    dataset.download(server.url, quiet=True)
    assert ("data_train.npy", f"bytes={size}-") in server.requests
    assert_identical(dataset.path, origin)


def test_invalid_downloaded_file_is_rejected_and_not_renamed(tmp_path, server):
    dataset = MarsCraters(tmp_path)
    server.files["labels_train.csv"] = b"i,row,col,radius\n0,1.0,2.0,3.0\n"
    with pytest.raises(DataError, match=r"labels_train\.csv.*columns i,row_p,col_p,radius_p"):
        dataset.download(server.url, quiet=True)
    assert not (dataset.path / "labels_train.csv").exists()
    assert not (dataset.path / "labels_train.csv.part").exists()


def test_images_that_are_not_uint8_squares_are_rejected(tmp_path, server):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((2, 8, 8), dtype=np.float32))
    server.files["data_train.npy"] = bad.read_bytes()
    dataset = MarsCraters(tmp_path / "root")
    with pytest.raises(DataError, match="uint8"):
        dataset.download(server.url, quiet=True)
    assert not (dataset.path / "data_train.npy").exists()


def test_labels_indices_must_fit_the_images(tmp_path, server, origin):
    server.files["labels_test.csv"] = b"i,row_p,col_p,radius_p\n4,10.0,10.0,5.0\n"  # 4 images
    with pytest.raises(DataError, match="image index 4 out of range"):
        MarsCraters(tmp_path).download(server.url, quiet=True)


def test_present_but_invalid_file_is_downloaded_again(tmp_path, server, origin):
    dataset = MarsCraters(tmp_path)
    dataset.path.mkdir()
    (dataset.path / "data_train.npy").write_bytes(origin["data_train.npy"][:-10])  # truncated
    dataset.download(server.url, quiet=True)
    assert_identical(dataset.path, origin)


def test_http_404_names_the_url(tmp_path, server):
    del server.files["labels_test.csv"]
    with pytest.raises(DataError) as info:
        MarsCraters(tmp_path).download(server.url, quiet=True)
    assert f"{server.url}/labels_test.csv" in str(info.value)
    assert "404" in str(info.value)
    assert not (tmp_path / "mars_craters" / "labels_test.csv").exists()


def test_server_error_says_rerunning_resumes(tmp_path, server, origin):
    dataset = MarsCraters(tmp_path)
    server.cut["data_test.npy"] = 3000
    with pytest.raises(DataError):
        dataset.download(server.url, quiet=True)
    server.fail["data_test.npy"] = 503
    with pytest.raises(DataError) as info:
        dataset.download(server.url, quiet=True)
    message = str(info.value)
    assert f"{server.url}/data_test.npy" in message and "HTTP 503" in message
    assert "to resume" in message
    assert (dataset.path / "data_test.npy.part").stat().st_size == 3000  # kept for later
    del server.fail["data_test.npy"]
    dataset.download(server.url, quiet=True)
    assert_identical(dataset.path, origin)


def test_unreachable_server_names_the_url(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(DataError, match=re.escape(f"{url}/data_train.npy")):
        MarsCraters(tmp_path).download(url, quiet=True)


@pytest.fixture
def mini_server(server, kits):
    """The server handing out the public mini files of the ramp-kits (hashes known)."""
    server.files = {name: (kits / "mars_craters" / name).read_bytes()
                    for name in MarsCraters.mini_files}
    return server


def test_mini_files_are_checked_against_their_sha256(tmp_path, mini_server, kits):
    dataset = MarsCraters(tmp_path)
    paths = dataset.download(mini_server.url, quiet=True, mini=True)
    assert [p.name for p in paths] == list(MarsCraters.mini_files)
    for path in paths:
        assert sha256(path) == MarsCraters.sha256[path.name]
        assert sha256(path) == sha256(kits / "mars_craters" / path.name)
    dataset.check(mini=True)


def test_sha256_mismatch_is_rejected_and_not_kept(tmp_path, mini_server):
    # Valid content (one more crater), so only the hash can tell it is not the public file.
    original = mini_server.files["labels_train_mini.csv"]
    mini_server.files["labels_train_mini.csv"] = original + b"0,50.0,50.0,6.0\n"
    dataset = MarsCraters(tmp_path)
    with pytest.raises(DataError) as info:
        dataset.download(mini_server.url, quiet=True, mini=True)
    message = str(info.value)
    assert "\n" not in message
    assert f"{mini_server.url}/labels_train_mini.csv" in message
    assert "SHA-256 mismatch" in message and MarsCraters.sha256["labels_train_mini.csv"] in message
    assert not (dataset.path / "labels_train_mini.csv").exists()
    assert not (dataset.path / "labels_train_mini.csv.part").exists()
    assert (dataset.path / "data_test_mini.npy").is_file()  # the files before it are kept


def test_present_file_with_another_hash_is_downloaded_again(tmp_path, mini_server, origin):
    dataset = MarsCraters(tmp_path)
    dataset.path.mkdir()
    stale = dataset.path / "labels_test_mini.csv"
    stale.write_bytes(origin["labels_test.csv"])  # loads fine, but not the public file
    dataset.download(mini_server.url, quiet=True, mini=True)
    assert sha256(stale) == MarsCraters.sha256["labels_test_mini.csv"]
    assert ("labels_test_mini.csv", None) in mini_server.requests


def test_download_without_terminal_prints_plain_lines(tmp_path, server, capsys):
    MarsCraters(tmp_path).download(server.url)
    err = capsys.readouterr().err
    assert f"downloading {server.url}/data_train.npy" in err
    assert "\x1b[" not in err  # no progress bar outside a terminal


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


@pytest.fixture
def registered() -> None:
    # The entry point is declared in pyproject.toml; an environment installed before it
    # was added does not list it yet, so register the same class at run time then.
    if "mars_craters" not in registry.available("dataset"):
        registry.register("dataset", "mars_craters")(MarsCraters)


def test_entry_point_is_declared():
    text = (REPO / "pyproject.toml").read_text()
    assert 'mars_craters = "rampconf_detection.data:MarsCraters"' in text


def test_cli_generate_check_download(tmp_path, registered, server, origin, capsys):
    root = tmp_path / "gen"
    argv = ["mars_craters", "generate", "--data-root", str(root), "--n-train", "20",
            "--n-test", "10"]
    assert datasets.main(argv) == 0
    folder = root / "mars_craters"
    written = [str(folder / name) for name in FILES + MarsCraters.mini_files]
    assert capsys.readouterr().out.split() == written
    train = np.load(folder / "data_train.npy")
    test = np.load(folder / "data_test.npy")
    assert train.shape == (20, 224, 224) and test.shape == (10, 224, 224)
    assert train.dtype == test.dtype == np.uint8
    assert len(load_labels(folder / "labels_train.csv", 20)) == 20
    assert datasets.main(["mars_craters", "check", "--data-root", str(root)]) == 0

    empty = tmp_path / "empty"
    assert datasets.main(["mars_craters", "check", "--data-root", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "data_train.npy: missing" in err and "labels_test.csv: missing" in err
    assert "rampconf-data mars_craters download" in err

    fetched = tmp_path / "fetched"
    argv = ["mars_craters", "download", "--data-root", str(fetched), "--base-url", server.url,
            "--quiet"]
    assert datasets.main(argv) == 0
    assert_identical(fetched / "mars_craters", origin)

    del server.files["data_test.npy"]
    argv = ["mars_craters", "download", "--data-root", str(tmp_path / "x"), "--base-url",
            server.url, "--quiet"]
    assert datasets.main(argv) == 2
    assert f"{server.url}/data_test.npy" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    first = MarsCraters(tmp_path / "a").generate(8, 4, seed=5)
    again = MarsCraters(tmp_path / "b").generate(8, 4, seed=5)
    other = MarsCraters(tmp_path / "c").generate(8, 4, seed=6)
    assert [sha256(p) for p in first] == [sha256(p) for p in again]
    for a, c in zip(first, other, strict=True):
        assert sha256(a) != sha256(c)


def test_generated_files_have_the_ramp_format(tmp_path):
    dataset = MarsCraters(tmp_path)
    paths = dataset.generate(20, 10, seed=1, names="full")
    assert [p.name for p in paths] == list(FILES)
    assert sorted(p.name for p in dataset.path.iterdir()) == sorted(FILES)  # no .part left
    dataset.check()
    for path, n in zip(paths[:2], (20, 10), strict=True):
        images = np.load(path)
        assert images.dtype == np.uint8 and images.shape == (n, 224, 224)
        assert check_images(path) == n
    for path, n in zip(paths[2:], (20, 10), strict=True):
        frame = pd.read_csv(path)
        assert list(frame.columns) == ["i", "row_p", "col_p", "radius_p"]
        assert frame["i"].between(0, n - 1).all()
        assert check_labels(path, n) == len(frame)
        labels = load_labels(path, n)
        assert len(labels) == n and sum(len(k) for k in labels) == len(frame)
        assert all(k.shape[1] == 3 and k.dtype == float for k in labels)


def test_generated_set_is_under_both_names_by_default(tmp_path):
    """The problem reads the ``_mini`` names by default; full-name configs find it too."""
    dataset = MarsCraters(tmp_path)
    paths = dataset.generate(3, 2, seed=7)
    assert [p.name for p in paths] == list(FILES + MarsCraters.mini_files)
    assert sorted(p.name for p in dataset.path.iterdir()) == sorted(p.name for p in paths)
    dataset.check()
    dataset.check(mini=True)
    for full, mini in zip(FILES, MarsCraters.mini_files, strict=True):
        assert sha256(dataset.path / full) == sha256(dataset.path / mini)
    alone = MarsCraters(tmp_path / "mini")
    assert alone.generate(3, 2, seed=7, names="mini") == [
        alone.path / name for name in MarsCraters.mini_files]
    for name in MarsCraters.mini_files:
        assert sha256(alone.path / name) == sha256(dataset.path / name)
    assert sorted(p.name for p in alone.path.iterdir()) == sorted(MarsCraters.mini_files)
    alone.check(mini=True)
    with pytest.raises(DataError, match=r"data_train\.npy: missing"):
        alone.check()
    with pytest.raises(DataError, match="names must be"):
        dataset.generate(3, 2, names="small")


def test_generate_other_sizes_and_empty_splits(tmp_path):
    paths = MarsCraters(tmp_path).generate(0, 3, size=32)
    assert np.load(paths[0]).shape == (0, 32, 32)
    assert np.load(paths[1]).shape == (3, 32, 32)
    assert load_labels(paths[2], 0) == []
    with pytest.raises(DataError, match="must be >= 0"):
        MarsCraters(tmp_path).generate(-1, 3)


def _isolated_craters(image_labels, size):
    """(image, row, col, radius, mask of pixels of no other crater) of craters far from others."""
    rows, cols = np.mgrid[:size, :size]
    for image, circles in image_labels:
        for j, (row, col, radius) in enumerate(circles):
            if min(row, col, size - 1 - row, size - 1 - col) < 2.5 * radius:
                continue
            free = np.ones((size, size), dtype=bool)
            for k, (r, c, q) in enumerate(circles):
                if k != j:
                    free &= np.hypot(rows - r, cols - c) > RIM_EXTENT * q
            yield image.astype(float), row, col, radius, free


def test_labels_are_the_drawn_craters(tmp_path):
    """Seen from the image alone: at each label, a sun-lit crater stands out of the terrain."""
    paths = MarsCraters(tmp_path).generate(60, 0, seed=2)
    images = np.load(paths[0])
    labels = load_labels(paths[2], len(images))
    size = images.shape[1]
    rows, cols = np.mgrid[:size, :size]
    floor_contrast, rim_contrast = [], []
    for image, row, col, radius, free in _isolated_craters(zip(images, labels, strict=True), size):
        d = np.hypot(rows - row, cols - col) / radius
        terrain = image[(d > 1.6) & (d < 2.4) & free].mean()
        floor = image[d < 1].mean()
        rim = image[(d >= 1) & (d < RIM_EXTENT)].mean()
        # Sun from the left: the wall on its side is in shadow, the far wall is lit.
        sun_side = image[(d < 0.9) & (cols < col - 0.2 * radius)].mean()
        far_side = image[(d < 0.9) & (cols > col + 0.2 * radius)].mean()
        assert far_side - sun_side > 20, (row, col, radius)
        floor_contrast.append(terrain - floor)
        rim_contrast.append(rim - terrain)
    assert len(floor_contrast) > 60
    # The terrain's own relief moves single craters, not the bulk.
    assert np.mean(np.array(floor_contrast) > 5) > 0.9
    assert np.mean(np.array(rim_contrast) > 2) > 0.9
    assert np.median(floor_contrast) > 12  # a clearly darker crater floor
    assert np.median(rim_contrast) > 6  # and a clearly brighter raised rim


def test_generated_images_are_terrain_plus_exactly_the_labelled_craters(tmp_path):
    """Against the terrain under each image (the documented seeding), crater by crater."""
    seed, size = 4, 224
    paths = MarsCraters(tmp_path).generate(40, 0, seed=seed)
    images = np.load(paths[0])
    labels = load_labels(paths[2], len(images))
    rows, cols = np.mgrid[:size, :size]
    n_craters = 0
    for k, (image, circles) in enumerate(zip(images, labels, strict=True)):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0, k]))
        terrain = np.clip(np.rint(synthetic_terrain(rng, size)), 0, 255)
        change = image.astype(float) - terrain
        away = np.ones((size, size), dtype=bool)
        for row, col, radius in circles:
            d = np.hypot(rows - row, cols - col) / radius
            away &= d >= RIM_EXTENT
            assert np.abs(change[d < RIM_EXTENT]).mean() > 8, (k, row, col, radius)
            if min(row, col, size - 1 - row, size - 1 - col) >= RIM_EXTENT * radius:
                assert change[d < 1].mean() < -10, (k, row, col, radius)  # dark floor
                ring = change[(d >= 1) & (d < RIM_EXTENT)]
                assert ring.mean() > 5, (k, row, col, radius)  # bright raised rim
            n_craters += 1
        assert not change[away].any(), k  # no unlabelled crater: elsewhere only terrain
    assert n_craters > 80


def test_pixels_away_from_craters_are_terrain():
    size = 224
    rows, cols = np.mgrid[:size, :size]
    changed = 0
    for seed in range(20):
        image, circles = synthetic_image(np.random.default_rng(seed), size)
        terrain = synthetic_terrain(np.random.default_rng(seed), size)
        background = np.clip(np.rint(terrain), 0, 255).astype(np.uint8)
        away = np.ones((size, size), dtype=bool)
        for row, col, radius in circles:
            d = np.hypot(rows - row, cols - col) / radius
            away &= d > RIM_EXTENT
            changed += int((image[d < 1] != background[d < 1]).mean() > 0.9)
        assert np.array_equal(image[away], background[away])
        assert len(circles) == 0 or not away.all()
    assert changed > 30  # nearly every pixel of a crater differs from the terrain


def test_crater_counts_radii_and_positions():
    size = 224
    counts, circles = [], []
    for seed in range(300):
        _, found = synthetic_image(np.random.default_rng(seed), size)
        counts.append(len(found))
        circles.append(found)
    everything = np.concatenate(circles)
    rows, cols, radii = everything.T
    assert min(counts) == 0 and max(counts) <= MAX_CRATERS
    assert 2 < np.mean(counts) < 4  # Poisson-like, mean about 3
    assert ((rows >= 0) & (rows <= size - 1) & (cols >= 0) & (cols <= size - 1)).all()
    assert ((radii >= MIN_RADIUS) & (radii <= MAX_RADIUS)).all()
    assert np.median(radii) < 8  # small craters are the most common
    assert radii.max() > 15
    margin = np.minimum.reduce([rows, cols, size - 1 - rows, size - 1 - cols])
    assert (margin < radii).sum() > 20  # some craters are cut by the border
    assert np.array_equal(np.round(radii, 2), radii)  # labels are the drawn values


# ---------------------------------------------------------------------------
# Checking and reading files
# ---------------------------------------------------------------------------


def test_the_ramp_kits_mini_set_checks_and_loads(kits):
    dataset = MarsCraters(kits)
    dataset.check(mini=True)
    labels = load_labels(kits / "mars_craters" / "labels_train_mini.csv", 30)
    assert len(labels) == 30 and sum(len(k) for k in labels) == 25
    assert labels[4].tolist() == [[37.0, 70.0, 5.25], [121.0, 66.0, 8.35]]
    assert labels[2].shape == (0, 3)


def test_check_lists_every_problem(tmp_path):
    dataset = MarsCraters(tmp_path)
    dataset.generate(4, 2, size=32)
    (dataset.path / "labels_test.csv").write_text("i,row_p,col_p\n0,1,2\n")
    (dataset.path / "data_train.npy").unlink()
    with pytest.raises(DataError) as info:
        dataset.check()
    lines = info.value.lines
    assert any("data_train.npy: missing" in line for line in lines)
    assert any("labels_test.csv" in line and "columns" in line for line in lines)
    assert len(lines) == 3  # two problems and the commands that fix them


@pytest.mark.parametrize(("text", "match"), [
    ("i,row_p,col_p,radius_p\n0.5,1,2,3\n", "integers"),
    ("i,row_p,col_p,radius_p\n0,1,2,0\n", "radius_p must be > 0"),
    ("i,row_p,col_p,radius_p\n0,1,,3\n", "missing"),
    ("i,row_p,col_p,radius_p\n0,a,2,3\n", "non-numeric"),
    ("", "not a readable CSV"),
])
def test_invalid_labels(tmp_path, text, match):
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=match):
        load_labels(path, 5)


def test_truncated_or_padded_images_are_invalid(tmp_path):
    path = tmp_path / "data.npy"
    np.save(path, np.zeros((3, 16, 16), dtype=np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[:-1])
    with pytest.raises(DataError, match="not a readable"):
        check_images(path)
    path.write_bytes(data + b"\0")
    with pytest.raises(DataError, match="bytes on disk"):
        check_images(path)
    np.save(path, np.zeros((3, 16, 8), dtype=np.uint8))
    with pytest.raises(DataError, match="H == W"):
        check_images(path)
