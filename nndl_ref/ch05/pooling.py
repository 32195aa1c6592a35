"""The pooling operator of book §5.2.2: max or average over windows, no padding.

The book's listing takes ``self.h, self.w = size`` but slides ``w`` along the height axis and ``h`` along
the width axis; here ``size = (height, width)`` as in ``paddle.nn.MaxPool2D``'s ``kernel_size``. The two
agree on the square windows the book uses (docs/errata/ch05.md).
"""

import paddle
import paddle.nn as nn


class Pool2D(nn.Layer):
    """2-D pooling (book §5.2.2): ``mode`` 'max' or 'avg' over ``size = (h, w)`` windows moved by ``stride``
    (1 by default, as in the book: overlapping windows). [B, C, H, W] → [B, C, (H−h)//S+1, (W−w)//S+1].
    """

    def __init__(self, size=(2, 2), mode="max", stride=1):
        super().__init__()
        if mode not in ("max", "avg"):
            raise ValueError(f"Pool2D mode must be 'max' or 'avg', not {mode!r}")
        self.mode = mode
        self.h, self.w = size
        self.stride = stride

    def forward(self, x):
        """x [B, C, H, W] → [B, C, H', W']."""
        S = self.stride
        rows, cols = (x.shape[2] - self.h) // S + 1, (x.shape[3] - self.w) // S + 1
        windows = paddle.stack([x[:, :, u:u + S * (rows - 1) + 1:S, v:v + S * (cols - 1) + 1:S]
                                for u in range(self.h) for v in range(self.w)], axis=-1)
        return windows.max(axis=-1) if self.mode == "max" else windows.mean(axis=-1)
