"""``IrisDataset``: the Iris splits as a ``paddle.io.Dataset`` for DataLoader batching (book §4.5.2.1)."""

import numpy as np
import paddle

from ..ch03.data import load_data

IRIS_SPLIT_SEED = 12


class IrisDataset(paddle.io.Dataset):
    """One split of Iris (``mode`` 'train', 'dev' or anything else = test) with ``num_train``/``num_dev``
    rows for the first two and the rest for test (120/15/15 by default) (book §4.5.2.1).

    ``dataset[i]`` is ``(features [4] float32, label 0-D int64)``, so a DataLoader batch is
    ``([B,4], [B])``. Features are chapter 3's ``load_data`` (min–max scaled on all 150 rows, as the book).
    Differs from the book, which calls ``load_data(shuffle=True)`` once per split so that the three
    splits come from three different permutations and overlap (13 of 15 test rows are also training
    rows with ``paddle.seed(12)``): here every split slices ONE permutation fixed by ``seed`` (a numpy
    generator, independent of Paddle's global RNG and of the device), so train/dev/test are disjoint and
    together hold all 150 rows. Labels are int64 (the book's int32 labels cannot be compared with an
    int64 argmax on Paddle 3.x). ``indices`` holds the split's row numbers in scikit-learn's order.
    """

    def __init__(self, mode="train", num_train=120, num_dev=15, seed=IRIS_SPLIT_SEED):
        super().__init__()
        X, y = load_data(shuffle=False)
        order = np.random.default_rng(seed).permutation(X.shape[0])
        if mode == "train":
            rows = order[:num_train]
        elif mode == "dev":
            rows = order[num_train:num_train + num_dev]
        else:
            rows = order[num_train + num_dev:]
        self.indices = rows
        index = paddle.to_tensor(rows, dtype="int64")
        self.X = paddle.gather(X, index)
        self.y = paddle.gather(y, index).astype("int64")

    def __getitem__(self, idx):
        return self.X[idx], self.y[idx]

    def __len__(self):
        return len(self.y)
