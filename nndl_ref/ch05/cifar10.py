"""CIFAR-10 for the ResNet18 practice (book §5.5.1): the book's batch reader and Dataset, the official
python-version archive, and a generated stand-in in the same on-disk format."""

import pickle
from pathlib import Path

import numpy as np
import paddle

from ..archives import (STAND_IN_FILE, describe, extract, fetch, find_folder, resolve_source, stand_in_note,
                        write_tar_gz)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_CHECKSUM = "sha256:6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CIFAR10_ENV_VAR = "NNDL_CIFAR10"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2023, 0.1994, 0.2010)


def prepare_cifar10(path=None, cache=None):
    """Return ``(batches_folder, source)`` for CIFAR-10 (book §5.5.1).

    ``path`` (else ``$NNDL_CIFAR10``) is a ``cifar-10-python.tar.gz`` (official or a stand-in) or a
    folder holding ``cifar-10-batches-py``; without either, the official archive is downloaded into
    the cache folder ``cache`` and checked against its SHA-256 (needs a network: instructors only).
    ``source`` is the label to print and to put into plot titles; it says "stand-in" for generated data.
    """
    source = resolve_source(path, CIFAR10_ENV_VAR)
    if source is not None and Path(source).is_dir():
        batches = find_folder(source, "data_batch_1")
        return batches, describe(batches, "CIFAR-10", "local folder")
    if source is None:
        archive, origin = fetch(CIFAR10_URL, CIFAR10_CHECKSUM, cache), "official archive, SHA-256 verified"
    else:
        archive, origin = fetch(source, None), f"archive {source}"
    batches = find_folder(extract(archive, cache), "data_batch_1")
    return batches, describe(batches, "CIFAR-10", origin)


def load_cifar10_batch(folder_path, batch_id=1, mode="train"):
    """One pickled batch as ``(images [N,3,32,32] float32 in [0,1], labels [N] int)`` (book §5.5.1).

    ``mode='test'`` reads ``test_batch``, anything else ``data_batch_{batch_id}``.
    """
    name = "test_batch" if mode == "test" else f"data_batch_{batch_id}"
    with open(Path(folder_path) / name, "rb") as stream:
        batch = pickle.load(stream, encoding="latin1")
    images = np.asarray(batch["data"]).reshape((len(batch["data"]), 3, 32, 32)) / 255.0
    return images.astype("float32"), np.array(batch["labels"])


class CIFAR10Dataset(paddle.io.Dataset):
    """The book's CIFAR-10 splits (book §5.5.1): 'train' = data_batch_1–4 (40,000 images), 'dev' =
    data_batch_5 (10,000), 'test' = test_batch (10,000); items are the per-channel normalised
    ``[3,32,32]`` float32 image and an int64 label.

    ``folder_path`` is the ``cifar-10-batches-py`` folder (``None``: ``prepare_cifar10()``);
    ``source`` says where the images came from ("stand-in" for generated data). Normalisation is done
    in numpy with the book's mean/std (the same arithmetic as ``paddle.vision.transforms.Normalize``).
    """

    def __init__(self, folder_path=None, mode="train"):
        super().__init__()
        if folder_path is None:
            folder_path, self.source = prepare_cifar10()
        else:
            self.source = describe(folder_path, "CIFAR-10", "local folder")
        if mode == "train":
            parts = [load_cifar10_batch(folder_path, batch_id) for batch_id in range(1, 5)]
            self.imgs = np.concatenate([imgs for imgs, _ in parts])
            self.labels = np.concatenate([labels for _, labels in parts])
        elif mode == "dev":
            self.imgs, self.labels = load_cifar10_batch(folder_path, 5)
        else:
            self.imgs, self.labels = load_cifar10_batch(folder_path, mode="test")
        self.labels = self.labels.astype("int64")
        self.mean = np.array(CIFAR10_MEAN, dtype="float32").reshape(3, 1, 1)
        self.std = np.array(CIFAR10_STD, dtype="float32").reshape(3, 1, 1)

    def __getitem__(self, idx):
        return (self.imgs[idx] - self.mean) / self.std, self.labels[idx]

    def __len__(self):
        return len(self.imgs)


def write_cifar10_stand_in(path, num_per_batch=20, seed=0):
    """Write a stand-in ``cifar-10-python.tar.gz`` at ``path``: the official layout and pickle format
    (``data_batch_1`` … ``_5``, ``test_batch``, ``batches.meta``, uint8 ``data [N,3072]`` in R, G, B
    planes) with ``num_per_batch`` generated images per batch and a stand-in marker. Each class has
    its own colour plus noise, so a model can learn it; it is not CIFAR-10. Returns ``path``.
    """
    rng = np.random.default_rng(seed)
    palette = rng.uniform(30, 225, size=(10, 3))
    files = {}
    for number, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        labels = rng.integers(0, 10, size=num_per_batch)
        images = palette[labels][:, :, None, None] + rng.normal(0, 25, size=(num_per_batch, 3, 32, 32))
        files[f"{CIFAR10_FOLDER}/{name}"] = pickle.dumps({
            "batch_label": f"stand-in batch {number + 1} of 6", "labels": labels.tolist(),
            "data": np.clip(images, 0, 255).astype("uint8").reshape(num_per_batch, 3072),
            "filenames": [f"stand_in_{number}_{i}.png" for i in range(num_per_batch)]})
    files[f"{CIFAR10_FOLDER}/batches.meta"] = pickle.dumps(
        {"label_names": CIFAR10_LABELS, "num_cases_per_batch": num_per_batch, "num_vis": 3072})
    files[f"{CIFAR10_FOLDER}/{STAND_IN_FILE}"] = stand_in_note(
        f"CIFAR-10, {num_per_batch} coloured-noise images per batch, seed {seed}")
    return write_tar_gz(path, files)
