"""The optimizer base class ``Optimizer`` and whole-batch gradient descent ``Optimizer_GD`` for
single-layer models with ``params``/``grads`` dicts (book §3.1.4.2–§3.1.4.3)."""

from abc import ABC, abstractmethod


class Optimizer(ABC):
    """Base class of the book's hand-written optimizers: holds ``init_lr`` and ``model`` (book §3.1.4.2).

    Differs from the book: it derives from ``abc.ABC``, so ``step`` is really abstract (the book's
    ``@abstractmethod`` on a plain ``object`` subclass has no effect and the base class can be built).
    """

    def __init__(self, init_lr, model):
        self.init_lr = init_lr
        self.model = model

    @abstractmethod
    def step(self):
        """Update the model's parameters once from its gradients."""


class Optimizer_GD(Optimizer):
    """Gradient descent θ ← θ − α·∂R/∂θ over ``model.params`` using ``model.grads`` (book §3.1.4.3, eqs. 3.8–3.9).

    Each parameter is replaced by a new tensor, as in the book. The book's notebooks call this class
    ``SimpleBatchGD``; chapter 4 defines a layer-wise ``Optimizer_GD`` of its own. Differs from the book:
    a gradient whose shape would change the parameter's shape by broadcasting raises ``ValueError``
    (a 0-D or [1] bias gradient for a [1] bias is fine).
    """

    def __init__(self, init_lr, model):
        super().__init__(init_lr=init_lr, model=model)

    def step(self):
        params, grads = self.model.params, self.model.grads
        for key in list(params.keys()):
            updated = params[key] - self.init_lr * grads[key]
            if list(updated.shape) != list(params[key].shape):
                raise ValueError(f"grads[{key!r}] has shape {list(grads[key].shape)}, "
                                 f"params[{key!r}] has shape {list(params[key].shape)}")
            params[key] = updated


SimpleBatchGD = Optimizer_GD
