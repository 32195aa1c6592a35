"""Gradient norms and gradient clipping for the gradient-explosion experiment (book §6.2): the book's
``custom_print_log`` printer, a logger that records the norms for figs. 6.8–6.9, and clipping by norm
(eq. 6.6) per tensor — what the book's ``nn.ClipGradByNorm`` does — and over all gradients together
(``nn.ClipGradByGlobalNorm``)."""

import paddle
from paddle.nn.clip import ClipGradBase

RECURRENT_PARAMETERS = ("model.W", "model.U", "model.b")   # the SRN's names inside Model_RNN4SeqClass


def grad_norms(model, names=RECURRENT_PARAMETERS):
    """``{name: ‖∂R/∂name‖₂}`` (Frobenius norm of the whole gradient; 0.0 while it is None) for the named
    parameters of ``model`` (book §6.2.1)."""
    params = dict(model.named_parameters())
    return {name: 0.0 if params[name].grad is None else paddle.linalg.norm(params[name].grad).item()
            for name in names}


def custom_print_log(runner):
    """Print the gradient norms of the SRN's W, U and b as the book's §6.2.1 callback (RunnerV3 calls it
    after ``backward`` and before ``optimizer.step()``, so it sees unclipped gradients); returns them."""
    W, U, b = grad_norms(runner.model).values()
    print(f"[Training] W_grad_l2: {W:.5f}, U_grad_l2: {U:.5f}, b_grad_l2: {b:.5f}")
    return W, U, b


class GradNormLogger:
    """A ``custom_print_log`` that also records the norms in ``W_list``, ``U_list``, ``b_list`` (the lists
    the companion notebook plots as figs. 6.8–6.9); ``verbose=False`` records without printing."""

    def __init__(self, verbose=True):
        self.verbose = verbose
        self.W_list, self.U_list, self.b_list = [], [], []

    def __call__(self, runner):
        norms = custom_print_log(runner) if self.verbose else tuple(grad_norms(runner.model).values())
        for records, norm in zip((self.W_list, self.U_list, self.b_list), norms):
            records.append(norm)


def clip_grad_by_norm(grad, clip_norm):
    """Eq. (6.6) on one gradient tensor: ``grad`` if ‖grad‖₂ ≤ ``clip_norm``, else rescaled to norm
    ``clip_norm`` (book §6.2.3; ``nn.ClipGradByNorm`` applies it to each parameter separately)."""
    norm = paddle.linalg.norm(grad)
    return grad * (clip_norm / paddle.maximum(norm, paddle.full_like(norm, clip_norm)))


def clip_grad_by_global_norm(grads, clip_norm):
    """Eq. (6.6) with g all gradients together: every tensor of the list ``grads`` scaled by
    ``clip_norm / max(‖g‖₂, clip_norm)``, ‖g‖₂ = sqrt(Σ ‖g_i‖₂²) (book §6.2.3; ``nn.ClipGradByGlobalNorm``)."""
    global_norm = paddle.sqrt(sum(paddle.sum(paddle.square(grad)) for grad in grads))
    scale = clip_norm / paddle.maximum(global_norm, paddle.full_like(global_norm, clip_norm))
    return [grad * scale for grad in grads]


class ClipGradByNormByHand(ClipGradBase):
    """An optimizer's ``grad_clip`` that applies ``clip_grad_by_norm`` to each gradient (``global_norm=True``:
    ``clip_grad_by_global_norm`` to all of them), the hand-written counterpart of ``nn.ClipGradByNorm``."""

    def __init__(self, clip_norm, global_norm=False):
        super().__init__()
        self.clip_norm = clip_norm
        self.global_norm = global_norm

    def _dygraph_clip(self, params_grads):
        present = [(param, grad) for param, grad in params_grads if grad is not None]
        if self.global_norm:
            clipped = clip_grad_by_global_norm([grad for _, grad in present], self.clip_norm)
        else:
            clipped = [clip_grad_by_norm(grad, self.clip_norm) for _, grad in present]
        return [(param, grad) for (param, _), grad in zip(present, clipped)]
