"""The DigitSum data of the memory-capacity experiments (book §6.1.1): sequences whose label is the sum of
their first two digits, with one distractor digit further on; ``generate_data``, ``load_data`` and
``DigitSumDataset`` under the book's names, and ``make_digitsum_datasets`` for the book's seed protocol."""

import os
import random
from pathlib import Path

import numpy as np
import paddle

BOOK_LENGTHS = (5, 10, 15, 20, 25, 30, 35)
SPLIT_SIZES = (("train", 3), ("dev", 1), ("test", 1))     # k examples per (n1, n2) pair → 300/100/100


def generate_data(length, k, save_path):
    """Write ``100·k`` examples to ``save_path`` (book §6.1.1.1): for every pair of first digits n1, n2 in
    0–9, ``k`` sequences ``[n1, n2, 0, …, 0]`` of ``length`` digits with one position in ``[2, length)``
    set to a random digit (possibly 0 again); the label is n1 + n2 (19 classes). One line per example,
    digits separated by spaces, a tab, the label. Draws from numpy's global ``RandomState`` (position, then
    digit, per example), so the book's seeds give the book's files. Creates the folder (the book does not)."""
    if length < 3:
        raise ValueError("The length of data should be greater than 2.")
    if k == 0:
        raise ValueError("k should be greater than 0.")
    lines = []
    for n1 in range(10):
        for n2 in range(10):
            for _ in range(k):
                seq = [n1, n2] + [0] * (length - 2)
                position = np.random.randint(2, length)
                seq[position] = np.random.randint(0, 10)
                lines.append(" ".join(str(digit) for digit in seq) + f"\t{n1 + n2}\n")
    Path(save_path).parent.mkdir(parents=True, exist_ok=True)
    Path(save_path).write_text("".join(lines), encoding="utf-8")


def make_digitsum_datasets(root, lengths=BOOK_LENGTHS, seed=0):
    """The book's files ``root/{length}/{train,dev,test}.txt`` (book §6.1.1.1): ``random.seed(seed)`` and
    ``np.random.seed(seed)`` once, then train (k = 3), dev and test (k = 1) for each length in order —
    with the book's seed and lengths, byte-identical to the book's data. Returns ``root``."""
    random.seed(seed)
    np.random.seed(seed)
    for length in lengths:
        for split, k in SPLIT_SIZES:
            generate_data(length, k, os.path.join(root, str(length), f"{split}.txt"))
    return root


def load_data(data_path):
    """``(train, dev, test)`` lists of ``(digits: list of int, label: int)`` from ``data_path/{train,dev,
    test}.txt`` (book §6.1.1.2)."""
    splits = []
    for split, _ in SPLIT_SIZES:
        examples = []
        for line in Path(data_path, f"{split}.txt").read_text(encoding="utf-8").splitlines():
            digits, label = line.strip().split("\t")
            examples.append(([int(digit) for digit in digits.split(" ")], int(label)))
        splits.append(examples)
    return tuple(splits)


class DigitSumDataset(paddle.io.Dataset):
    """DigitSum examples as ``(digits [L] int64, label [] int64)`` tensors (book §6.1.1.3); batches are
    ``[B, L]`` and ``[B]`` on Paddle 3 (``[B, 1]`` labels on the book's 2.2)."""

    def __init__(self, data):
        super().__init__()
        self.data = data

    def __getitem__(self, idx):
        digits, label = self.data[idx]
        return paddle.to_tensor(digits, dtype="int64"), paddle.to_tensor(label, dtype="int64")

    def __len__(self):
        return len(self.data)
