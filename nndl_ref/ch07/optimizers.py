"""The chapter's hand-written optimizers (book §7.3.2–§7.3.3, §7.6.4; exercise 7.4 and AdamW beyond the book).

``Adagrad``, ``RMSprop``, ``Momentum``, ``Adam``, ``Adadelta`` and ``AdamW`` update the parameters of a
single-operator model (``model.params``/``model.grads``: ``OptimizedFunction``, ``OptimizedFunction3D``),
as the book's do; ``Minibatch_GD`` with weight decay walks ``model.layers`` (§7.6.4). Each parameter is
replaced by a new tensor, and each optimizer keeps its state per parameter key. Differs from the book:
every optimizer uses the hyper-parameters it was built with (the printed code hard-codes ε = 1e-7,
β = 0.9, ρ = 0.9, β₁ = 0.9, β₂ = 0.99), and ``Adam`` advances its step counter once per ``step()``
(the printed code advances it once per parameter). The book's versions 1 and 2 of ``Minibatch_GD`` are
chapter 3's ``SimpleBatchGD`` and chapter 4's ``BatchGD``.
"""

import paddle

from ..ch03.gradient_descent import Optimizer


class Adagrad(Optimizer):
    """AdaGrad (book §7.3.2.1, eqs. 7.9–7.10): G_t = G_{t−1} + g_t ⊙ g_t, θ_t = θ_{t−1} − α/√(G_t + ε) ⊙ g_t.

    ε sits inside the square root, as in eq. (7.10); ``paddle.optimizer.Adagrad`` puts it outside
    (the two agree unless G_t is as small as ε).
    """

    def __init__(self, init_lr, model, epsilon):
        super().__init__(init_lr=init_lr, model=model)
        self.G = {key: 0 for key in model.params}
        self.epsilon = epsilon

    def adagrad(self, x, gradient_x, G, init_lr):
        G = G + gradient_x ** 2
        x = x - init_lr / paddle.sqrt(G + self.epsilon) * gradient_x
        return x, G

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.G[key] = self.adagrad(self.model.params[key], self.model.grads[key],
                                                               self.G[key], self.init_lr)


class RMSprop(Optimizer):
    """RMSprop (book §7.3.2.2, eqs. 7.11–7.12): G_t = β G_{t−1} + (1 − β) g_t ⊙ g_t,
    θ_t = θ_{t−1} − α/√(G_t + ε) ⊙ g_t (ε inside the root, as ``paddle.optimizer.RMSProp`` does too)."""

    def __init__(self, init_lr, model, beta, epsilon):
        super().__init__(init_lr=init_lr, model=model)
        self.G = {key: 0 for key in model.params}
        self.beta = beta
        self.epsilon = epsilon

    def rmsprop(self, x, gradient_x, G, init_lr):
        G = self.beta * G + (1 - self.beta) * gradient_x ** 2
        x = x - init_lr / paddle.sqrt(G + self.epsilon) * gradient_x
        return x, G

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.G[key] = self.rmsprop(self.model.params[key], self.model.grads[key],
                                                               self.G[key], self.init_lr)


class Momentum(Optimizer):
    """Momentum (book §7.3.3.1, eq. 7.13): Δθ_t = ρ Δθ_{t−1} − α g_t, θ_t = θ_{t−1} + Δθ_t, with Δθ_0 = 0.

    Equal, for a constant α, to ``paddle.optimizer.Momentum`` (v = ρv + g, θ ← θ − α v).
    """

    def __init__(self, init_lr, model, rho):
        super().__init__(init_lr=init_lr, model=model)
        self.delta_x = {key: 0 for key in model.params}
        self.rho = rho

    def momentum(self, x, gradient_x, delta_x, init_lr):
        delta_x = self.rho * delta_x - init_lr * gradient_x
        return x + delta_x, delta_x

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.delta_x[key] = self.momentum(self.model.params[key], self.model.grads[key],
                                                                      self.delta_x[key], self.init_lr)


class Adam(Optimizer):
    """Adam (book §7.3.3.2, eqs. 7.14–7.18): M_t = β₁M_{t−1} + (1−β₁)g_t, G_t = β₂G_{t−1} + (1−β₂)g_t⊙g_t,
    M̂_t = M_t/(1−β₁^t), Ĝ_t = G_t/(1−β₂^t), θ_t = θ_{t−1} − α/√(Ĝ_t + ε) ⊙ M̂_t.

    ``t`` counts calls of ``step()`` (1 in the first), shared by all parameters, as in
    ``paddle.optimizer.Adam``; ε sits inside the root as in eq. (7.18) (Paddle puts it outside).
    """

    def __init__(self, init_lr, model, beta_1, beta_2, epsilon):
        super().__init__(init_lr=init_lr, model=model)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.M = {key: 0 for key in model.params}
        self.G = {key: 0 for key in model.params}
        self.t = 0

    def adam(self, x, gradient_x, G, M, t, init_lr):
        M = self.beta_1 * M + (1 - self.beta_1) * gradient_x
        G = self.beta_2 * G + (1 - self.beta_2) * gradient_x ** 2
        M_hat = M / (1 - self.beta_1 ** t)
        G_hat = G / (1 - self.beta_2 ** t)
        x = x - init_lr / paddle.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M

    def step(self):
        self.t += 1
        for key in self.model.params:
            self.model.params[key], self.G[key], self.M[key] = self.adam(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t, self.init_lr)


class Minibatch_GD(Optimizer):
    """Mini-batch gradient descent with weight decay over ``model.layers`` (book §7.6.4, eq. 7.28):
    θ_t = (1 − β) θ_{t−1} − α g_t for every parameter of every layer whose ``params`` is a dict (W and b).

    β = ``weight_decay`` (0 gives the book's version 2, §7.6.2.3). Equal to ``paddle.optimizer.SGD(α,
    weight_decay=L2Decay(β/α))``. Unlike an ℓ2 term in the loss (§7.6.3), the decay does not scale with
    the learning rate and reaches the biases too.
    """

    def __init__(self, init_lr, model, weight_decay):
        super().__init__(init_lr=init_lr, model=model)
        self.weight_decay = weight_decay

    def gradient_descent(self, x, gradient_x, init_lr):
        return (1 - self.weight_decay) * x - init_lr * gradient_x

    def step(self):
        for layer in self.model.layers:
            if isinstance(layer.params, dict):
                for key in layer.params:
                    layer.params[key] = self.gradient_descent(layer.params[key], layer.grads[key], self.init_lr)


class Adadelta(Optimizer):
    """AdaDelta (book §7.3.2, 动手练习 7.4; NNDL eq. 7.21, beyond the book's code): E[g²]_t = ρE[g²]_{t−1} + (1−ρ)g_t⊙g_t,
    Δθ_t = −√(E[Δθ²]_{t−1} + ε)/√(E[g²]_t + ε) ⊙ g_t, E[Δθ²]_t = ρE[Δθ²]_{t−1} + (1−ρ)Δθ_t⊙Δθ_t,
    θ_t = θ_{t−1} + α Δθ_t, with both averages starting at 0.

    As ``paddle.optimizer.Adadelta(learning_rate=α, rho=ρ, epsilon=ε)``; the original algorithm has α = 1.
    """

    def __init__(self, init_lr, model, rho, epsilon):
        super().__init__(init_lr=init_lr, model=model)
        self.rho = rho
        self.epsilon = epsilon
        self.G = {key: 0 for key in model.params}
        self.delta_sq = {key: 0 for key in model.params}

    def adadelta(self, x, gradient_x, G, delta_sq, init_lr):
        G = self.rho * G + (1 - self.rho) * gradient_x ** 2
        delta = -paddle.sqrt((delta_sq + self.epsilon) / (G + self.epsilon)) * gradient_x
        delta_sq = self.rho * delta_sq + (1 - self.rho) * delta ** 2
        return x + init_lr * delta, G, delta_sq

    def step(self):
        for key in self.model.params:
            self.model.params[key], self.G[key], self.delta_sq[key] = self.adadelta(
                self.model.params[key], self.model.grads[key], self.G[key], self.delta_sq[key], self.init_lr)


class AdamW(Optimizer):
    """AdamW (book §7.3.3, 动手练习 7.5, beyond the book's code): Adam (§7.3.3.2, ε inside the root, one t per ``step()``)
    with decoupled weight decay on every parameter,
    θ_t = θ_{t−1} − α λ θ_{t−1} − α/√(Ĝ_t + ε) ⊙ M̂_t (λ = ``weight_decay``), as ``paddle.optimizer.AdamW``
    (which decays the parameter of the previous step) apart from where ε sits.
    """

    def __init__(self, init_lr, model, beta_1, beta_2, epsilon, weight_decay):
        super().__init__(init_lr=init_lr, model=model)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay
        self.M = {key: 0 for key in model.params}
        self.G = {key: 0 for key in model.params}
        self.t = 0

    def adamw(self, x, gradient_x, G, M, t, init_lr):
        M = self.beta_1 * M + (1 - self.beta_1) * gradient_x
        G = self.beta_2 * G + (1 - self.beta_2) * gradient_x ** 2
        M_hat = M / (1 - self.beta_1 ** t)
        G_hat = G / (1 - self.beta_2 ** t)
        x = x - init_lr * self.weight_decay * x - init_lr / paddle.sqrt(G_hat + self.epsilon) * M_hat
        return x, G, M

    def step(self):
        self.t += 1
        for key in self.model.params:
            self.model.params[key], self.G[key], self.M[key] = self.adamw(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t, self.init_lr)
