"""The operator base class ``Op`` (book §1.3.1)."""


class Op:
    """An operator with a hand-written forward and backward (book §1.3.1).

    ``forward`` computes the outputs and caches what ``backward`` needs; ``backward`` receives the
    gradient of the final output w.r.t. this operator's outputs and returns the gradient w.r.t. its
    inputs. The book's ``__call__`` takes one argument; this one forwards any arguments so that
    two-input operators need not override it.
    """

    def __call__(self, *inputs, **kwargs):
        return self.forward(*inputs, **kwargs)

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, outputs_grads):
        raise NotImplementedError
