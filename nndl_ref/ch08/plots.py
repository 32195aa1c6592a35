"""Attention heatmaps of chapter 8 (figs. 8.6 and 8.19): one row of weights over a sentence's tokens, or
one query × key grid per head. Every function returns the matplotlib Figure and never calls
``plt.show()``; CJK tokens are drawn with a CJK font when one is installed."""

import matplotlib.pyplot as plt
from matplotlib import font_manager

from ..plotting import as_numpy

_CJK_FONTS = ("SimHei", "WenQuanYi Zen Hei", "Source Han Sans SC")


def _cjk_name(names):
    """A Chinese font among ``names``, simplified-Chinese (… SC) variants first."""
    chinese = [name for name in names if "CJK" in name or name in _CJK_FONTS]
    return min(chinese, key=lambda name: (not name.endswith(" SC"), name), default=None)


def _cjk_font():
    """An installed font with Chinese glyphs (Noto CJK, SimHei …), else None (matplotlib's default). A font
    installed after matplotlib built its font cache is registered from the system's font folders."""
    name = _cjk_name({font.name for font in font_manager.fontManager.ttflist})
    if name is None:
        for path in font_manager.findSystemFonts():
            if "CJK" in path or "simhei" in path.lower() or "wqy" in path.lower():
                font_manager.fontManager.addfont(path)
        name = _cjk_name({font.name for font in font_manager.fontManager.ttflist})
    return name


def _label_axes(ax, rows, columns, font):
    vertical = rows is not None or len(columns) > 12
    ax.set_xticks(range(len(columns)), columns, fontfamily=font, rotation=90 if vertical else 0)
    if rows is not None:
        ax.set_yticks(range(len(rows)), rows, fontfamily=font)


def plot_attention_weights(weights, tokens, title=None, fig_name=None, vmax=None):
    """Fig. 8.6: the weights [L] (or [1, L]) of one sentence over its ``tokens`` as a 1×L heatmap."""
    weights = as_numpy(weights).reshape(1, -1)
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(tokens)), 1.6))
    image = ax.imshow(weights[:, :len(tokens)], cmap="OrRd", vmin=0, vmax=vmax, aspect="auto")
    _label_axes(ax, None, list(tokens), _cjk_font())
    ax.set_yticks([])
    fig.colorbar(image, ax=ax)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    if fig_name:
        fig.savefig(fig_name)
    return fig


def plot_attention_heads(weights, tokens, title=None, fig_name=None, columns=4):
    """Fig. 8.19: one heatmap of query × key weights per head, each with its own colour scale (nearly
    uniform heads still show their pattern); ``weights`` [heads, L, L] of one sample."""
    weights = as_numpy(weights)
    heads = weights.shape[0]
    cols = min(columns, heads)
    rows = (heads + cols - 1) // cols
    size = max(3.0, 0.3 * len(tokens))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    font = _cjk_font()
    for head, ax in enumerate(axes.flat):
        if head >= heads:
            ax.axis("off")
            continue
        image = ax.imshow(weights[head, :len(tokens), :len(tokens)], cmap="OrRd")   # each head on its own scale
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        _label_axes(ax, list(tokens), list(tokens), font)
        ax.set_title(f"head {head}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if fig_name:
        fig.savefig(fig_name)
    return fig
