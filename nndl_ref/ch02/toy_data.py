"""Toy regression data: ``create_toy_data``, ``linear_func`` and ``sin`` (book §2.2.1, §2.3.1)."""

import math

import paddle


def linear_func(x, w=1.2, b=0.5):
    """The true function of ToyLinear150: y = w·x + b (book §2.2.1.2)."""
    return w * x + b


def sin(x):
    """The true function of ToySin25: y = sin(2πx) (book §2.3.1)."""
    return paddle.sin(2 * math.pi * x)


def create_toy_data(func, interval, sample_num, noise=0.0, add_outlier=False, outlier_ratio=0.001):
    """Sample ``sample_num`` points x ~ U(interval) and y = func(x) + N(0, noise²) (book §2.2.1.1).

    Returns 1-D tensors ``X, y`` of shape [sample_num] (the book's docstring says [N,1]; its code gives
    [N]). With ``add_outlier``, ``int(N·outlier_ratio)`` labels drawn with replacement are multiplied by 5.
    Random draws happen in the book's order (rand, normal, randint), so ``paddle.seed`` reproduces them.
    """
    low, high = interval
    X = paddle.rand(shape=[sample_num]) * (high - low) + low
    y = func(X)
    y = y + paddle.normal(0.0, float(noise), shape=[sample_num])
    if add_outlier:
        outlier_num = int(sample_num * outlier_ratio)
        if outlier_num:
            outlier_idx = paddle.randint(sample_num, shape=[outlier_num])
            y[outlier_idx] = y[outlier_idx] * 5
    return X, y
