"""Chapter-5 hidden checks catch known-wrong layers and accept different correct ones: the single-channel and
multi-channel Conv2D (§5.1.4, §5.2.1.2), Pool2D (§5.2.2), Model_LeNet (§5.3.2), ResBlock (§5.4.1) and the
Conv2DOp/Pool2DOp backward exercise."""

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest
from paddle.nn.functional import conv2d as aliased_conv2d

import nndl_ref.ch05 as ref
from hidden_cases import hidden_check_tests
from nndl_grading.checks import CheckFailure
from nndl_grading.config import load_course
from nndl_grading.fixtures.layers import LayerHarness
from nndl_grading.hidden import ch05 as hidden
from nndl_grading.hidden.ch05 import (BOOK_DEMO, CONV_BUILTINS, OP_FORBIDDEN, POOL_BUILTINS, POOL_BY_HAND_CASES,
                                      check_conv2d_by_hand, check_conv2d_op_backward, check_pool2d_op_backward,
                                      np_conv2d, np_pool2d, np_pool2d_backward)
from nndl_ref.ch05.single_channel_conv import Conv2D as SingleChannelConv2D



def kernel_windows(x, height, width, stride):
    """x [..., M, N] → [..., M', N', height·width] by strided slices (a window layout other than the reference's)."""
    rows, cols = (x.shape[-2] - height) // stride + 1, (x.shape[-1] - width) // stride + 1
    return paddle.stack([x[..., u:u + stride * (rows - 1) + 1:stride, v:v + stride * (cols - 1) + 1:stride]
                         for u in range(height) for v in range(width)], axis=-1)


def add_windows(window_grads, shape, height, width, stride):
    """The adjoint of this file's ``kernel_windows``: slice-wise additions into a zeros tensor of ``shape``."""
    rows, cols = window_grads.shape[-3], window_grads.shape[-2]
    total = paddle.zeros(shape, dtype=window_grads.dtype)
    for u in range(height):
        for v in range(width):
            total[..., u:u + stride * (rows - 1) + 1:stride, v:v + stride * (cols - 1) + 1:stride] += \
                window_grads[..., u * width + v]
    return total


REFERENCE_ENV = {**{name: getattr(ref, name) for name in ref.__all__}, "Conv2D_v2": SingleChannelConv2D}
FORWARD, BACKWARD, BY_HAND = "check_conv2d_forward", "check_conv2d_backward", "check_conv2d_by_hand"
SINGLE, SINGLE_BY_HAND = "check_single_conv_forward", "check_single_conv_by_hand"
POOL_MAX, POOL_AVG, POOL_BY_HAND = "check_pool2d_max", "check_pool2d_avg", "check_pool2d_by_hand"
POOL_NON_SQUARE = "check_pool2d_non_square_window"
LENET_STRUCTURE, LENET_FORWARD = "check_lenet_structure", "check_lenet_forward"
RES, PLAIN = "check_resblock_residual", "check_resblock_plain"
CONV_OP, POOL_OP = "check_conv2d_op_backward", "check_pool2d_op_backward"


class _Conv(ref.Conv2D):
    """The reference's parameters; forward = im2col (``F.unfold``, one matrix product) on ``pad(inputs)``,
    written as ``convolve(X_padded, weight, stride)`` so that a variant can change one step."""

    def convolve(self, padded, weight, s):
        P, D, U, V = weight.shape
        rows = (padded.shape[2] - U) // s + 1
        cols = F.unfold(padded, [U, V], strides=s)                                     # [B, D·U·V, M'·N']
        return paddle.matmul(weight.reshape([P, D * U * V]), cols).reshape([padded.shape[0], P, rows, -1])

    def pad(self, inputs):
        p = self.padding
        return F.pad(inputs, [p, p, p, p]) if p else inputs

    def forward(self, inputs):
        out = self.convolve(self.pad(inputs), self.weight, self.stride)
        return out + self.bias.reshape([1, -1, 1, 1])


# ============================================================================ known-wrong implementations
class conv_stub(ref.Conv2D):
    def forward(self, inputs):
        raise NotImplementedError


class conv_no_padding(_Conv):
    def pad(self, inputs):
        return inputs


class conv_transposed_kernel(_Conv):
    def forward(self, inputs):
        out = self.convolve(self.pad(inputs), self.weight.transpose([0, 1, 3, 2]), self.stride)
        return out + self.bias.reshape([1, -1, 1, 1])


class conv_flipped_kernel(_Conv):
    def forward(self, inputs):                    # true convolution, not the book's cross-correlation (§5.1.1)
        out = self.convolve(self.pad(inputs), paddle.flip(self.weight, [2, 3]), self.stride)
        return out + self.bias.reshape([1, -1, 1, 1])


class conv_stride_rows_only(_Conv):
    def convolve(self, padded, weight, s):        # strides down the rows, but every column
        full = super().convolve(padded, weight, 1)
        cols = (padded.shape[3] - weight.shape[3]) // s + 1
        return full[:, :, ::s, :cols]


class conv_bias_unshaped(_Conv):
    def forward(self, inputs):                    # [P, 1] broadcasts over (M', N'), not over the channels
        return self.convolve(self.pad(inputs), self.weight, self.stride) + self.bias


class conv_xavier_default(ref.Conv2D):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 weight_attr=paddle.ParamAttr(), bias_attr=paddle.ParamAttr()):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, weight_attr, bias_attr)


class conv_numpy_round_trip(ref.Conv2D):
    def forward(self, inputs):                    # right values, but no graph back to inputs or parameters
        return paddle.to_tensor(super().forward(inputs).numpy())


class conv_weight_detached(_Conv):
    def forward(self, inputs):
        out = self.convolve(self.pad(inputs), self.weight.detach(), self.stride)
        return out + self.bias.reshape([1, -1, 1, 1])


class conv_calls_F_conv2d(ref.Conv2D):
    def forward(self, inputs):
        return F.conv2d(inputs, self.weight, self.bias.reshape([-1]), stride=self.stride, padding=self.padding)


class conv_calls_aliased_conv2d(ref.Conv2D):
    def forward(self, inputs):                    # `from paddle.nn.functional import conv2d`
        return aliased_conv2d(inputs, self.weight, self.bias.reshape([-1]), stride=self.stride, padding=self.padding)


class conv_calls_F_conv3d(ref.Conv2D):
    def forward(self, inputs):                    # an exact 2-D convolution through a depth-1 3-D one
        s, p = self.stride, self.padding
        return F.conv3d(inputs.unsqueeze(2), self.weight.unsqueeze(2), self.bias.reshape([-1]), stride=(1, s, s),
                        padding=(0, p, p)).squeeze(2)


class conv_wraps_nn_Conv2D(nn.Layer):
    """Parameters conv.weight [P, D, k, k] and conv.bias [P] of a built-in layer."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2D(in_channels, out_channels, kernel_size, stride, padding,
                              weight_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(1.0)),
                              bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(0.0)))

    def forward(self, inputs):
        return self.conv(inputs)


WRONG_VARIANTS = {
    FORWARD: [("stub", {"Conv2D": conv_stub}), ("no padding", {"Conv2D": conv_no_padding}),
              ("transposed kernel", {"Conv2D": conv_transposed_kernel}),
              ("flipped kernel (convolution)", {"Conv2D": conv_flipped_kernel}),
              ("stride on rows only", {"Conv2D": conv_stride_rows_only}),
              ("[P,1] bias added unshaped", {"Conv2D": conv_bias_unshaped}),
              ("Xavier default init", {"Conv2D": conv_xavier_default})],
    BACKWARD: [("stub", {"Conv2D": conv_stub}), ("no padding", {"Conv2D": conv_no_padding}),
               ("flipped kernel (convolution)", {"Conv2D": conv_flipped_kernel}),
               ("numpy round trip", {"Conv2D": conv_numpy_round_trip}),
               ("weight detached", {"Conv2D": conv_weight_detached})],
    BY_HAND: [("stub", {"Conv2D": conv_stub}), ("no padding", {"Conv2D": conv_no_padding}),
              ("calls F.conv2d", {"Conv2D": conv_calls_F_conv2d}),
              ("calls conv2d imported by name", {"Conv2D": conv_calls_aliased_conv2d}),
              ("wraps nn.Conv2D", {"Conv2D": conv_wraps_nn_Conv2D}),
              ("calls F.conv3d", {"Conv2D": conv_calls_F_conv3d})],
}


# ============================================================================ different correct implementations
class conv_book_loops(ref.Conv2D):
    """The book's structure (§5.2.1.2): per output channel, per input channel, a zeros buffer filled pixel by
    pixel, summed over input channels with ``paddle.stack``, channels stacked on axis 1."""

    def single(self, X, weight):
        p, s = self.padding, self.stride
        padded = paddle.zeros([X.shape[0], X.shape[1] + 2 * p, X.shape[2] + 2 * p])
        padded[:, p:p + X.shape[1], p:p + X.shape[2]] = X
        U, V = weight.shape
        out = paddle.zeros([X.shape[0], (padded.shape[1] - U) // s + 1, (padded.shape[2] - V) // s + 1])
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                out[:, i, j] = paddle.sum(padded[:, s * i:s * i + U, s * j:s * j + V] * weight, axis=[1, 2])
        return out

    def forward(self, inputs):
        maps = []
        for weight, bias in zip(self.weight, self.bias):
            per_channel = [self.single(inputs[:, d], weight[d]) for d in range(self.in_channels)]
            maps.append(paddle.sum(paddle.stack(per_channel), axis=0) + bias)
        return paddle.stack(maps, axis=1)


class conv_concat_pixels(ref.Conv2D):
    """Zero padding by ``paddle.concat`` with zero blocks; each output pixel a sum over (d, u, v); rows and
    columns assembled by ``paddle.concat``."""

    def forward(self, inputs):
        p, s, (P, D, U, V) = self.padding, self.stride, self.weight.shape
        B, _, M, N = inputs.shape
        if p:
            side = paddle.zeros([B, D, M, p])
            inputs = paddle.concat([side, inputs, side], axis=3)
            cap = paddle.zeros([B, D, p, N + 2 * p])
            inputs = paddle.concat([cap, inputs, cap], axis=2)
        rows = []
        for i in range((inputs.shape[2] - U) // s + 1):
            pixels = [paddle.sum(inputs[:, None, :, s * i:s * i + U, s * j:s * j + V] * self.weight[None],
                                 axis=[2, 3, 4]).reshape([B, P, 1, 1])
                      for j in range((inputs.shape[3] - V) // s + 1)]
            rows.append(paddle.concat(pixels, axis=3))
        return paddle.concat(rows, axis=2) + self.bias.reshape([1, P, 1, 1])


class conv_float64_inside(_Conv):
    def forward(self, inputs):
        out = self.convolve(self.pad(inputs.astype("float64")), self.weight.astype("float64"), self.stride)
        return (out + self.bias.astype("float64").reshape([1, -1, 1, 1])).astype("float32")


class conv_bias_vector(_Conv):
    """bias created as [P] (the built-in's shape) instead of the book's [P, 1]."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, **attrs):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, **attrs)
        self.bias = paddle.create_parameter(shape=[out_channels], dtype="float32",
                                            attr=paddle.ParamAttr(initializer=nn.initializer.Constant(0.0)))


def _correct(*extra):
    return [("book loops into a zeros buffer", {"Conv2D": conv_book_loops}),
            ("concat per pixel", {"Conv2D": conv_concat_pixels}), ("im2col (unfold)", {"Conv2D": _Conv}),
            ("float64 inside", {"Conv2D": conv_float64_inside}), ("bias [P]", {"Conv2D": conv_bias_vector}), *extra]


BUILTINS = (("calls F.conv2d", {"Conv2D": conv_calls_F_conv2d}), ("wraps nn.Conv2D", {"Conv2D": conv_wraps_nn_Conv2D}),
            ("calls F.conv3d", {"Conv2D": conv_calls_F_conv3d}))
ALTERNATIVES = {FORWARD: _correct(*BUILTINS), BACKWARD: _correct(*BUILTINS), BY_HAND: _correct()}


# ============================================================================ single-channel Conv2D (§5.1.4)
class single_stub(SingleChannelConv2D):
    def forward(self, X):
        raise NotImplementedError


class single_book_loops(SingleChannelConv2D):
    """The book's §5.1.4 code: a padded zeros buffer, then every output pixel in a loop."""

    def forward(self, X):
        p, s = self.padding, self.stride
        padded = paddle.zeros([X.shape[0], X.shape[1] + 2 * p, X.shape[2] + 2 * p])
        padded[:, p:p + X.shape[1], p:p + X.shape[2]] = X
        u, v = self.weight.shape
        out = paddle.zeros([X.shape[0], (padded.shape[1] - u) // s + 1, (padded.shape[2] - v) // s + 1])
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                out[:, i, j] = paddle.sum(padded[:, s * i:s * i + u, s * j:s * j + v] * self.weight, axis=[1, 2])
        return out


class single_unfold(SingleChannelConv2D):
    def forward(self, X):
        U, V = self.weight.shape
        p, s = self.padding, self.stride
        rows = (X.shape[1] + 2 * p - U) // s + 1
        cols = F.unfold(X.unsqueeze(1), [U, V], strides=s, paddings=p)              # [B, U·V, M'·N']
        return paddle.matmul(self.weight.reshape([1, U * V]), cols).reshape([X.shape[0], rows, -1])


class single_float64(SingleChannelConv2D):
    def forward(self, X):
        p = self.padding
        X = F.pad(X.astype("float64").unsqueeze(1), [p, p, p, p]).squeeze(1)
        windows = kernel_windows(X, *self.weight.shape, self.stride)
        return paddle.matmul(windows, self.weight.astype("float64").reshape([-1])).astype("float32")


class single_off_by_one(single_book_loops):
    def forward(self, X):                         # M' = (M + 2P − U)//S, one row and column short
        return super().forward(X)[:, :-1, :-1]


class single_pad_one_side(SingleChannelConv2D):
    def forward(self, X):                         # zeros only before the image, none after it
        p = self.padding
        if p:
            X = F.pad(X.unsqueeze(1), [p, 0, p, 0]).squeeze(1)
        U, V = self.weight.shape
        return paddle.matmul(kernel_windows(X, U, V, self.stride), self.weight.reshape([-1]))


class single_stride_on_window(SingleChannelConv2D):
    def forward(self, X):                         # window x[S·i : S·i + S·U : S] instead of x[S·i : S·i + U]
        p, s = self.padding, self.stride
        X = F.pad(X.unsqueeze(1), [p] * 4).squeeze(1) if p else X
        U, V = self.weight.shape
        rows, cols = (X.shape[1] - U) // s + 1, (X.shape[2] - V) // s + 1
        X = F.pad(X.unsqueeze(1), [0, s * V, 0, s * U]).squeeze(1)
        out = 0
        for u in range(U):
            for v in range(V):
                out = out + X[:, s * u:s * u + s * (rows - 1) + 1:s, s * v:s * v + s * (cols - 1) + 1:s] * self.weight[u, v]
        return out


class single_calls_F_conv2d(SingleChannelConv2D):
    def forward(self, X):
        return F.conv2d(X.unsqueeze(1), self.weight[None, None], stride=self.stride, padding=self.padding).squeeze(1)


class single_calls_F_conv3d(SingleChannelConv2D):
    def forward(self, X):
        s, p = self.stride, self.padding
        return F.conv3d(X[:, None, None], self.weight[None, None, None], stride=(1, s, s), padding=(0, p, p))[:, 0, 0]


# ============================================================================ Pool2D (§5.2.2)
class pool_stub(ref.Pool2D):
    def forward(self, x):
        raise NotImplementedError


class pool_book_loops(ref.Pool2D):
    """The book's loops, with size = (h, w) read the right way round."""

    def forward(self, x):
        s, h, w = self.stride, self.h, self.w
        out = paddle.zeros([x.shape[0], x.shape[1], (x.shape[2] - h) // s + 1, (x.shape[3] - w) // s + 1])
        reduce = paddle.max if self.mode == "max" else paddle.mean
        for i in range(out.shape[2]):
            for j in range(out.shape[3]):
                out[:, :, i, j] = reduce(x[:, :, s * i:s * i + h, s * j:s * j + w], axis=[2, 3])
        return out


class pool_unfold(ref.Pool2D):
    def forward(self, x):
        B, C, H, W = x.shape
        rows = (H - self.h) // self.stride + 1
        cols = F.unfold(x.reshape([B * C, 1, H, W]), [self.h, self.w], strides=self.stride)   # [BC, h·w, L]
        pooled = cols.max(axis=1) if self.mode == "max" else cols.mean(axis=1)
        return pooled.reshape([B, C, rows, -1])


class pool_float64(ref.Pool2D):
    def forward(self, x):
        return super().forward(x.astype("float64")).astype("float32")


class pool_book_swapped_hw(pool_book_loops):
    def forward(self, x):                         # the printed code: w slides along the height, h along the width
        self.h, self.w = self.w, self.h
        try:
            return super().forward(x)
        finally:
            self.h, self.w = self.w, self.h


class pool_avg_sums(ref.Pool2D):
    def forward(self, x):
        out = super().forward(x)
        return out * (self.h * self.w) if self.mode == "avg" else out


class pool_stride_one(ref.Pool2D):
    def forward(self, x):                         # ignores stride
        return kernel_windows(x, self.h, self.w, 1).max(-1) if self.mode == "max" else \
            kernel_windows(x, self.h, self.w, 1).mean(-1)


class pool_off_by_one(pool_book_loops):
    def forward(self, x):
        return super().forward(x)[:, :, :-1, :-1]


class pool_always_max(ref.Pool2D):
    def forward(self, x):
        return kernel_windows(x, self.h, self.w, self.stride).max(-1)


class pool_builtins(ref.Pool2D):
    def forward(self, x):
        pool = F.max_pool2d if self.mode == "max" else F.avg_pool2d
        return pool(x, (self.h, self.w), self.stride)


class pool_calls_3d_pooling(ref.Pool2D):
    def forward(self, x):                         # exact: a depth-1 window of the 3-D built-ins
        pool = F.max_pool3d if self.mode == "max" else F.avg_pool3d
        return pool(x.unsqueeze(2), (1, self.h, self.w), (1, self.stride, self.stride)).squeeze(2)


class pool_adaptive(ref.Pool2D):
    def forward(self, x):                         # right only where the windows tile the input (finding 2)
        size = ((x.shape[2] - self.h) // self.stride + 1, (x.shape[3] - self.w) // self.stride + 1)
        pool = F.adaptive_max_pool2d if self.mode == "max" else F.adaptive_avg_pool2d
        return pool(x, size)


class pool_lp_sum(ref.Pool2D):
    def forward(self, x):                         # average = F.lp_pool2d with p = 1 (the window sum) / (h·w)
        if self.mode == "max":
            return super().forward(x)
        return F.lp_pool2d(x, 1, (self.h, self.w), self.stride) / (self.h * self.w)


# ============================================================================ Model_LeNet (§5.3.2)
class lenet_stub(ref.Model_LeNet):
    def forward(self, x):
        raise NotImplementedError


class lenet_relu_after_conv3(ref.Model_LeNet):
    def forward(self, x):                         # the companion notebook's placement, not the book's code
        out = self.pool2(F.relu(self.conv2(self.pool1(F.relu(self.conv1(x))))))
        out = F.relu(self.conv3(out)).reshape([x.shape[0], -1])
        return self.linear2(F.relu(self.linear1(out)))


class lenet_avg_then_max(ref.Model_LeNet):
    def __init__(self, in_channels, num_classes=10):
        super().__init__(in_channels, num_classes)
        self.pool1, self.pool2 = self.pool2, self.pool1


class lenet_no_relu_linear1(ref.Model_LeNet):
    def forward(self, x):
        out = self.pool2(F.relu(self.conv2(self.pool1(F.relu(self.conv1(x))))))
        return self.linear2(self.linear1(self.conv3(out).reshape([x.shape[0], -1])))


class lenet_wrong_width(ref.Model_LeNet):
    def __init__(self, in_channels, num_classes=10):
        super().__init__(in_channels, num_classes)
        self.linear1 = nn.Linear(120, 64)
        self.linear2 = nn.Linear(64, num_classes)


class lenet_upstream_names(nn.Layer):
    """The companion notebook's attribute names (conv1/pool2/conv3/pool4/conv5/linear6/linear7), the book's
    layers and activations, flattening by squeeze."""

    def __init__(self, in_channels, num_classes=10):
        super().__init__()
        self.conv1 = Conv2D(in_channels=in_channels, out_channels=6, kernel_size=5, weight_attr=paddle.ParamAttr())
        self.pool2 = Pool2D(size=(2, 2), mode="max", stride=2)
        self.conv3 = Conv2D(in_channels=6, out_channels=16, kernel_size=5, weight_attr=paddle.ParamAttr())
        self.pool4 = Pool2D(size=(2, 2), mode="avg", stride=2)
        self.conv5 = Conv2D(in_channels=16, out_channels=120, kernel_size=5, weight_attr=paddle.ParamAttr())
        self.linear6 = nn.Linear(120, 84)
        self.linear7 = nn.Linear(84, num_classes)

    def forward(self, x):
        out = self.pool4(F.relu(self.conv3(self.pool2(F.relu(self.conv1(x))))))
        out = paddle.squeeze(self.conv5(out), axis=[2, 3])
        return self.linear7(F.relu(self.linear6(out)))


Conv2D, Pool2D = ref.Conv2D, ref.Pool2D          # what lenet_upstream_names's constructor looks up


class lenet_broken_conv(ref.Conv2D):
    def forward(self, inputs):
        raise NotImplementedError


# ============================================================================ ResBlock (§5.4.1)
class res_stub(ref.ResBlock):
    def forward(self, inputs):
        raise NotImplementedError


class res_no_final_relu(ref.ResBlock):
    def forward(self, inputs):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(inputs)))))
        if self.use_residual:
            y = y + (inputs if self.shortcut else self.short(inputs))
        return y


class res_relu_before_add(ref.ResBlock):
    def forward(self, inputs):
        y = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(inputs))))))
        if self.use_residual:
            y = y + (inputs if self.shortcut else self.short(inputs))
        return y


class res_ignores_use_residual(ref.ResBlock):
    def forward(self, inputs):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(inputs)))))
        return F.relu(y + (inputs if self.shortcut else self.short(inputs)))


class res_never_adds(ref.ResBlock):
    def forward(self, inputs):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(inputs))))))


class res_no_bn1(ref.ResBlock):
    def forward(self, inputs):
        y = self.bn2(self.conv2(F.relu(self.conv1(inputs))))
        if self.use_residual:
            y = y + (inputs if self.shortcut else self.short(inputs))
        return F.relu(y)


class res_paddle_add(ref.ResBlock):
    """The book's own lines: paddle.add(x=short, y=y) inside ``if self.use_residual``."""

    def forward(self, inputs):
        y = F.relu(self.bn1(self.conv1(inputs)))
        y = self.bn2(self.conv2(y))
        if self.use_residual:
            short = inputs if self.shortcut else self.short(inputs)
            y = paddle.add(x=short, y=y)
        return F.relu(y)


# ============================================================================ Conv2DOp / Pool2DOp
class op_stub(ref.Conv2DOp):
    def backward(self, grads):
        raise NotImplementedError


class op_bias_mean(ref.Conv2DOp):
    def backward(self, grads):
        dX = super().backward(grads)
        self.grads["b"] = self.grads["b"] / grads.shape[0]
        return dX


class op_no_crop(ref.Conv2DOp):
    def backward(self, grads):                    # forgets to cut the padding off δ_X: wrong shape
        p = self.padding
        self.padding = 0
        try:
            self.inputs = F.pad(self.inputs, [p] * 4) if p else self.inputs
            return super().backward(grads)
        finally:
            self.padding = p


class op_flipped_dx(ref.Conv2DOp):
    def backward(self, grads):
        dX = super().backward(grads)
        return paddle.flip(dX, [2, 3])


class op_first_inputs(ref.Conv2DOp):
    def forward(self, inputs):                    # caches only the first input it ever sees
        if self.inputs is None:
            self.inputs = inputs
        cached = self.inputs
        out = super().forward(inputs)
        self.inputs = cached
        return out


class op_autograd(ref.Conv2DOp):
    """backward by autograd on a float64 copy of the forward: right values, but the TODO rules it out."""

    def backward(self, grads):
        x = self.inputs.astype("float64").detach()
        x.stop_gradient = False
        W = self.params["W"].astype("float64").detach()
        W.stop_gradient = False
        b = self.params["b"].astype("float64").detach()
        b.stop_gradient = False
        out = F.conv2d(x, W, b.reshape([-1]), stride=self.stride, padding=self.padding)
        dx, dW, db = paddle.grad([out], [x, W, b], [grads.astype("float64")])
        self.grads["W"], self.grads["b"] = dW.astype("float32"), db.reshape([-1]).astype("float32")
        return dx.astype("float32")


class op_loops(ref.Conv2DOp):
    """δ_X by a loop over output pixels (the book's style), parameter gradients by loops too."""

    def backward(self, grads):
        p, s, W = self.padding, self.stride, self.params["W"]
        P, D, U, V = W.shape
        padded = F.pad(self.inputs, [p] * 4) if p else self.inputs
        dpad = paddle.zeros(padded.shape)
        dW = paddle.zeros(W.shape)
        for i in range(grads.shape[2]):
            for j in range(grads.shape[3]):
                g = grads[:, :, i, j]                                             # [B, P]
                window = padded[:, :, s * i:s * i + U, s * j:s * j + V]           # [B, D, U, V]
                dpad[:, :, s * i:s * i + U, s * j:s * j + V] += paddle.einsum("bp,pduv->bduv", g, W)
                dW += paddle.einsum("bp,bduv->pduv", g, window)
        self.grads["W"], self.grads["b"] = dW, grads.sum(axis=[0, 2, 3])
        return dpad[:, :, p:p + self.inputs.shape[2], p:p + self.inputs.shape[3]]


class op_numpy_float64(ref.Conv2DOp):
    """backward in float64 numpy: a loop over the kernel offsets (u, v), each a strided slice of the padded
    input, then back to float32 tensors; bias gradient [P, 1]."""

    def backward(self, grads):
        p, s = self.padding, self.stride
        X = np.pad(self.inputs.numpy().astype(np.float64), ((0, 0), (0, 0), (p, p), (p, p)))
        W, G = self.params["W"].numpy().astype(np.float64), grads.numpy().astype(np.float64)
        rows, cols = G.shape[2], G.shape[3]
        dX, dW = np.zeros_like(X), np.zeros_like(W)
        for u in range(W.shape[2]):
            for v in range(W.shape[3]):
                pixels = (slice(None), slice(None), slice(u, u + s * (rows - 1) + 1, s),
                          slice(v, v + s * (cols - 1) + 1, s))
                dW[:, :, u, v] = np.einsum("bpij,bdij->pd", G, X[pixels])
                dX[pixels] += np.einsum("bpij,pd->bdij", G, W[:, :, u, v])
        M, N = self.inputs.shape[2], self.inputs.shape[3]
        self.grads["W"] = paddle.to_tensor(dW.astype(np.float32))
        self.grads["b"] = paddle.to_tensor(G.sum(axis=(0, 2, 3)).reshape(-1, 1).astype(np.float32))
        return paddle.to_tensor(dX[:, :, p:p + M, p:p + N].astype(np.float32))


class op_forward_F_conv2d(ref.Conv2DOp):
    def forward(self, inputs):                    # hand-written backward, but the forward calls the built-in
        self.inputs = inputs
        return F.conv2d(inputs, self.params["W"], self.params["b"].reshape([-1]), stride=self.stride,
                        padding=self.padding)


class pool_op_stub(ref.Pool2DOp):
    def backward(self, grads):
        raise NotImplementedError


class pool_op_last_tie(ref.Pool2DOp):
    def backward(self, grads):                    # ties: the LAST maximum in row-major order gets the gradient
        if self.mode == "avg":
            return super().backward(grads)
        windows = kernel_windows(self.inputs, self.h, self.w, self.stride)
        size = self.h * self.w
        last = size - 1 - paddle.argmax(paddle.flip(windows, [-1]), axis=-1)
        routed = grads.unsqueeze(-1) * F.one_hot(last, size).astype(grads.dtype)
        return add_windows(routed, self.inputs.shape, self.h, self.w, self.stride)


class pool_op_all_ties(ref.Pool2DOp):
    def backward(self, grads):                    # every tied maximum gets the whole gradient
        if self.mode == "avg":
            return super().backward(grads)
        windows = kernel_windows(self.inputs, self.h, self.w, self.stride)
        routed = grads.unsqueeze(-1) * (windows == windows.max(-1, keepdim=True)).astype(grads.dtype)
        return add_windows(routed, self.inputs.shape, self.h, self.w, self.stride)


class pool_op_avg_sum(ref.Pool2DOp):
    def backward(self, grads):
        dX = super().backward(grads)
        return dX * (self.h * self.w) if self.mode == "avg" else dX


class pool_op_no_overlap_sum(ref.Pool2DOp):
    def backward(self, grads):                    # writes instead of adding: overlapping windows overwrite
        size = self.h * self.w
        windows = kernel_windows(self.inputs, self.h, self.w, self.stride)
        if self.mode == "avg":
            routed = grads.unsqueeze(-1).expand(grads.shape + [size]) / size
        else:
            routed = grads.unsqueeze(-1) * F.one_hot(paddle.argmax(windows, -1), size).astype(grads.dtype)
        dX = paddle.zeros(self.inputs.shape)
        rows, cols = grads.shape[2], grads.shape[3]
        s = self.stride
        for u in range(self.h):
            for v in range(self.w):
                dX[:, :, u:u + s * (rows - 1) + 1:s, v:v + s * (cols - 1) + 1:s] = routed[..., u * self.w + v]
        return dX


class pool_op_numpy_loops(ref.Pool2DOp):
    """numpy loops inside backward (no autograd involved), converted back to a tensor."""

    def backward(self, grads):
        return paddle.to_tensor(np_pool2d_backward(self.inputs.numpy(), grads.numpy(), (self.h, self.w),
                                                   self.stride, self.mode).astype("float32"))


class pool_op_autograd(ref.Pool2DOp):
    def backward(self, grads):                    # Tensor.backward through the built-in: right values, ruled out
        x = self.inputs.detach()
        x.stop_gradient = False
        pool = F.max_pool2d if self.mode == "max" else F.avg_pool2d
        (pool(x, (self.h, self.w), self.stride) * grads).sum().backward()
        return x.grad


WRONG_VARIANTS.update({
    SINGLE: [("stub", {"Conv2D_v2": single_stub}), ("off-by-one output size", {"Conv2D_v2": single_off_by_one}),
             ("padding on one side", {"Conv2D_v2": single_pad_one_side}),
             ("stride applied to the window", {"Conv2D_v2": single_stride_on_window})],
    SINGLE_BY_HAND: [("stub", {"Conv2D_v2": single_stub}), ("calls F.conv2d", {"Conv2D_v2": single_calls_F_conv2d}),
                     ("calls F.conv3d", {"Conv2D_v2": single_calls_F_conv3d})],
    POOL_MAX: [("stub", {"Pool2D": pool_stub}), ("ignores stride", {"Pool2D": pool_stride_one}),
               ("off-by-one", {"Pool2D": pool_off_by_one})],
    POOL_AVG: [("stub", {"Pool2D": pool_stub}), ("avg that sums", {"Pool2D": pool_avg_sums}),
               ("always max", {"Pool2D": pool_always_max})],
    POOL_NON_SQUARE: [("stub", {"Pool2D": pool_stub}), ("book's swapped h/w", {"Pool2D": pool_book_swapped_hw}),
                      ("avg that sums", {"Pool2D": pool_avg_sums})],
    POOL_BY_HAND: [("stub", {"Pool2D": pool_stub}), ("calls the built-ins", {"Pool2D": pool_builtins}),
                   ("calls the 3-D built-ins", {"Pool2D": pool_calls_3d_pooling}),
                   ("adaptive pooling", {"Pool2D": pool_adaptive}),
                   ("F.lp_pool2d for the average", {"Pool2D": pool_lp_sum})],
    LENET_STRUCTURE: [("stub", {"Model_LeNet": lenet_stub}), ("84 → 64 hidden units", {"Model_LeNet": lenet_wrong_width})],
    LENET_FORWARD: [("stub", {"Model_LeNet": lenet_stub}), ("ReLU after conv3", {"Model_LeNet": lenet_relu_after_conv3}),
                    ("avg pooling first, max second", {"Model_LeNet": lenet_avg_then_max}),
                    ("no ReLU after linear1", {"Model_LeNet": lenet_no_relu_linear1})],
    RES: [("stub", {"ResBlock": res_stub}), ("no final ReLU", {"ResBlock": res_no_final_relu}),
          ("ReLU before the addition", {"ResBlock": res_relu_before_add}), ("never adds", {"ResBlock": res_never_adds}),
          ("no bn1", {"ResBlock": res_no_bn1})],
    PLAIN: [("stub", {"ResBlock": res_stub}), ("adds despite use_residual=False", {"ResBlock": res_ignores_use_residual}),
            ("no final ReLU", {"ResBlock": res_no_final_relu})],
    CONV_OP: [("stub", {"Conv2DOp": op_stub}), ("bias gradient averaged", {"Conv2DOp": op_bias_mean}),
              ("δ_X padding not cropped", {"Conv2DOp": op_no_crop}), ("δ_X flipped", {"Conv2DOp": op_flipped_dx}),
              ("caches the first input", {"Conv2DOp": op_first_inputs}),
              ("backward by paddle.grad through F.conv2d", {"Conv2DOp": op_autograd}),
              ("forward calls F.conv2d", {"Conv2DOp": op_forward_F_conv2d})],
    POOL_OP: [("stub", {"Pool2DOp": pool_op_stub}), ("ties to the last maximum", {"Pool2DOp": pool_op_last_tie}),
              ("ties to every maximum", {"Pool2DOp": pool_op_all_ties}), ("avg gradient summed", {"Pool2DOp": pool_op_avg_sum}),
              ("overlapping windows overwrite", {"Pool2DOp": pool_op_no_overlap_sum}),
              ("backward by Tensor.backward through the built-in", {"Pool2DOp": pool_op_autograd})],
})
SINGLE_CORRECT = [("book loops", {"Conv2D_v2": single_book_loops}), ("unfold", {"Conv2D_v2": single_unfold}),
                  ("float64 inside", {"Conv2D_v2": single_float64})]
POOL_CORRECT = [("book loops (h/w fixed)", {"Pool2D": pool_book_loops}), ("unfold", {"Pool2D": pool_unfold}),
                ("float64 inside", {"Pool2D": pool_float64})]
POOL_BUILTIN_CALLS = [("built-ins", {"Pool2D": pool_builtins}), ("3-D built-ins", {"Pool2D": pool_calls_3d_pooling}),
                      ("F.lp_pool2d for the average", {"Pool2D": pool_lp_sum})]
ALTERNATIVES.update({
    SINGLE: SINGLE_CORRECT + [("calls F.conv2d", {"Conv2D_v2": single_calls_F_conv2d}),
                              ("calls F.conv3d", {"Conv2D_v2": single_calls_F_conv3d})],
    SINGLE_BY_HAND: SINGLE_CORRECT,
    POOL_MAX: POOL_CORRECT + POOL_BUILTIN_CALLS, POOL_AVG: POOL_CORRECT + POOL_BUILTIN_CALLS,
    POOL_NON_SQUARE: POOL_CORRECT + POOL_BUILTIN_CALLS, POOL_BY_HAND: POOL_CORRECT,
    LENET_STRUCTURE: [("companion notebook's names", {"Model_LeNet": lenet_upstream_names}),
                      ("student's Conv2D broken (another question)", {"Conv2D": lenet_broken_conv})],
    LENET_FORWARD: [("companion notebook's names", {"Model_LeNet": lenet_upstream_names}),
                    ("student's Conv2D/Pool2D broken (other questions)", {"Conv2D": lenet_broken_conv, "Pool2D": pool_stub})],
    RES: [("book's paddle.add", {"ResBlock": res_paddle_add})], PLAIN: [("book's paddle.add", {"ResBlock": res_paddle_add})],
    CONV_OP: [("numpy in float64", {"Conv2DOp": op_numpy_float64}), ("loops, bias [P]", {"Conv2DOp": op_loops})],
    POOL_OP: [("numpy loops", {"Pool2DOp": pool_op_numpy_loops})],
})

hidden_check_tests("ch05", globals())


def test_by_hand_failure_names_the_rule_and_the_builtin():
    with pytest.raises(CheckFailure, match=r"by hand.*paddle\.nn\.Conv2D.*§5\.2\.1\.2"):
        check_conv2d_by_hand({"Conv2D": conv_wraps_nn_Conv2D})


def test_by_hand_takes_the_question_s_forbidden_list():
    check_conv2d_by_hand({"Conv2D": _Conv}, forbidden=["paddle.nn.functional.conv2d"])
    with pytest.raises(CheckFailure, match=r"paddle\.nn\.functional\.unfold"):
        check_conv2d_by_hand({"Conv2D": _Conv}, forbidden=["paddle.nn.functional.unfold"])


def test_numeric_conv_matches_the_book_demo():
    """The check's own float64 oracle reproduces §5.2.1.2's printed output (weights 1, bias 0)."""
    out = np_conv2d(np.array(BOOK_DEMO), np.ones((3, 2, 2, 2)), np.zeros((3, 1)), 1, 0)
    np.testing.assert_allclose(out, np.tile([[20.0, 28.0], [44.0, 52.0]], (1, 3, 1, 1)))


def test_pool_backward_oracle_routes_ties_to_the_first_maximum():
    """The numpy oracle's tie rule agrees with paddle.nn.MaxPool2D's autograd (first maximum, row-major)."""
    X = np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]])
    x = paddle.to_tensor(X, stop_gradient=False)
    F.max_pool2d(x, 2, 1).sum().backward()
    np.testing.assert_array_equal(np_pool2d_backward(X, np.ones((1, 1, 2, 2)), (2, 2), 1, "max"), x.grad.numpy())


def test_hidden_defaults_are_grading_yml_s_forbidden_lists():
    """The suite runs the checks with their default ``forbidden``: it must be the question's list in grading.yml."""
    questions = {q.name: q for q in load_course().chapter(5).questions}
    for question, default in (("q1_conv2d_v2", CONV_BUILTINS), ("q2_conv2d", CONV_BUILTINS),
                              ("q3_pool2d", POOL_BUILTINS), ("q6_conv_pool_ops", OP_FORBIDDEN)):
        assert sorted(questions[question].forbidden) == sorted(default), question


def test_book_swapped_hw_loses_only_the_non_square_check():
    """The book's printed Pool2D (h and w swapped) agrees on square windows: of q3's checks it fails only the
    one with non-square windows."""
    env = {**REFERENCE_ENV, "Pool2D": pool_book_swapped_hw}
    failed = []
    for check in next(q for q in load_course().chapter(5).questions if q.name == "q3_pool2d").hidden:
        try:
            getattr(hidden, check)(env)
        except CheckFailure:
            failed.append(check)
    assert failed == [POOL_NON_SQUARE]


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_watch_sees_adaptive_pooling_even_where_its_windows_tile(mode):
    """On a 6×7 input, adaptive pooling to 3×3 IS (2, 3)-window stride-2 pooling: the forbidden list, not the
    values, catches it there; on the by-hand check's own cases its windows differ, so the values catch it too."""
    X = np.random.default_rng(0).normal(size=(1, 2, 6, 7)).astype(np.float32)
    harness = LayerHarness(pool_adaptive, (), {"size": (2, 3), "mode": mode, "stride": 2}, POOL_BUILTINS)
    np.testing.assert_allclose(harness.forward((X,)), np_pool2d(X, (2, 3), 2, mode), rtol=1e-6, atol=1e-6)
    assert harness.forbidden_calls() == [f"paddle.nn.functional.adaptive_{mode}_pool2d"]
    for size, stride, shape in POOL_BY_HAND_CASES:
        X = np.random.default_rng(1).normal(size=(1, 2, *shape)).astype(np.float32)
        out = LayerHarness(pool_adaptive, (), {"size": size, "mode": mode, "stride": stride}).forward((X,))
        assert not np.allclose(out, np_pool2d(X, size, stride, mode), atol=1e-3)


@pytest.mark.parametrize("check,overrides,builtin", [
    (check_conv2d_op_backward, {"Conv2DOp": op_autograd}, r"paddle\.grad"),
    (check_pool2d_op_backward, {"Pool2DOp": pool_op_autograd}, r"paddle\.Tensor\.backward")])
def test_op_backward_by_autograd_fails_on_the_rule_alone(check, overrides, builtin):
    """Right values, so it is the watch (the TODO's no-autograd rule) that fails it, naming what was called."""
    with pytest.raises(CheckFailure, match=f"derive the backward by hand.*{builtin}"):
        check({**REFERENCE_ENV, **overrides})
