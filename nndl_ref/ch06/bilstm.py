"""The bidirectional-LSTM sentiment classifier of the IMDB practice (book §6.4.2)."""

import paddle.nn as nn

from .sequence_pooling import AveragePooling


class Model_BiLSTM_FC(nn.Layer):
    """(ids [B, L], lengths [B]) → ``nn.Embedding(num_embeddings, input_size)`` → ``nn.LSTM(input_size,
    hidden_size, direction="bidirectional")`` with the lengths (padded steps give zeros, and the backward
    direction starts at each sequence's last real token) → ``AveragePooling`` over the real steps →
    ``nn.Linear(2·hidden_size, num_classes)`` logits (book §6.4.2)."""

    def __init__(self, num_embeddings, input_size, hidden_size, num_classes=2):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_classes = num_classes
        self.embedding_layer = nn.Embedding(num_embeddings, input_size)
        self.lstm_layer = nn.LSTM(input_size, hidden_size, direction="bidirectional")
        self.average_layer = AveragePooling()
        self.output_layer = nn.Linear(hidden_size * 2, num_classes)

    def forward(self, inputs):
        input_ids, sequence_length = inputs
        sequence_output, _ = self.lstm_layer(self.embedding_layer(input_ids), sequence_length=sequence_length)
        return self.output_layer(self.average_layer(sequence_output, sequence_length))
