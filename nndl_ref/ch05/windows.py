"""The sliding windows that the chapter's convolution and pooling share (book §5.1.4, §5.2.2).

The book computes every output pixel in a Python loop. Output pixel (i, j) sees input pixel
(S·i + u, S·j + v) at kernel offset (u, v) (eq. 5.2), so all windows can be gathered at once, one column
per output pixel ("im2col", ``paddle.nn.functional.unfold``); a convolution is then one matrix product and
a pooling one reduction, with the same values and gradients as the book's loops.
"""

import paddle.nn.functional as F


def kernel_windows(x, height, width, stride):
    """x [B, C, M, N] → [B, C, height·width, M'·N']: entry [b, c, u·width + v, i·N' + j] is
    x[b, c, S·i + u, S·j + v], with M' = (M − height)//S + 1 and N' = (N − width)//S + 1 (eqs. 5.3–5.4)."""
    columns = F.unfold(x, [height, width], strides=stride)            # [B, C·height·width, M'·N'], C-major
    return columns.reshape([x.shape[0], x.shape[1], height * width, -1])
