"""The single-channel convolution operator of book §5.1.2 and §5.1.4 (versions 1 and 2 of the book's
``Conv2D``): a batch of 2-D inputs [B, M, N] and one square kernel [U, V], with stride and zero padding.

The book's first version (§5.1.2, eq. (5.1)) is this operator with ``stride=1, padding=0``; only its
constructor differs (``Conv2D(kernel_size, weight_attr)``). The book fills a ``paddle.zeros`` buffer one
output pixel at a time; here each of the U·V kernel taps adds one strided slice of the padded input, which
gives the same values and gradients in U·V vectorised steps.
"""

import paddle
import paddle.nn as nn


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
        P, S = self.padding, self.stride
        if P:
            X = paddle.nn.functional.pad(X.unsqueeze(1), [P, P, P, P]).squeeze(1)
        U, V = self.weight.shape
        rows, cols = (X.shape[1] - U) // S + 1, (X.shape[2] - V) // S + 1
        output = 0
        for u in range(U):
            for v in range(V):
                window = X[:, u:u + S * (rows - 1) + 1:S, v:v + S * (cols - 1) + 1:S]
                output = output + window * self.weight[u, v]
        return output
