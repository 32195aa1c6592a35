"""The multi-channel convolution layer of book §5.2.1.2 (eqs. 5.5, 5.2–5.4), the ``nndl`` ``Conv2D``."""

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .windows import kernel_windows


class Conv2D(nn.Layer):
    """Z^p = Σ_d W^{p,d} ⊗ X^d + b^p (eq. 5.5) for every output channel p, with stride S and zero padding P.

    ``Conv2D(in_channels, out_channels, kernel_size, stride=1, padding=0,
    weight_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(value=1.0)),
    bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(value=0.0)))`` as in §5.2.1.2, with
    the book's parameters ``weight`` [out_channels, in_channels, k, k] and ``bias`` [out_channels, 1].
    ``forward`` maps X [B, D, M, N] to [B, P, M', N'] with M' = (M + 2P − U)//S + 1 (eqs. 5.3–5.4, floor as
    in the book's code). ⊗ is cross-correlation (no kernel flip, §5.1.1). The activation stays outside.

    Differs from the book's code, not its result: instead of Python loops writing every output pixel
    into a ``paddle.zeros`` buffer, it gathers every window once (``kernel_windows``, im2col) and contracts
    channels and offsets in one matrix product, which autograd differentiates as well and is far faster.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 weight_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(value=1.0)),
                 bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(value=0.0))):
        super().__init__()
        self.weight = paddle.create_parameter(shape=[out_channels, in_channels, kernel_size, kernel_size],
                                              dtype="float32", attr=weight_attr)
        self.bias = paddle.create_parameter(shape=[out_channels, 1], dtype="float32", attr=bias_attr)
        self.stride, self.padding = stride, padding
        self.in_channels, self.out_channels = in_channels, out_channels

    def forward(self, inputs):
        """inputs [B, D, M, N] → [B, P, M', N']."""
        p = self.padding
        P, D, U, V = self.weight.shape
        padded = F.pad(inputs, [p, p, p, p]) if p else inputs
        rows = (padded.shape[2] - U) // self.stride + 1
        windows = kernel_windows(padded, U, V, self.stride).reshape([inputs.shape[0], D * U * V, -1])
        kernels = self.weight.reshape([P, D * U * V])
        if windows.shape[2] >= P:      # per image, [P, D·U·V] × [D·U·V, M'·N']
            out = paddle.matmul(kernels, windows)                                        # [B, P, M'·N']
        else:   # fewer pixels than kernels (deep layers, e.g. LeNet's 16→120 on 5×5): one product for the
            # whole batch, whose weight gradient is one product too, not a [B, P, D·U·V] sum over images
            out = paddle.matmul(windows.transpose([0, 2, 1]), kernels, transpose_y=True).transpose([0, 2, 1])
        # the bias [P, 1] added in this layout: its gradient, a sum over images and pixels, is much cheaper here
        return (out + self.bias).reshape([inputs.shape[0], P, rows, -1])
