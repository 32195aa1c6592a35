"""The noisy two-moons data set of the initialisation experiment (book §7.4.2.3)."""

import paddle.io as io

from ..ch03.data import make_moons


class MoonsDataset(io.Dataset):
    """``make_moons(num_samples, noise=0.5)``: the first ``num_train`` samples for mode 'train', the rest
    otherwise (book §7.4.2.3). As in the book every instance draws its own moons, so the dev set is the
    tail of an independent draw. Differs from the book: labels are [N, 1] float32 (on Paddle 3.x a 0-D
    label batches to [B], which ``binary_cross_entropy_with_logits`` against [B, 1] logits rejects).
    """

    def __init__(self, mode="train", num_samples=300, num_train=200):
        super().__init__()
        X, y = make_moons(n_samples=num_samples, shuffle=True, noise=0.5)
        y = y.reshape([-1, 1])
        part = slice(None, num_train) if mode == "train" else slice(num_train, None)
        self.X, self.y = X[part], y[part]

    def __getitem__(self, idx):
        return self.X[idx], self.y[idx]

    def __len__(self):
        return len(self.y)
