"""The classification metric ``accuracy`` (book §3.1.5)."""

import paddle

from .linear_classifiers import _class_ids, _column_labels


def accuracy(preds, labels):
    """Fraction of correct predictions A = (1/N)·1ᵀI(y = ŷ), a 0-D float32 tensor (book §3.1.5, eq. 3.10).

    ``preds`` [N,1] are probabilities of class 1 (predicted class 1 when ≥ 0.5); ``preds`` [N,C] with C > 1
    are class scores (argmax). Differs from the book: the printed function has no ``return`` (it returns
    None); labels may be [N] or [N,1] in both cases (the book's binary branch silently broadcasts [N]
    labels to an [N,N] comparison) and int32 or int64 (Paddle 3 refuses to compare the book's int32 argmax
    with int64 labels).
    """
    N = preds.shape[0]
    if preds.shape[1] == 1:
        predicted = paddle.cast(preds >= 0.5, dtype="float32")
        labels = _column_labels(labels, N, "float32")
    else:
        predicted = paddle.argmax(preds, axis=1)
        labels = _class_ids(labels, N)
    return paddle.mean(paddle.cast(predicted == labels, dtype="float32"))
