"""The embedding layer of the digit-sum model (book §6.1.2.1): a trainable table looked up by index."""

import paddle
import paddle.nn as nn


class Embedding(nn.Layer):
    """``W [num_embeddings, embedding_dim]`` (default Xavier init, as the book's ``create_parameter``);
    ``forward`` maps ids ``[...]`` to rows ``[..., embedding_dim]`` — eq. (6.3)'s one-hot product X = S′E
    done as a lookup (book §6.1.2.1)."""

    def __init__(self, num_embeddings, embedding_dim, para_attr=None):
        super().__init__()
        self.W = paddle.create_parameter(shape=[num_embeddings, embedding_dim], dtype="float32", attr=para_attr)

    def forward(self, inputs):
        """inputs: int ids of any shape → their rows of ``W``."""
        return self.W[inputs]
