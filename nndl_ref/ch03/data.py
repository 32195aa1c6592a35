"""Chapter-3 classification data: Moon1000 (``make_moons``), Multi1000 (``make_multiclass_classification``)
and Iris (``load_data``) (book §3.1.1, §3.2.1, §3.3.1).

The generators draw from Paddle's global RNG in the book's order, so ``paddle.seed(s)`` before a call
reproduces the book's data on the CPU (``paddle.seed(102)`` for Multi1000 and Iris; the book never seeds
Moon1000). Shuffling uses one gather instead of the book's per-row copy loop; the permutation is the same.
"""

import math

import numpy as np
import paddle


def make_moons(n_samples=1000, shuffle=True, noise=None):
    """Two interleaved half-moons: X [n_samples,2] float32 and y [n_samples] float32 in {0., 1.} (book §3.1.1).

    Class 0 is (cos t, sin t), class 1 is (1 − cos t, 0.5 − sin t), t evenly spaced on [0, π]; the first
    ``n_samples // 2`` points are class 0. Rows are shuffled (``paddle.randperm``) before Gaussian noise of
    standard deviation ``noise`` is added (``paddle.normal``), as in the book.
    """
    n_samples_out = n_samples // 2
    n_samples_in = n_samples - n_samples_out
    t_out = paddle.linspace(0, math.pi, n_samples_out)
    t_in = paddle.linspace(0, math.pi, n_samples_in)
    X = paddle.stack([paddle.concat([paddle.cos(t_out), 1 - paddle.cos(t_in)]),
                      paddle.concat([paddle.sin(t_out), 0.5 - paddle.sin(t_in)])], axis=1)
    y = paddle.concat([paddle.zeros(shape=[n_samples_out]), paddle.ones(shape=[n_samples_in])])
    if shuffle:
        idx = paddle.randperm(n_samples)
        X, y = paddle.gather(X, idx), paddle.gather(y, idx)
    if noise is not None:
        X = X + paddle.normal(mean=0.0, std=float(noise), shape=[n_samples, 2])
    return X, y


def _bit_vectors(codes, n_bits):
    """Rows of the low ``n_bits`` bits of each integer code, most significant first (the book's unpackbits)."""
    shifts = np.arange(n_bits - 1, -1, -1)
    return (np.asarray(codes, dtype=np.int64)[:, None] >> shifts) & 1


def make_multiclass_classification(n_samples=100, n_features=2, n_classes=3, shuffle=True, noise=0.1):
    """Gaussian clusters around corners of a cube, with label noise (book §3.2.1; the text calls it
    ``make_multiclass``).

    Returns X [n_samples, n_features] float32 and y [n_samples] **int32** (the book's docstring says
    [n_samples,1]; its code, and this one, give [n_samples]). Classes get ``n_samples // n_classes``
    samples each, the remainder spread round-robin; centroids are ``1.5·bits − 1`` of distinct random
    corners; class k's points are N(0, I)·A_k + centroid_k with A_k ~ U(−1, 1). A fraction ``noise`` of
    the labels is redrawn uniformly (possibly to the same class). Differs from the book: ``noise=None`` or
    0 means no label noise (the book's ``noise > 0.0`` crashes on None). Random draws follow the book's
    order (randperm, randn, rand per class, rand mask, randint per noisy sample, randperm), so
    ``paddle.seed(102)`` gives the book's Multi1000 on the CPU.
    """
    n_samples_per_class = [n_samples // n_classes] * n_classes
    for i in range(n_samples - sum(n_samples_per_class)):
        n_samples_per_class[i % n_classes] += 1

    codes = paddle.randperm(2 ** n_features)[:n_classes].numpy()
    centroids = 1.5 * paddle.to_tensor(_bit_vectors(codes, n_features), dtype="float32") - 1
    X = paddle.randn(shape=[n_samples, n_features])

    blocks, y = [], np.zeros([n_samples], dtype=np.int32)
    stop = 0
    for k in range(n_classes):
        start, stop = stop, stop + n_samples_per_class[k]
        y[start:stop] = k
        A = 2 * paddle.rand(shape=[n_features, n_features]) - 1
        blocks.append(paddle.matmul(X[start:stop], A) + centroids[k])
    X = paddle.concat(blocks, axis=0)

    if noise is not None and noise > 0.0:
        noise_mask = (paddle.rand([n_samples]) < noise).numpy()
        n_noisy = int(noise_mask.sum())
        if n_noisy:
            # One draw of n_noisy values = the book's n_noisy draws of one value, in index order.
            y[noise_mask] = paddle.randint(n_classes, shape=[n_noisy]).numpy().astype(np.int32)
    y = paddle.to_tensor(y, dtype="int32")

    if shuffle:
        idx = paddle.randperm(n_samples)
        X, y = paddle.gather(X, idx), paddle.gather(y, idx)
    return X, y


def load_data(shuffle=True):
    """Iris from scikit-learn (offline): X [150,4] float32 min–max scaled per feature to [0,1], y [150]
    int32 in {0: Setosa, 1: Versicolour, 2: Virginica} (book §3.3.1.2).

    As in the book, the scaling statistics come from all 150 rows (before the split), and ``shuffle``
    permutes rows with ``paddle.randperm`` (``paddle.seed(102)`` first gives the book's split).
    """
    from sklearn.datasets import load_iris

    iris = load_iris()
    X = paddle.to_tensor(np.asarray(iris.data, dtype=np.float32))
    y = paddle.to_tensor(np.asarray(iris.target, dtype=np.int32))
    X_min, X_max = paddle.min(X, axis=0), paddle.max(X, axis=0)
    X = (X - X_min) / (X_max - X_min)
    if shuffle:
        idx = paddle.randperm(X.shape[0])
        X, y = paddle.gather(X, idx), paddle.gather(y, idx)
    return X, y
