"""Layer operators with hand-written backward: ``Linear``, ``Logistic``, ``ReLU`` and the chapter-4
``BinaryCrossEntropyLoss`` that starts back-propagation (book §4.2.2, §4.2.3, §4.2.4.2–§4.2.4.4).

Samples are rows: an input has shape [N, M_in], ``W`` is [M_in, M_out] and ``b`` is [1, M_out] — the
transpose of the textbook's column notation (the book's notes in §4.2.2 and §4.2.4.4).
"""

import paddle

from ..ch01.op import Op


class Linear(Op):
    """The chapter-4 linear layer Z = X·W + b with parameter gradients (book §4.2.4.4, §4.2.2.1).

    ``params['W']`` = ``weight_init(shape=[input_size, output_size])`` (N(0,1) by default) and
    ``params['b']`` = ``bias_init(shape=[1, output_size])`` (zeros); ``name`` is required because
    ``RunnerV2_1`` names the saved file after it. ``backward(grads)`` takes δ_Z [N, M_out], fills
    ``grads['W']`` = Xᵀ·δ_Z (eq. 4.21) and ``grads['b']`` = 1ᵀ·δ_Z (eq. 4.22) and returns
    δ_X = δ_Z·Wᵀ (eq. 4.18). Differs from the book: ``grads['b']`` keeps the shape [1, M_out] of
    ``params['b']`` (the book's ``sum(axis=0)`` gives [M_out]; the update broadcasts the same way).
    Not the chapter-2 ``Linear`` (``nndl_ref.ch02.Linear``).
    """

    def __init__(self, input_size, output_size, name, weight_init=paddle.standard_normal,
                 bias_init=paddle.zeros):
        self.params = {
            "W": weight_init(shape=[input_size, output_size]),
            "b": bias_init(shape=[1, output_size]),
        }
        self.grads = {}
        self.inputs = None
        self.name = name

    def forward(self, inputs):
        self.inputs = inputs
        return paddle.matmul(inputs, self.params["W"]) + self.params["b"]

    def backward(self, grads):
        self.grads["W"] = paddle.matmul(self.inputs, grads, transpose_x=True)
        self.grads["b"] = paddle.sum(grads, axis=0, keepdim=True)
        return paddle.matmul(grads, self.params["W"], transpose_y=True)


class Logistic(Op):
    """The Logistic activation A = σ(Z) as an operator (book §4.2.4.3, §4.2.2.2).

    ``backward(outputs_grads)`` returns δ_Z = A ⊙ (1 − A) ⊙ δ_A (eq. 4.15) from the cached output.
    ``params`` is None (the first printed version lacks it, which breaks the layer-wise optimizer).
    """

    def __init__(self):
        self.inputs = None
        self.outputs = None
        self.params = None

    def forward(self, inputs):
        self.inputs = inputs
        self.outputs = 1.0 / (1.0 + paddle.exp(-inputs))
        return self.outputs

    def backward(self, outputs_grads):
        return outputs_grads * self.outputs * (1.0 - self.outputs)


class ReLU(Op):
    """The ReLU activation A = max(0, Z) as an operator with backward (book §4.2.4.3, 动手练习 4.2; the
    book prints its own answer in §7.6.2.1).

    ``backward(outputs_grads)`` returns δ_A ⊙ 1[Z > 0]; the derivative at exactly 0 is taken as 0, as
    the book's ``inputs > 0`` and Paddle's ``F.relu`` do. ``params`` is None.
    """

    def __init__(self):
        self.inputs = None
        self.outputs = None
        self.params = None

    def forward(self, inputs):
        self.inputs = inputs
        self.outputs = inputs * paddle.cast(inputs > 0, inputs.dtype)
        return self.outputs

    def backward(self, outputs_grads):
        return outputs_grads * paddle.cast(self.inputs > 0, outputs_grads.dtype)


class BinaryCrossEntropyLoss(Op):
    """Binary cross-entropy on probabilities that back-propagates into ``model`` (book §4.2.4.2, §4.2.3).

    ``loss_fn = BinaryCrossEntropyLoss(model)``; ``loss_fn(predicts, labels)`` with predicts [N,1]
    returns R = −(1/N)·Σ[y·log ŷ + (1−y)·log(1−ŷ)] (eq. 3.5), shape [1] as the book's squeeze of a
    [1,1] product. ``backward()`` computes ∂R/∂ŷ = −(1/N)(y ⊘ ŷ − (1−y) ⊘ (1−ŷ)) (eq. 4.10), shape of
    ``predicts``, passes it to ``model.backward`` and, unlike the book's, also returns it; ``model`` may
    be None (then backward only returns the gradient). Differs from the book: labels may be [N] or
    [N,1] and of any numeric dtype (reshaped to ``predicts`` and cast to its dtype; the book's matmul
    needs float [N,1]). Not chapter 3's forward-only ``BinaryCrossEntropyLoss()`` (``nndl_ref.ch03``),
    whose constructor takes no model. Like the book, no clipping: ŷ of exactly 0 or 1 gives inf/NaN.
    """

    def __init__(self, model=None):
        self.predicts = None
        self.labels = None
        self.num = None
        self.model = model

    def __call__(self, predicts, labels):
        return self.forward(predicts, labels)

    def forward(self, predicts, labels):
        if labels.size != predicts.size:
            raise ValueError(f"labels {list(labels.shape)} do not match predicts {list(predicts.shape)}")
        self.predicts = predicts
        self.labels = paddle.cast(labels, predicts.dtype).reshape(predicts.shape)
        self.num = predicts.shape[0]
        per_sample = self.labels * paddle.log(predicts) + (1.0 - self.labels) * paddle.log(1.0 - predicts)
        return -paddle.sum(per_sample).reshape([1]) / self.num

    def backward(self):
        if self.predicts is None:
            raise RuntimeError("BinaryCrossEntropyLoss.backward needs a forward pass first")
        inputs_grads = -(self.labels / self.predicts
                         - (1.0 - self.labels) / (1.0 - self.predicts)) / self.num
        if self.model is not None:
            self.model.backward(inputs_grads)
        return inputs_grads
