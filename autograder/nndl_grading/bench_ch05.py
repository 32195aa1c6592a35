"""Chapter-5 speed ratios for ``make bench`` (issue 11): forward+backward of the reference ``Conv2D`` and
``Pool2D`` (book §5.2.1.2, §5.2.2) against ``paddle.nn.Conv2D`` / ``MaxPool2D`` / ``AvgPool2D`` at the LeNet
shapes with batch 64, and the reference ``Model_LeNet`` against the Paddle-API ``Paddle_LeNet``; goals
within 2× (layers) and 3× (LeNet). Run alone: ``python -m nndl_grading.bench_ch05``.
"""

import time

import numpy as np
import paddle
import paddle.nn as nn

from nndl_ref import ch05 as ref

BATCH = 64
REPEATS = 50
WARM_UP = 3
# (label, ours, the built-in, input shape) at the shapes LeNet feeds them (§5.3.2)
CASES = (
    ("Conv2D 1→6, k5, 32×32", lambda: ref.Conv2D(1, 6, 5, weight_attr=paddle.ParamAttr()), lambda: nn.Conv2D(1, 6, 5),
     [BATCH, 1, 32, 32]),
    ("Conv2D 6→16, k5, 14×14", lambda: ref.Conv2D(6, 16, 5, weight_attr=paddle.ParamAttr()), lambda: nn.Conv2D(6, 16, 5),
     [BATCH, 6, 14, 14]),
    ("Conv2D 16→120, k5, 5×5", lambda: ref.Conv2D(16, 120, 5, weight_attr=paddle.ParamAttr()),
     lambda: nn.Conv2D(16, 120, 5), [BATCH, 16, 5, 5]),
    ("Pool2D max 2×2/2, 6×28×28", lambda: ref.Pool2D((2, 2), "max", 2), lambda: nn.MaxPool2D(2, 2), [BATCH, 6, 28, 28]),
    ("Pool2D avg 2×2/2, 16×10×10", lambda: ref.Pool2D((2, 2), "avg", 2), lambda: nn.AvgPool2D(2, 2),
     [BATCH, 16, 10, 10]),
    ("LeNet (Model_LeNet vs Paddle_LeNet)", lambda: ref.Model_LeNet(1, 10), lambda: ref.Paddle_LeNet(1, 10),
     [BATCH, 1, 32, 32]),
)
GOALS = {"LeNet": 3.0}


def forward_backward(layer, shape):
    """A function that runs one forward and backward (sum of the output) of ``layer`` on a fixed input of
    ``shape`` and returns its wall time."""
    x = paddle.to_tensor(np.random.default_rng(0).normal(size=shape).astype("float32"), stop_gradient=False)

    def run():
        started = time.perf_counter()
        layer(x).sum().backward()
        return time.perf_counter() - started
    return run


def side_by_side(ours, theirs, repeats=REPEATS):
    """The best wall times of ``ours`` and ``theirs`` run alternately (after a warm-up): on a shared
    machine the fastest of many runs is the one least slowed by other load, for both alike."""
    for _ in range(WARM_UP):
        ours(), theirs()
    mine, builtin = zip(*((ours(), theirs()) for _ in range(repeats)))
    return min(mine), min(builtin)


def ratios():
    """[(label, ours in s, built-in in s, ratio, goal)] for every case, measured side by side."""
    rows = []
    for label, ours, builtin, shape in CASES:
        mine, theirs = side_by_side(forward_backward(ours(), shape), forward_backward(builtin(), shape))
        goal = GOALS.get(label.split()[0], 2.0)
        rows.append((label, mine, theirs, mine / theirs, goal))
    return rows


def markdown(rows):
    """The table for docs/benchmarks.md."""
    lines = ["| chapter-5 forward+backward, batch 64 | reference | Paddle built-in | ratio | goal |",
             "|---|---|---|---|---|"]
    lines += [f"| {label} | {mine * 1e3:.2f} ms | {theirs * 1e3:.2f} ms | {ratio:.2f}× | ≤ {goal:g}× |"
              for label, mine, theirs, ratio, goal in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(ratios()))
