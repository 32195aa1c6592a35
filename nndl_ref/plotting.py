"""What the chapters' plotting functions share (kit infrastructure, not in the book)."""

import numpy as np


def as_numpy(values):
    """A numpy array of a Paddle tensor, a numpy array or a nested list, for matplotlib."""
    return np.asarray(values.numpy() if hasattr(values, "numpy") else values)
