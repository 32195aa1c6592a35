"""The streaming ``Accuracy`` metric for mini-batch evaluation (book §4.5.4.1)."""

import paddle
from paddle.metric import Metric


class Accuracy(Metric):
    """Accuracy accumulated over batches: ``update`` per batch, ``accumulate`` for the total (book §4.5.4.1).

    ``update(outputs, labels)``: outputs [N, C] (C > 1) are classified by argmax; outputs [N, 1] are
    binary, class 1 when the output is ≥ 0 if ``is_logist`` (logits) else ≥ 0.5 (probabilities).
    ``accumulate()`` returns correct/count as a Python float (0 before any update), ``reset()`` clears
    the counts, ``name()`` is "Accuracy". Differs from the book: labels may be [N] or [N,1] and int32,
    int64 or float (the book compares int64 predictions with int32 labels and calls
    ``.numpy()[0]`` on a 0-D sum, both errors on Paddle 3.x).
    """

    def __init__(self, is_logist=True):
        super().__init__()
        self.num_correct = 0
        self.num_count = 0
        self.is_logist = is_logist

    def update(self, outputs, labels):
        if outputs.shape[1] == 1:
            scores = outputs.reshape([-1])
            threshold = 0.0 if self.is_logist else 0.5
            preds = paddle.cast(scores >= threshold, "int64")
        else:
            preds = paddle.argmax(outputs, axis=1).astype("int64")
        labels = paddle.cast(labels.reshape([-1]), "int64")
        if labels.shape[0] != preds.shape[0]:
            raise ValueError(f"{preds.shape[0]} predictions but {labels.shape[0]} labels")
        self.num_correct += int(paddle.sum(paddle.cast(preds == labels, "int64")).item())
        self.num_count += labels.shape[0]

    def accumulate(self):
        if self.num_count == 0:
            return 0
        return self.num_correct / self.num_count

    def reset(self):
        self.num_correct = 0
        self.num_count = 0

    def name(self):
        return "Accuracy"
