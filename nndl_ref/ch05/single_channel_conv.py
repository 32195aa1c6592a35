"""The single-channel convolution operator of book §5.1.2 and §5.1.4 (versions 1 and 2 of the book's
``Conv2D``): a batch of 2-D inputs [B, M, N] and one square kernel [U, V], with stride and zero padding.

The book's first version (§5.1.2, eq. (5.1)) is this operator with ``stride=1, padding=0``; only its
constructor differs (``Conv2D(kernel_size, weight_attr)``). The book fills a ``paddle.zeros`` buffer one
output pixel at a time; here ``kernel_windows`` (windows.py) gathers every window at once and one matrix
product weighs them, which gives the same values and gradients far faster.
"""

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .windows import kernel_windows


class Conv2D(nn.Layer):
    """Single-channel 2-D convolution (book §5.1.4, eqs. (5.2)–(5.4)): the output is
    [B, (M+2P−U)//S+1, (N+2P−V)//S+1] with y[i, j] = Σ_{u,v} w[u, v]·x[i·S+u, j·S+v] on the padded input.

    ``weight`` is the [kernel_size, kernel_size] parameter, initialised to ones as in the book.
    """

    def __init__(self, kernel_size, stride=1, padding=0,
                 weight_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(value=1.0))):
        super().__init__()
        self.weight = paddle.create_parameter(shape=[kernel_size, kernel_size], dtype="float32", attr=weight_attr)
        self.stride = stride
        self.padding = padding

    def forward(self, X):
        """X [B, M, N] → [B, M', N']."""
        P = self.padding
        padded = F.pad(X.unsqueeze(1), [P, P, P, P]).squeeze(1) if P else X
        U, V = self.weight.shape
        rows = (padded.shape[1] - U) // self.stride + 1
        windows = kernel_windows(padded.unsqueeze(1), U, V, self.stride)[:, 0]        # [B, U·V, M'·N']
        return paddle.matmul(self.weight.reshape([1, U * V]), windows).reshape([X.shape[0], rows, -1])
