"""Chapter-7 hidden checks catch known-wrong components and accept different correct ones: the optimizers
(§7.3.2–§7.3.3, §7.6.4, exercises 7.4/7.5), the Xavier formulas (§7.4.2), BatchNorm/LayerNorm (§7.5.1.1,
§7.5.2.1), BCE on logits with ℓ2 (§7.6.3) and Dropout (§7.6.5)."""

import math

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

import nndl_ref.ch07 as ref
from hidden_cases import hidden_check_tests
from nndl_grading.checks import CheckFailure
from nndl_grading.hidden import ch07 as hidden
from nndl_grading.rpc import loopback_pair
from nndl_ref.ch04 import Linear

REFERENCE_ENV = {name: getattr(ref, name) for name in ref.__all__}


# ------------------------------------------------------------------------------------------ optimizers
class AdagradHardCodedEps(ref.Adagrad):
    def adagrad(self, x, g, G, lr):
        G = G + g ** 2
        return x - lr / paddle.sqrt(G + 1e-7) * g, G


class AdagradEpsOutside(ref.Adagrad):
    def adagrad(self, x, g, G, lr):
        G = G + g ** 2
        return x - lr * g / (paddle.sqrt(G) + self.epsilon), G


class AdagradFloat64(ref.Adagrad):
    """Accumulates in float64 numpy and writes float32 tensors back; no helper method."""

    def step(self):
        for key, value in self.model.params.items():
            g = self.model.grads[key].numpy().astype(np.float64)
            self.G[key] = self.G[key] + g * g
            x = value.numpy().astype(np.float64) - self.init_lr * g / np.sqrt(self.G[key] + self.epsilon)
            self.model.params[key] = paddle.to_tensor(x.astype(np.float32))


class RMSpropHardCodedBeta(ref.RMSprop):
    def rmsprop(self, x, g, G, lr):
        G = 0.9 * G + 0.1 * g ** 2
        return x - lr / paddle.sqrt(G + self.epsilon) * g, G


class RMSpropSwappedBeta(ref.RMSprop):
    def rmsprop(self, x, g, G, lr):
        G = (1 - self.beta) * G + self.beta * g ** 2
        return x - lr / paddle.sqrt(G + self.epsilon) * g, G


class RMSpropInPlace(ref.RMSprop):
    """Updates the parameter tensors in place with set_value and keeps G as tensors."""

    def step(self):
        for key, x in self.model.params.items():
            g = self.model.grads[key]
            self.G[key] = self.beta * self.G[key] + (1 - self.beta) * paddle.square(g)
            x.set_value(x - self.init_lr * g * paddle.rsqrt(self.G[key] + self.epsilon))


class MomentumDampened(ref.Momentum):
    def momentum(self, x, g, delta, lr):
        delta = self.rho * delta - (1 - self.rho) * lr * g
        return x + delta, delta


class MomentumHardCodedRho(ref.Momentum):
    def momentum(self, x, g, delta, lr):
        delta = 0.9 * delta - lr * g
        return x + delta, delta


class MomentumPaddleStyle(ref.Momentum):
    """v = ρv + g, x ← x − α·v (paddle.optimizer.Momentum's form; equal for a constant α)."""

    def momentum(self, x, g, velocity, lr):
        velocity = self.rho * velocity + g
        return x - lr * velocity, velocity


class AdamNoBiasCorrection(ref.Adam):
    def adam(self, x, g, G, M, t, lr):
        M = self.beta_1 * M + (1 - self.beta_1) * g
        G = self.beta_2 * G + (1 - self.beta_2) * g ** 2
        return x - lr / paddle.sqrt(G + self.epsilon) * M, G, M


class AdamStepOffByOne(ref.Adam):
    def step(self):
        self.t += 1
        for key in self.model.params:
            self.model.params[key], self.G[key], self.M[key] = self.adam(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t + 1, self.init_lr)


class AdamStepPerKey(ref.Adam):
    """The printed code: t advances once per parameter."""

    def step(self):
        for key in self.model.params:
            self.t += 1
            self.model.params[key], self.G[key], self.M[key] = self.adam(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t, self.init_lr)


class AdamEpsOutside(ref.Adam):
    def adam(self, x, g, G, M, t, lr):
        M = self.beta_1 * M + (1 - self.beta_1) * g
        G = self.beta_2 * G + (1 - self.beta_2) * g ** 2
        M_hat, G_hat = M / (1 - self.beta_1 ** t), G / (1 - self.beta_2 ** t)
        return x - lr * M_hat / (paddle.sqrt(G_hat) + self.epsilon), G, M


class AdamFoldedCorrection(ref.Adam):
    """α_t = α·√(1−β₂^t)/(1−β₁^t) and ε·(1−β₂^t) under the root: the same update, written as Paddle's kernel."""

    def adam(self, x, g, G, M, t, lr):
        M = self.beta_1 * M + (1 - self.beta_1) * g
        G = self.beta_2 * G + (1 - self.beta_2) * g ** 2
        lr_t = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        return x - lr_t * M / paddle.sqrt(G + self.epsilon * (1 - self.beta_2 ** t)), G, M


class DecayOnlyWeights(ref.Minibatch_GD):
    def step(self):
        for layer in self.model.layers:
            if isinstance(layer.params, dict):
                for key in layer.params:
                    decay = self.weight_decay if key == "W" else 0.0
                    layer.params[key] = (1 - decay) * layer.params[key] - self.init_lr * layer.grads[key]


class DecayTimesLearningRate(ref.Minibatch_GD):
    def gradient_descent(self, x, g, lr):
        return x - lr * (g + self.weight_decay * x)


class DecayAsL2Gradient(ref.Minibatch_GD):
    """θ − α(g + (β/α)θ): the same update written as an ℓ2 gradient; skips layers by hasattr."""

    def step(self):
        for layer in self.model.layers:
            for key, value in (layer.params or {}).items():
                layer.params[key] = value - self.init_lr * (layer.grads[key] + self.weight_decay / self.init_lr * value)


class AdadeltaNoRootOfDeltas(ref.Adadelta):
    def adadelta(self, x, g, G, D, lr):
        G = self.rho * G + (1 - self.rho) * g ** 2
        delta = -(D + self.epsilon) / paddle.sqrt(G + self.epsilon) * g
        return x + lr * delta, G, self.rho * D + (1 - self.rho) * delta ** 2


class AdadeltaRms(ref.Adadelta):
    """Written with the two RMS terms of Zeiler's paper."""

    def adadelta(self, x, g, G, D, lr):
        G = self.rho * G + (1 - self.rho) * g * g
        rms_delta, rms_g = (D + self.epsilon) ** 0.5, (G + self.epsilon) ** 0.5
        delta = -(rms_delta / rms_g) * g
        return x + lr * delta, G, self.rho * D + (1 - self.rho) * delta * delta


class AdamWCoupled(ref.AdamW):
    """ℓ2 added to the gradient before Adam: not decoupled."""

    def adamw(self, x, g, G, M, t, lr):
        g = g + self.weight_decay * x
        M = self.beta_1 * M + (1 - self.beta_1) * g
        G = self.beta_2 * G + (1 - self.beta_2) * g ** 2
        return x - lr / paddle.sqrt(G / (1 - self.beta_2 ** t) + self.epsilon) * M / (1 - self.beta_1 ** t), G, M


class AdamWWithoutDecay(ref.AdamW):
    def adamw(self, x, g, G, M, t, lr):
        M = self.beta_1 * M + (1 - self.beta_1) * g
        G = self.beta_2 * G + (1 - self.beta_2) * g ** 2
        return x - lr / paddle.sqrt(G / (1 - self.beta_2 ** t) + self.epsilon) * M / (1 - self.beta_1 ** t), G, M


class AdamWScaled(ref.AdamW):
    """(1 − αλ)·θ, then the Adam step written with Paddle's folded bias correction: the same formula."""

    def adamw(self, x, g, G, M, t, lr):
        M = self.beta_1 * M + (1 - self.beta_1) * g
        G = self.beta_2 * G + (1 - self.beta_2) * g ** 2
        lr_t = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        decayed = (1 - lr * self.weight_decay) * x
        return decayed - lr_t * M / paddle.sqrt(G + self.epsilon * (1 - self.beta_2 ** t)), G, M


# ------------------------------------------------------------------------------------------ Xavier
def he_std(input_size, output_size):
    return np.sqrt(2 / input_size)


def xavier_uniform_swapped(input_size, output_size):
    return np.sqrt(2 / (input_size + output_size))


def xavier_normal_math(fan_in, fan_out):
    return math.sqrt(2.0 / (fan_in + fan_out))


def xavier_uniform_tensor(fan_in, fan_out):
    return paddle.sqrt(paddle.to_tensor(6.0 / (fan_in + fan_out)))


# ------------------------------------------------------------------------------------------ normalisation
class BatchNormUnbiased(ref.BatchNorm):
    """The printed code's statistics: unbiased variance (and no ε)."""

    def forward(self, X, train_mode=True):
        if not train_mode:
            return super().forward(X, train_mode)
        mean, var = paddle.mean(X, axis=0), paddle.var(X, axis=0)
        self.moving_mean = self.momentum * self.moving_mean + (1 - self.momentum) * mean
        self.moving_variance = self.momentum * self.moving_variance + (1 - self.momentum) * var
        return self.gamma * (X - mean) / paddle.sqrt(var) + self.beta


class BatchNormNoEps(ref.BatchNorm):
    def forward(self, X, train_mode=True):
        if not train_mode:
            return super().forward(X, train_mode)
        mean = paddle.mean(X, axis=0)
        var = paddle.mean(paddle.square(X - mean), axis=0)
        self.moving_mean = self.momentum * self.moving_mean + (1 - self.momentum) * mean
        self.moving_variance = self.momentum * self.moving_variance + (1 - self.momentum) * var
        return self.gamma * (X - mean) / paddle.sqrt(var) + self.beta


class BatchNormNumpy(ref.BatchNorm):
    """Right numbers through numpy: the graph is cut."""

    def forward(self, X, train_mode=True):
        return paddle.to_tensor(super().forward(X, train_mode).numpy())


class BatchNormMomentumSwapped(ref.BatchNorm):
    def forward(self, X, train_mode=True):
        if not train_mode:
            return super().forward(X, train_mode)
        mean = paddle.mean(X, axis=0, keepdim=True)
        var = paddle.mean(paddle.square(X - mean), axis=0, keepdim=True)
        self.moving_mean = (1 - self.momentum) * self.moving_mean + self.momentum * mean
        self.moving_variance = (1 - self.momentum) * self.moving_variance + self.momentum * var
        return self.gamma * (X - mean) / paddle.sqrt(var + self.eps) + self.beta


class BatchNormStatsNotStored(ref.BatchNorm):
    def forward(self, X, train_mode=True):
        if not train_mode:
            return super().forward(X, train_mode)
        mean = paddle.mean(X, axis=0, keepdim=True)
        var = paddle.mean(paddle.square(X - mean), axis=0, keepdim=True)
        return self.gamma * (X - mean) / paddle.sqrt(var + self.eps) + self.beta


class BatchNormBatchStatsInEval(ref.BatchNorm):
    def forward(self, X, train_mode=True):
        if train_mode:
            return super().forward(X, True)
        mean = paddle.mean(X, axis=0, keepdim=True)
        var = paddle.mean(paddle.square(X - mean), axis=0, keepdim=True)
        return self.gamma * (X - mean) / paddle.sqrt(var + self.eps) + self.beta


class BatchNormUpdatesInEval(ref.BatchNorm):
    def forward(self, X, train_mode=True):
        out = super().forward(X, train_mode)
        if not train_mode:
            super().forward(X, True)
        return out


class BatchNormFunctional(ref.BatchNorm):
    """F.batch_norm with [D] running statistics updated in place by Paddle."""

    def __init__(self, num_features, eps=1e-7, momentum=0.9, gamma=1.0, beta=0.0):
        super().__init__(num_features, eps, momentum, gamma, beta)
        self.moving_mean = paddle.zeros([num_features])
        self.moving_variance = paddle.ones([num_features])
        self.weight = paddle.full([num_features], gamma)
        self.bias = paddle.full([num_features], beta)

    def forward(self, X, train_mode=True):
        return F.batch_norm(X, self.moving_mean, self.moving_variance, self.weight, self.bias, training=train_mode,
                            momentum=self.momentum, epsilon=self.eps)


class LayerNormOverBatch(ref.LayerNorm):
    def forward(self, X):
        mean = paddle.mean(X, axis=0, keepdim=True)
        var = paddle.mean(paddle.square(X - mean), axis=0, keepdim=True)
        return self.gamma * (X - mean) / paddle.sqrt(var + self.eps) + self.beta


class LayerNormUnbiased(ref.LayerNorm):
    def forward(self, X):
        mean, var = paddle.mean(X, axis=1, keepdim=True), paddle.var(X, axis=1, keepdim=True)
        return self.gamma * (X - mean) / paddle.sqrt(var + self.eps) + self.beta


class LayerNormCachesStatistics(ref.LayerNorm):
    def forward(self, X):
        if not hasattr(self, "cached"):
            mean = paddle.mean(X, axis=1, keepdim=True)
            self.cached = (mean, paddle.mean(paddle.square(X - mean), axis=1, keepdim=True))
        mean, var = self.cached
        if mean.shape[0] != X.shape[0]:
            mean, var = mean.mean() * paddle.ones([X.shape[0], 1]), var.mean() * paddle.ones([X.shape[0], 1])
        return self.gamma * (X - mean) / paddle.sqrt(var + self.eps) + self.beta


class LayerNormEpsOutsideRoot(ref.LayerNorm):
    def forward(self, X):
        mean = paddle.mean(X, axis=1, keepdim=True)
        std = paddle.sqrt(paddle.mean(paddle.square(X - mean), axis=1, keepdim=True))
        return self.gamma * (X - mean) / (std + self.eps) + self.beta


class LayerNormSquaresFirst(ref.LayerNorm):
    def forward(self, X):                         # σ² = E[x²] − E[x]², rsqrt
        mean = paddle.mean(X, axis=1, keepdim=True)
        var = paddle.mean(X * X, axis=1, keepdim=True) - mean * mean
        return self.gamma * (X - mean) * paddle.rsqrt(var + self.eps) + self.beta


class LayerNormFunctional(ref.LayerNorm):
    def forward(self, X):
        return self.gamma * F.layer_norm(X, X.shape[1:], epsilon=self.eps) + self.beta


@pytest.mark.parametrize("rpc", [False, True])
def test_a_wrong_running_update_costs_only_the_running_statistics_check(rpc):
    """BatchNorm's eval check normalises with the student's own moving statistics (fairness review, finding 6)."""
    for wrong in (BatchNormMomentumSwapped, BatchNormStatsNotStored):
        env = {**REFERENCE_ENV, "BatchNorm": wrong}
        env = loopback_pair(env)[1] if rpc else env
        with pytest.raises(CheckFailure):
            hidden.check_batchnorm_running_stats(env)
        hidden.check_batchnorm_eval(env)
        hidden.check_batchnorm_train(env)


# ------------------------------------------------------------------------------------------ ℓ2 loss
class L2OnBiasesToo(ref.BinaryCrossEntropyWithLogits):
    def forward(self, logits, labels):
        loss = super().forward(logits, labels)
        biases = sum(paddle.sum(paddle.square(layer.params["b"])) for layer in self._linear_layers())
        return loss + self.lambd * biases / (2 * self.data_size)

    def backward(self):
        super().backward()
        for layer in self._linear_layers():
            layer.grads["b"] = layer.grads["b"] + self.lambd * layer.params["b"] / self.data_size


class L2WithoutHalf(ref.BinaryCrossEntropyWithLogits):
    def forward(self, logits, labels):
        loss = super().forward(logits, labels)
        weights = sum(paddle.sum(paddle.square(layer.params["W"])) for layer in self._linear_layers())
        return loss + self.lambd * weights / (2 * self.data_size)


class L2GradientNeverAdded(ref.BinaryCrossEntropyWithLogits):
    """The printed backward: ``isinstance(layer, nn.Linear)`` never matches the operator layers."""

    def backward(self):
        self.model.backward((self.predicts - self.labels) / self.data_size)


class L2BookFormula(ref.BinaryCrossEntropyWithLogits):
    """The printed forward (log σ, matmul with labels.t()) and layers found by their 'W' parameter."""

    def forward(self, logits, labels):
        self.labels = paddle.cast(labels, "float32").reshape([-1, 1])
        self.predicts = F.sigmoid(logits)
        self.data_size = logits.shape[0]
        loss = -1.0 / self.data_size * (paddle.matmul(self.labels.t(), paddle.log(self.predicts))
                                        + paddle.matmul(1 - self.labels.t(), paddle.log(1 - self.predicts)))
        reg = 0.0
        for layer in self.model.layers:
            if isinstance(layer.params, dict) and "W" in layer.params:
                reg = reg + paddle.sum(layer.params["W"] ** 2)
        return paddle.squeeze(loss, axis=1) + self.lambd * reg / (2 * self.data_size)

    def backward(self):
        self.model.backward(1.0 / self.data_size * (self.predicts - self.labels))
        for layer in self.model.layers:
            if isinstance(layer, Linear):
                layer.grads["W"] += self.lambd * layer.params["W"] / self.data_size


# ------------------------------------------------------------------------------------------ dropout
class DropoutScaledByP(ref.Dropout):
    def forward(self, inputs):
        self.mask = paddle.cast(paddle.rand(inputs.shape) >= self.drop_rate, "float32")
        return inputs * self.mask / self.drop_rate

    def backward(self, outputs_grad):
        return outputs_grad * self.mask / self.drop_rate


class DropoutKeepsWithP(ref.Dropout):
    def forward(self, inputs):
        self.mask = paddle.cast(paddle.rand(inputs.shape) < self.drop_rate, "float32")
        return inputs * self.mask / (1 - self.drop_rate)


class DropoutNoRescale(ref.Dropout):
    def forward(self, inputs):
        self.mask = paddle.cast(paddle.rand(inputs.shape) >= self.drop_rate, "float32")
        return inputs * self.mask

    def backward(self, outputs_grad):
        return outputs_grad * self.mask


class DropoutFixedMask(ref.Dropout):
    def forward(self, inputs):
        if self.mask is None:
            self.mask = paddle.cast(paddle.rand(inputs.shape) >= self.drop_rate, "float32")
        return inputs * self.mask / (1 - self.drop_rate)


class DropoutNewMaskInBackward(ref.Dropout):
    def backward(self, outputs_grad):
        mask = paddle.cast(paddle.rand(outputs_grad.shape) >= self.drop_rate, "float32")
        return outputs_grad * mask / (1 - self.drop_rate)


class DropoutBackwardNoRescale(ref.Dropout):
    def backward(self, outputs_grad):
        return outputs_grad * self.mask


class DropoutBernoulli(ref.Dropout):
    """paddle.bernoulli of the keep probability, the scaled mask stored."""

    def forward(self, inputs):
        keep = 1 - self.drop_rate
        self.mask = paddle.bernoulli(paddle.full(inputs.shape, keep)) / keep
        return inputs * self.mask

    def backward(self, outputs_grad):
        return outputs_grad * self.mask


class DropoutUniformBelowKeep(ref.Dropout):
    """uniform < keep with numpy's generator, a boolean mask."""

    rng = np.random.default_rng(5)

    def forward(self, inputs):
        self.keep = paddle.to_tensor(self.rng.uniform(size=inputs.shape) < 1 - self.drop_rate)
        return paddle.where(self.keep, inputs / (1 - self.drop_rate), paddle.zeros_like(inputs))

    def backward(self, outputs_grad):
        return paddle.where(self.keep, outputs_grad / (1 - self.drop_rate), paddle.zeros_like(outputs_grad))


WRONG_VARIANTS = {
    "check_adagrad": [("ε hard-coded 1e-7", {"Adagrad": AdagradHardCodedEps}),
                      ("ε outside the root", {"Adagrad": AdagradEpsOutside})],
    "check_rmsprop": [("β hard-coded 0.9", {"RMSprop": RMSpropHardCodedBeta}),
                      ("β and 1−β swapped", {"RMSprop": RMSpropSwappedBeta})],
    "check_momentum": [("dampening", {"Momentum": MomentumDampened}),
                       ("ρ hard-coded 0.9", {"Momentum": MomentumHardCodedRho})],
    "check_adam": [("no bias correction", {"Adam": AdamNoBiasCorrection}),
                   ("t off by one", {"Adam": AdamStepOffByOne}),
                   ("t per key", {"Adam": AdamStepPerKey}),
                   ("ε outside the root", {"Adam": AdamEpsOutside})],
    "check_minibatch_gd_weight_decay": [("decay on W only", {"Minibatch_GD": DecayOnlyWeights}),
                                        ("decay times lr", {"Minibatch_GD": DecayTimesLearningRate})],
    "check_adadelta": [("no root of the deltas", {"Adadelta": AdadeltaNoRootOfDeltas})],
    "check_adamw": [("coupled ℓ2", {"AdamW": AdamWCoupled}), ("no decay", {"AdamW": AdamWWithoutDecay})],
    "check_xavier": [("He std", {"xavier_normal_std": he_std}),
                     ("uniform with the normal constant", {"xavier_uniform_r": xavier_uniform_swapped})],
    "check_batchnorm_train": [("unbiased variance, no ε (printed code)", {"BatchNorm": BatchNormUnbiased}),
                              ("no ε", {"BatchNorm": BatchNormNoEps}),
                              ("graph cut by numpy", {"BatchNorm": BatchNormNumpy})],
    "check_batchnorm_running_stats": [("momentum swapped", {"BatchNorm": BatchNormMomentumSwapped}),
                                      ("statistics not stored", {"BatchNorm": BatchNormStatsNotStored}),
                                      ("unbiased running variance", {"BatchNorm": BatchNormUnbiased})],
    "check_batchnorm_eval": [("batch statistics in eval", {"BatchNorm": BatchNormBatchStatsInEval}),
                             ("updates in eval", {"BatchNorm": BatchNormUpdatesInEval})],
    "check_layernorm": [("over the batch axis", {"LayerNorm": LayerNormOverBatch}),
                        ("unbiased variance", {"LayerNorm": LayerNormUnbiased}),
                        ("statistics kept between calls", {"LayerNorm": LayerNormCachesStatistics}),
                        ("ε outside the root", {"LayerNorm": LayerNormEpsOutsideRoot})],
    "check_bce_logits_l2_forward": [("biases penalised", {"BinaryCrossEntropyWithLogits": L2OnBiasesToo}),
                                    ("λ/N instead of λ/(2N)", {"BinaryCrossEntropyWithLogits": L2WithoutHalf})],
    "check_bce_logits_l2_backward": [("ℓ2 gradient never added (printed code)",
                                      {"BinaryCrossEntropyWithLogits": L2GradientNeverAdded}),
                                     ("biases penalised", {"BinaryCrossEntropyWithLogits": L2OnBiasesToo})],
    "check_dropout_forward": [("scaled by 1/p", {"Dropout": DropoutScaledByP}),
                              ("keeps with probability p", {"Dropout": DropoutKeepsWithP}),
                              ("no rescale", {"Dropout": DropoutNoRescale}),
                              ("one mask for every call", {"Dropout": DropoutFixedMask})],
    "check_dropout_backward": [("new mask in backward", {"Dropout": DropoutNewMaskInBackward}),
                               ("backward not rescaled", {"Dropout": DropoutBackwardNoRescale}),
                               ("scaled by 1/p", {"Dropout": DropoutScaledByP})],
}

ALTERNATIVES = {
    "check_adagrad": [("float64 numpy inside", {"Adagrad": AdagradFloat64})],
    "check_rmsprop": [("in place, rsqrt", {"RMSprop": RMSpropInPlace})],
    "check_momentum": [("Paddle's velocity form", {"Momentum": MomentumPaddleStyle})],
    "check_adam": [("Paddle's folded bias correction", {"Adam": AdamFoldedCorrection})],
    "check_minibatch_gd_weight_decay": [("as an ℓ2 gradient", {"Minibatch_GD": DecayAsL2Gradient})],
    "check_adadelta": [("RMS terms", {"Adadelta": AdadeltaRms})],
    "check_adamw": [("(1 − αλ)θ before the Adam step", {"AdamW": AdamWScaled})],
    "check_xavier": [("math.sqrt / a 0-D tensor", {"xavier_normal_std": xavier_normal_math,
                                                   "xavier_uniform_r": xavier_uniform_tensor})],
    "check_batchnorm_train": [("F.batch_norm", {"BatchNorm": BatchNormFunctional})],
    "check_batchnorm_running_stats": [("F.batch_norm, [D] statistics", {"BatchNorm": BatchNormFunctional})],
    "check_batchnorm_eval": [("F.batch_norm", {"BatchNorm": BatchNormFunctional})],
    "check_layernorm": [("F.layer_norm", {"LayerNorm": LayerNormFunctional}),
                        ("E[x²] − E[x]², rsqrt", {"LayerNorm": LayerNormSquaresFirst})],
    "check_bce_logits_l2_forward": [("the printed log σ formula", {"BinaryCrossEntropyWithLogits": L2BookFormula})],
    "check_bce_logits_l2_backward": [("isinstance(layer, Linear)", {"BinaryCrossEntropyWithLogits": L2BookFormula})],
    "check_dropout_forward": [("paddle.bernoulli", {"Dropout": DropoutBernoulli}),
                              ("numpy uniform < keep", {"Dropout": DropoutUniformBelowKeep})],
    "check_dropout_backward": [("paddle.bernoulli", {"Dropout": DropoutBernoulli}),
                               ("numpy uniform < keep", {"Dropout": DropoutUniformBelowKeep})],
}

hidden_check_tests("ch07", globals())
