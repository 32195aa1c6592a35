"""The pooling operator of book §5.2.2: max or average over windows, no padding.

The book's listing takes ``self.h, self.w = size`` but slides ``w`` along the height axis and ``h`` along
the width axis; here ``size = (height, width)`` as in ``paddle.nn.MaxPool2D``'s ``kernel_size``. The two
agree on the square windows the book uses (docs/errata/ch05.md).
"""

import paddle
import paddle.nn as nn

from .windows import kernel_windows


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
        B, C, size = x.shape[0], x.shape[1], self.h * self.w
        rows = (x.shape[2] - self.h) // self.stride + 1
        windows = kernel_windows(x, self.h, self.w, self.stride).reshape([B * C, size, -1])   # [B·C, h·w, H'·W']
        if self.mode == "max":   # the first maximum, picked by index: a tie's gradient goes to it, as in
            # nn.MaxPool2D (max's gradient would split it), and a scatter is far faster than max's gradient
            pooled = paddle.take_along_axis(windows, paddle.argmax(windows, axis=1, keepdim=True), axis=1)
        else:    # the mean as a product with a row of 1/(h·w): Paddle's matmul is faster than its mean here
            pooled = paddle.matmul(paddle.full([1, size], 1.0 / size, dtype=x.dtype), windows)
        return pooled.reshape([B, C, rows, -1])
