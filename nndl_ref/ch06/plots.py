"""Plots of chapter 6: gradient norms per step (figs. 6.8–6.9) and accuracy against sequence length for
the SRN and the LSTM (figs. 6.7, 6.12). Every function returns the matplotlib Figure and never calls
``plt.show()``; the training curves are chapter 4's ``plot_training_loss_acc``."""

import matplotlib.pyplot as plt


def _finish(fig, fig_name):
    fig.tight_layout()
    if fig_name:
        fig.savefig(fig_name)
    return fig


def plot_grad(W_list, U_list, b_list, fig_name=None, keep_steps=40, title=None):
    """The L2 norms of the SRN's W, U and b gradients over the first ``keep_steps`` steps (book §6.2,
    figs. 6.8–6.9; the lists of a ``GradNormLogger``)."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for values, label, style in ((W_list, "W_grad_l2", "-"), (U_list, "U_grad_l2", "--"), (b_list, "b_grad_l2", ":")):
        values = list(values)[:keep_steps]
        ax.plot(range(len(values)), values, linestyle=style, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("L2 norm of the gradient")
    if title:
        ax.set_title(title)
    ax.legend()
    return _finish(fig, fig_name)


def plot_accuracy_by_length(scores_by_model, fig_name=None, title=None):
    """Test accuracy against sequence length, one line per model (book figs. 6.7 and 6.12):
    ``scores_by_model`` maps a label ('SRN', 'LSTM') to ``{length: accuracy}``."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, scores in scores_by_model.items():
        lengths = sorted(scores)
        ax.plot(lengths, [scores[n] for n in lengths], marker="o", label=label)
    ax.set_xlabel("sequence length")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    if title:
        ax.set_title(title)
    ax.legend()
    return _finish(fig, fig_name)
