"""Chapter-5 hidden checks catch known-wrong Conv2D layers and accept different correct ones (§5.2.1.2)."""

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
import pytest
from paddle.nn.functional import conv2d as aliased_conv2d

import nndl_ref.ch05 as ref
from hidden_cases import hidden_check_tests
from nndl_grading.checks import CheckFailure
from nndl_grading.hidden.ch05 import BOOK_DEMO, check_conv2d_by_hand, np_conv2d

REFERENCE_ENV = {name: getattr(ref, name) for name in ref.__all__}
FORWARD, BACKWARD, BY_HAND = "check_conv2d_forward", "check_conv2d_backward", "check_conv2d_by_hand"


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
              ("wraps nn.Conv2D", {"Conv2D": conv_wraps_nn_Conv2D})],
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


BUILTINS = (("calls F.conv2d", {"Conv2D": conv_calls_F_conv2d}), ("wraps nn.Conv2D", {"Conv2D": conv_wraps_nn_Conv2D}))
ALTERNATIVES = {FORWARD: _correct(*BUILTINS), BACKWARD: _correct(*BUILTINS), BY_HAND: _correct()}

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
