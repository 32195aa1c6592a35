"""Per-layer gradient norms, the probe of the vanishing-gradient and dead-ReLU experiments (book §4.4.2.2)."""

import paddle


def print_grads(runner, verbose=True):
    """Print and return the L2 norm of each two-parameter sub-layer's WEIGHT gradient (book §4.4.2.2).

    Takes the runner (``RunnerV2_2``/``RunnerV3`` call ``custom_print_log(self)``) or the model itself.
    Returns a dict ``{layer.full_name(): norm}`` in layer order, input side first; a weight whose
    gradient is None (never reached by backward) counts as 0.0. Differs from the book: the printed
    version expects a model although the runner passes itself, and uses ``.numpy()[0]``, which fails
    on Paddle ≥ 2.5's 0-D results.
    """
    model = getattr(runner, "model", runner)
    norms = {}
    for layer in model.sublayers():
        parameters = layer.parameters(include_sublayers=False)
        if len(parameters) == 2:
            grad = parameters[0].grad
            norms[layer.full_name()] = 0.0 if grad is None else paddle.linalg.norm(grad).item()
    if verbose:
        print("The gradient of the Layers: ")
        for name, norm in norms.items():
            print(name, norm)
    return norms
