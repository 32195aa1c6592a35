"""Masked mean over time for padded batches (book §6.4.2, the ``AveragePooling`` layer of the BiLSTM
classifier; chapter 8 pools its attention outputs with it, §8.1).

The book compares ``paddle.arange(max_len)`` (int64) with float32 lengths, which Paddle 3 refuses (no
int/float type promotion); here the mask is built in the lengths' float dtype (docs/errata/ch06.md).
"""

import paddle
import paddle.nn as nn


class AveragePooling(nn.Layer):
    """Mean of each sequence over its first ``sequence_length[i]`` positions (book §6.4.2): padded positions
    are masked out, whatever they hold."""

    def forward(self, sequence_output, sequence_length):
        """sequence_output [B, L, H], sequence_length [B] (int or float) → [B, H]."""
        lengths = paddle.cast(sequence_length.reshape([-1, 1]), sequence_output.dtype)       # [B, 1]
        positions = paddle.arange(sequence_output.shape[1], dtype=sequence_output.dtype)     # [L]
        mask = paddle.cast(positions < lengths, sequence_output.dtype).unsqueeze(-1)         # [B, L, 1]
        return paddle.sum(sequence_output * mask, axis=1) / lengths
