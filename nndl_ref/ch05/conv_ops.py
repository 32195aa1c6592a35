"""Convolution and pooling as chapter-4-style operators with a hand-written backward (kit exercise beyond
the book: from §5.2 on the book lets autograd differentiate its ``nn.Layer``s, so it has no such code).

``Conv2DOp`` and ``Pool2DOp`` compute what the chapter's ``Conv2D`` (§5.2.1.2) and ``Pool2D`` (§5.2.2)
compute, but follow the ``Op`` protocol of §1.3.1 and §4.2.4: ``params``/``grads`` dicts, ``forward``
caching its input, ``backward(grads)`` taking ∂R/∂output and returning ∂R/∂input. Since output pixel
(i, j) reads input pixel (S·i + u, S·j + v) at kernel offset (u, v) (eq. 5.2), backward sends every
window's gradient back to the pixels it read (``add_windows``, the adjoint of ``kernel_windows``).
"""

import paddle
import paddle.nn.functional as F

from ..ch01.op import Op
from .windows import kernel_windows


def add_windows(window_grads, shape, height, width, stride):
    """The adjoint of ``kernel_windows`` (§5.2.1.2): window_grads [B, C, height·width, M'·N'] → a tensor of
    ``shape`` [B, C, M, N] in which every window's entries are added back to the pixels they came from
    (overlapping windows add up; pixels no window covers, past the floor of eq. 5.3, get 0)."""
    B, C, M, N = shape
    grads = window_grads.reshape([B * C, height * width, -1])
    return F.fold(grads, [M, N], [height, width], strides=stride).reshape([B, C, M, N])


class Conv2DOp(Op):
    """Multi-channel convolution Z = W ⊗ X + b (§5.2.1.2, eq. 5.5, stride S, zero padding P) with backward.

    ``params['W']`` = ``weight_init(shape=[out_channels, in_channels, k, k])`` (ones by default, as the
    book's ``Conv2D``) and ``params['b']`` = ``bias_init(shape=[out_channels, 1])`` (zeros).
    ``backward(grads)`` takes δ_Z [B, P, M', N'] and fills, summed over the batch,
    ``grads['W']``[p, d, u, v] = Σ_{b,i,j} δ_Z[b, p, i, j]·X_pad[b, d, S·i + u, S·j + v] and
    ``grads['b']``[p, 0] = Σ_{b,i,j} δ_Z[b, p, i, j]; it returns δ_X [B, D, M, N]: every
    δ_Z[b, p, i, j]·W[p, d, u, v] added to pixel (S·i + u − P, S·j + v − P), padding cropped.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 weight_init=paddle.ones, bias_init=paddle.zeros):
        self.params = {"W": weight_init(shape=[out_channels, in_channels, kernel_size, kernel_size]),
                       "b": bias_init(shape=[out_channels, 1])}
        self.grads = {}
        self.stride, self.padding = stride, padding
        self.inputs = None

    def forward(self, inputs):
        """inputs [B, D, M, N] → [B, P, M', N'] (eqs. 5.3–5.5); caches the input."""
        self.inputs = inputs
        out, _ = self._columns_product(inputs)
        return out + self.params["b"].reshape([1, -1, 1, 1])

    def _columns_product(self, inputs):
        """(W ⊗ padded inputs without the bias [B, P, M', N'], the windows [B, D·U·V, M'·N'])."""
        p, W = self.padding, self.params["W"]
        P, D, U, V = W.shape
        padded = F.pad(inputs, [p, p, p, p]) if p else inputs
        rows = (padded.shape[2] - U) // self.stride + 1
        windows = kernel_windows(padded, U, V, self.stride).reshape([inputs.shape[0], D * U * V, -1])
        out = paddle.matmul(W.reshape([P, D * U * V]), windows)
        return out.reshape([inputs.shape[0], P, rows, -1]), windows

    def backward(self, grads):
        """grads δ_Z [B, P, M', N'] → δ_X [B, D, M, N]; fills ``self.grads['W']`` and ``self.grads['b']``."""
        p, W = self.padding, self.params["W"]
        P, D, U, V = W.shape
        B, _, M, N = self.inputs.shape
        _, windows = self._columns_product(self.inputs)                        # [B, D·U·V, M'·N']
        flat = grads.reshape([B, P, -1])                                          # [B, P, M'·N']
        self.grads["W"] = paddle.einsum("bpl,bkl->pk", flat, windows).reshape([P, D, U, V])
        self.grads["b"] = grads.sum(axis=[0, 2, 3]).reshape([P, 1])
        window_grads = paddle.matmul(W.reshape([P, D * U * V]), flat, transpose_x=True)
        padded_shape = [B, D, M + 2 * p, N + 2 * p]
        padded_grad = add_windows(window_grads.reshape([B, D, U * V, -1]), padded_shape, U, V, self.stride)
        return padded_grad[:, :, p:p + M, p:p + N]


class Pool2DOp(Op):
    """Max or average pooling (§5.2.2; ``size = (h, w)``, ``stride``, no padding) with backward.

    ``backward(grads)`` takes δ_Y [B, C, H', W'] and returns δ_X [B, C, H, W]. Average pooling gives every
    pixel of a window δ_Y/(h·w); max pooling gives the whole δ_Y to the window's maximum — on a tie, to the
    FIRST maximal pixel of the window in row-major order (what ``paddle.argmax`` picks, and where
    ``paddle.nn.MaxPool2D``'s autograd sends it). Overlapping windows (stride < size) add up.
    """

    def __init__(self, size=(2, 2), mode="max", stride=1):
        if mode not in ("max", "avg"):
            raise ValueError(f"Pool2DOp mode must be 'max' or 'avg', not {mode!r}")
        self.mode = mode
        self.h, self.w = size
        self.stride = stride
        self.params = None
        self.inputs = None

    def forward(self, inputs):
        """inputs [B, C, H, W] → [B, C, (H−h)//S+1, (W−w)//S+1]; caches the input."""
        self.inputs = inputs
        rows = (inputs.shape[2] - self.h) // self.stride + 1
        windows = kernel_windows(inputs, self.h, self.w, self.stride)              # [B, C, h·w, H'·W']
        pooled = windows.max(axis=2) if self.mode == "max" else windows.mean(axis=2)
        return pooled.reshape([inputs.shape[0], inputs.shape[1], rows, -1])

    def backward(self, grads):
        """grads δ_Y [B, C, H', W'] → δ_X [B, C, H, W]."""
        size = self.h * self.w
        flat = grads.reshape([grads.shape[0], grads.shape[1], 1, -1])                  # [B, C, 1, H'·W']
        if self.mode == "avg":
            window_grads = flat.expand([flat.shape[0], flat.shape[1], size, flat.shape[3]]) / size
        else:
            windows = kernel_windows(self.inputs, self.h, self.w, self.stride)
            first_max = F.one_hot(paddle.argmax(windows, axis=2), size).transpose([0, 1, 3, 2])
            window_grads = flat * first_max.astype(grads.dtype)
        return add_windows(window_grads, self.inputs.shape, self.h, self.w, self.stride)
