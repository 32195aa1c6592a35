"""Layer-wise gradient descent for operator-built networks (book §4.2.4.6)."""

from ..ch03.gradient_descent import Optimizer


class Optimizer_GD(Optimizer):
    """Gradient descent θ ← θ − α·∂R/∂θ over every layer of ``model.layers`` (book §4.2.4.6).

    Layers whose ``params`` is not a dict (activations, ``params = None``) are skipped; each parameter
    is replaced by a new tensor ``layer.params[key] − init_lr·layer.grads[key]``, as in the book. The
    book gives this class the same name as chapter 3's single-model ``Optimizer_GD``
    (``nndl_ref.ch03.Optimizer_GD``); its notebooks call this one ``BatchGD`` (exported as an alias).
    Differs from the book: a gradient that would change a parameter's shape by broadcasting raises
    ``ValueError`` (the [M_out] bias gradient of the book's ``Linear`` for a [1, M_out] bias is fine).
    """

    def __init__(self, init_lr, model):
        super().__init__(init_lr=init_lr, model=model)

    def step(self):
        for layer in self.model.layers:
            if not isinstance(layer.params, dict):
                continue
            for key in list(layer.params.keys()):
                updated = layer.params[key] - self.init_lr * layer.grads[key]
                if list(updated.shape) != list(layer.params[key].shape):
                    raise ValueError(f"{getattr(layer, 'name', layer)}: grads[{key!r}] has shape "
                                     f"{list(layer.grads[key].shape)}, params[{key!r}] has shape "
                                     f"{list(layer.params[key].shape)}")
                layer.params[key] = updated


BatchGD = Optimizer_GD
