# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 第3章 线性分类
#
# 本章对应教材第3章。分类任务的标签是离散的类别；线性分类用一个或多个线性函数加上一个“挤压”函数来判定类别。
# 我们先用 Logistic 回归做二分类（§3.1，Moon1000 数据集），再用 Softmax 回归做多分类（§3.2，Multi1000 数据集），
# 最后按“数据 → 模型 → 训练配置 → Runner → 训练/评价/预测”的流程完成鸢尾花分类（§3.3，Iris 数据集）。
#
# 你将实现：
#
# 1. Logistic 函数 `logistic`（§3.1，式 (3.2)）；
# 2. 二分类交叉熵损失 `BinaryCrossEntropyLoss.forward`（§3.1.3，式 (3.5)）；
# 3. Logistic 回归的梯度 `Model_LR.backward`（§3.1.4.1，式 (3.6)–(3.7)）；
# 4. 梯度下降优化器 `Optimizer_GD.step`（§3.1.4.3，式 (3.8)–(3.9)）；
# 5. 准确率 `accuracy`（§3.1.5，式 (3.10)）；
# 6. `RunnerV2.train`：梯度下降训练 + 验证集上保存最优模型（§3.1.6）；
# 7. 数值稳定的 `softmax`（§3.2.2.1，式 (3.12)）；
# 8. 多分类交叉熵损失 `MultiCrossEntropyLoss.forward`（§3.2.3，式 (3.16)）；
# 9. Softmax 回归的梯度 `Model_SR.backward`（§3.2.4.1，式 (3.17)–(3.18)）。
#
# 第1–2章的 `Op`、`Runner` 等组件在随附的 `nndl` 包中（support package）。每个 `TODO` 完成后运行下方的
# `grader.check(...)`；公开测试 (public tests) 只是成绩的一部分，隐藏测试会用更多输入和梯度检查。
# 实验单元格（`otter_ignore`）评分时不会运行，评分也不会训练模型。

# %%
import math
import os
from abc import ABC, abstractmethod

import matplotlib.pyplot as plt
import numpy as np
import paddle
import paddle.nn.functional as F

from nndl import Op, Runner

SMOKE = os.environ.get("NNDL_SMOKE") == "1"   # 冒烟模式 (smoke mode)：CI 用很少的回合快速跑通全部实验

# %% [markdown]
# ## 3.1 基于 Logistic 回归的二分类任务
#
# Logistic 回归和线性回归一样先对特征做线性组合，再用一个非线性函数把结果压到 $(0,1)$ 之间，作为
# 类别为 1 的后验概率：
#
# $$p(y=1\mid\boldsymbol x)=\sigma(\boldsymbol w^\top\boldsymbol x+b),\qquad(3.1)$$
#
# 其中 Logistic 函数（也叫激活函数）为
#
# $$\sigma(x)=\frac{1}{1+\exp(-x)}.\qquad(3.2)$$

# %% [raw]
# # BEGIN QUESTION
# name: q1_logistic

# %% [markdown]
# **TODO：** 实现 `logistic(x)`：对张量 `x` 的每个元素计算式 (3.2)，返回与 `x` 形状相同的 `paddle.Tensor`。
# 输入的绝对值很大时（例如 ±100）结果应是有限值（接近 0 或 1），不能出现 NaN。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch03.linear_classifiers.logistic stub=logistic

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_logistic_values(logistic, paddle, np):
    out = logistic(paddle.to_tensor([[-2.0, 0.0, 2.0]]))
    assert list(out.shape) == [1, 3], f"输出形状应与输入相同 [1, 3]，实际为 {list(out.shape)}"
    assert np.allclose(out.numpy(), [[0.11920292, 0.5, 0.88079708]], atol=1e-6), \
        "σ(−2)、σ(0)、σ(2) 应为 0.1192、0.5、0.8808"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 本章的绘图函数（已给出）：Logistic 曲线、数据散点图、决策区域和 `RunnerV2` 的训练曲线。

# %%
# nndl: include nndl_ref.ch03.plots

# %% [markdown]
# 在 $[-10,10]$ 上画出 Logistic 函数（图 3.2）：输入在 0 附近时近似线性，输入很大或很小时被“压”向 1 或 0，
# 所以输出可以当作概率。

# %% tags=["otter_ignore"]
plot_logistic(logistic)
plt.show()

# %% [markdown]
# ### 3.1.1 数据集构建
#
# Moon1000 数据集：1000 条二维样本，来自两个带噪声的弯月，每个弯月一类。`make_moons` 已给出：先按顺序生成
# 两类点，打乱，再加高斯噪声。教材的逐行复制循环很慢，这里改为一次 `paddle.gather`（打乱顺序完全相同）。

# %%
# nndl: include nndl_ref.ch03.data.make_moons

# %% [markdown]
# 教材生成 Moon1000 时没有设随机种子，它的数值无法复现。这里设 `paddle.seed(102)`（我们自己的选择），
# 然后按 640 / 160 / 200 划分训练集、验证集和测试集，并把标签变为 `[N, 1]`。

# %% tags=["otter_ignore"]
paddle.seed(102)
X, y = make_moons(n_samples=1000, shuffle=True, noise=0.5)
plot_data(X, y, title="Moon1000")
plt.show()

num_train, num_dev, num_test = 640, 160, 200
X_train, y_train = X[:num_train], y[:num_train]
X_dev, y_dev = X[num_train:num_train + num_dev], y[num_train:num_train + num_dev]
X_test, y_test = X[num_train + num_dev:], y[num_train + num_dev:]
y_train, y_dev, y_test = y_train.reshape([-1, 1]), y_dev.reshape([-1, 1]), y_test.reshape([-1, 1])
print("X_train shape:", list(X_train.shape), "y_train shape:", list(y_train.shape), " 教材: [640, 2] [640, 1]")
print("前 5 个标签 (动手练习 3.1):", y_train[:5].reshape([-1]).tolist())

# %% [markdown]
# ### 3.1.2 模型构建
#
# Logistic 回归 = 线性层 + Logistic 函数。把 $N$ 个样本放在一起成批预测：
#
# $$\hat{\boldsymbol y}=\sigma(\boldsymbol X\boldsymbol w+b),\qquad(3.3)$$
#
# 其中 $\boldsymbol X\in\mathbb R^{N\times D}$（每行一个样本），`params['w']` 形状 `[D, 1]`，`params['b']` 形状 `[1]`，
# 都初始化为 0；输出 $\hat{\boldsymbol y}$ 形状 `[N, 1]`，是每个样本属于类别 1 的概率。
# 全零初始化时无论输入是什么，得分都是 0，输出恒为 $\sigma(0)=0.5$。
#
# 模型类 `Model_LR` 的代码在 §3.1.4.1 中和它的 `backward` 一起给出。（思考：预测类别时其实不必计算
# Logistic 函数，只看得分 $\boldsymbol X\boldsymbol w+b$ 是否大于 0 即可。）
#
# ### 3.1.3 损失函数
#
# 二分类只需预测 $\hat y=p(y=1\mid\boldsymbol x)$，$1-\hat y$ 即 $p(y=0\mid\boldsymbol x)$。用交叉熵损失，
# $N$ 个样本上的风险函数为
#
# $$\mathcal R(\boldsymbol w,b)=-\frac1N\sum_{n=1}^N\Big(y^{(n)}\log\hat y^{(n)}+(1-y^{(n)})\log(1-\hat y^{(n)})\Big)
# =-\frac1N\Big(\boldsymbol y^\top\log\hat{\boldsymbol y}+(1-\boldsymbol y)^\top\log(1-\hat{\boldsymbol y})\Big).\qquad(3.5)$$
#
# 下面两个辅助函数（已给出）把各种形状/类型的标签统一起来：`_column_labels` 把二分类标签变为 `[N, 1]`，
# `_class_ids` 把多分类的类别编号变为 int64 的 `[N]`。飞桨中 `[N]` 的标签和 `[N, 1]` 的预测相减会
# 悄悄广播成 `[N, N]`，这是本章最常见的错误。

# %%
# nndl: include nndl_ref.ch03.linear_classifiers._column_labels
# nndl: include nndl_ref.ch03.linear_classifiers._class_ids

# %% [raw]
# # BEGIN QUESTION
# name: q2_bce

# %% [markdown]
# **TODO：** 实现 `BinaryCrossEntropyLoss.forward(predicts, labels)`（式 (3.5)）：
# - `predicts` 是形状 `[N, 1]` 的概率，`labels` 是形状 `[N, 1]` 的 0/1 浮点标签；
# - 返回一个数（形状 `[1]` 或 0 维张量均可），是 $N$ 个样本损失的**平均值**；
# - 像教材一样不必做截断 (clip)。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch03.linear_classifiers.BinaryCrossEntropyLoss stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_bce_values(BinaryCrossEntropyLoss, paddle):
    loss = BinaryCrossEntropyLoss()(paddle.full([3, 1], 0.5), paddle.ones([3, 1]))
    assert loss is not None, "forward 应返回损失值"
    assert abs(float(loss.numpy().reshape(-1)[0]) - 0.69314718) < 1e-5, "教材 §3.1.3 的例子应得 0.69314718 (= ln 2)"
    loss = BinaryCrossEntropyLoss()(paddle.to_tensor([[0.8], [0.4]]), paddle.to_tensor([[1.0], [0.0]]))
    assert abs(float(loss.numpy().reshape(-1)[0]) - 0.36698459) < 1e-5, \
        "ŷ = [0.8, 0.4]、y = [1, 0] 时应得 −(ln 0.8 + ln 0.6)/2 = 0.36698459"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 3.1.4 模型优化
#
# Logistic 回归没有解析解，用梯度下降法：把参数初始化后，反复计算梯度并沿梯度的反方向更新参数。
#
# #### 3.1.4.1 梯度计算
#
# 风险函数 (3.5) 关于参数的偏导数为
#
# $$\frac{\partial\mathcal R}{\partial\boldsymbol w}=-\frac1N\boldsymbol X^\top(\boldsymbol y-\hat{\boldsymbol y}),\qquad(3.6)
# \qquad\qquad\frac{\partial\mathcal R}{\partial b}=-\frac1N\boldsymbol 1^\top(\boldsymbol y-\hat{\boldsymbol y}),\qquad(3.7)$$
#
# 其中 $\boldsymbol y,\hat{\boldsymbol y}$ 是 `[N, 1]` 的列向量，$\boldsymbol 1$ 是 $N$ 维全 1 向量。
#
# **提醒：** `backward` 求的不是 `forward` 本身的梯度，而是**最终损失**（forward + 交叉熵）关于参数的梯度——
# 这两步的梯度已经手工合并成上面的公式，所以损失类没有 `backward`。

# %% [raw]
# # BEGIN QUESTION
# name: q3_model_lr

# %% [markdown]
# **TODO：** 实现 `Model_LR.backward(labels)`：
# - `labels` 形状 `[N, 1]`，浮点 0/1；`forward` 已把输入存在 `self.X`、输出 $\hat{\boldsymbol y}$ 存在 `self.outputs`；
# - 按式 (3.6)、(3.7) 计算梯度，存入 `self.grads['w']`（形状 `[D, 1]`，与 `params['w']` 相同）和
#   `self.grads['b']`（形状 `[1]` 或 0 维均可）；不需要返回值。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch03.linear_classifiers.Model_LR stub=backward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_model_lr_backward_by_hand(Model_LR, paddle, np):
    model = Model_LR(2)
    model.X = paddle.to_tensor([[1.0, 2.0], [3.0, -1.0]])
    model.outputs = paddle.full([2, 1], 0.5)    # 全零初始化时 ŷ = σ(0) = 0.5（这里不调用 forward）
    model.backward(paddle.to_tensor([[1.0], [1.0]]))
    assert list(model.grads["w"].shape) == [2, 1], f"grads['w'] 形状应为 [2, 1]，实际为 {list(model.grads['w'].shape)}"
    assert np.allclose(model.grads["w"].numpy(), [[-1.0], [-0.25]]), "grads['w'] 应为 −(1/N)·Xᵀ(y − ŷ) = [[-1], [-0.25]]"
    assert np.allclose(model.grads["b"].numpy().reshape(-1), [-0.5]), "grads['b'] 应为 −(1/N)·Σ(y − ŷ) = −0.5"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **自查梯度（不计分）**：用 `nndl.gradcheck.gradient_check` 把 `grads['w']`、`grads['b']` 与风险函数 (3.5) 的 float64 中心差分
# 比较（CS231n 的做法）。在 float64 中相对误差小于约 1e-6 说明 `backward` 正确；评分用的梯度检查另有隐藏测试。

# %% tags=["otter_ignore"]
from nndl.gradcheck import gradient_check

def check_model_lr_gradients():
    rng = np.random.default_rng(0)
    X, y = paddle.to_tensor(rng.normal(size=(5, 2))), paddle.to_tensor(rng.integers(0, 2, size=(5, 1)).astype("float64"))
    w, b = rng.normal(size=(2, 1)), rng.normal(size=(1,))
    check_model = Model_LR(2)

    def risk(w, b):
        check_model.params["w"], check_model.params["b"] = paddle.to_tensor(w), paddle.to_tensor(b)
        return BinaryCrossEntropyLoss()(check_model(X), y)

    risk(w, b)
    check_model.backward(y)
    dw, db = check_model.grads["w"], check_model.grads["b"]
    print("grads['w']:", gradient_check(lambda w_: risk(w_, b), w, dw))
    print("grads['b']:", gradient_check(lambda b_: risk(w, b_), b, db))


check_model_lr_gradients()

# %% [markdown]
# 教材 §3.1.2 的测试：全零初始化的模型对任意输入都输出 0.5；§3.1.3 的测试：这时对全 1 标签的损失为 $\ln 2$。
# （教材打印的输入来自 GPU 上的随机数流，在 CPU 上不同，但输出不受影响。）

# %% tags=["otter_ignore"]
paddle.seed(0)
inputs = paddle.randn(shape=[3, 4])
model = Model_LR(4)
outputs = model(inputs)
print("Output is:", outputs.numpy().ravel(), " 教材: [0.5 0.5 0.5]")
print("BCE:", BinaryCrossEntropyLoss()(outputs, paddle.ones(shape=[3, 1])).numpy(), " 教材: [0.69314718]")

# %% [markdown]
# #### 3.1.4.2 优化器
#
# 梯度下降的更新规则（$\alpha$ 为学习率）：
#
# $$\boldsymbol w\leftarrow\boldsymbol w-\alpha\frac{\partial\mathcal R}{\partial\boldsymbol w},\qquad(3.8)\qquad\qquad
# b\leftarrow b-\alpha\frac{\partial\mathcal R}{\partial b}.\qquad(3.9)$$
#
# 优化器基类 `Optimizer`（已给出）保存初始学习率 `init_lr` 和要优化的模型 `model`。教材的基类继承 `object`，
# 那样 `@abstractmethod` 不起作用；这里继承 `abc.ABC`，基类本身不能被实例化。

# %%
# nndl: include nndl_ref.ch03.gradient_descent.Optimizer

# %% [raw]
# # BEGIN QUESTION
# name: q4_optimizer_gd

# %% [markdown]
# #### 3.1.4.3 梯度下降优化器
#
# **TODO：** 实现 `Optimizer_GD.step()`：对 `self.model.params` 中的**每个**参数 `key`，按式 (3.8)、(3.9) 用
# `self.model.grads[key]` 和学习率 `self.init_lr` 更新，把新值写回 `self.model.params[key]`。
# 参数形状必须保持不变（例如形状 `[1]` 的偏置配 0 维的梯度时，结果仍是 `[1]`）。
# 不要假定参数名只有 `'w'`、`'b'`——Softmax 回归用的是 `'W'`、`'b'`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch03.gradient_descent.Optimizer_GD stub=step

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_optimizer_gd_one_step(Optimizer_GD, Model_LR, paddle, np):
    model = Model_LR(2)
    model.params["w"], model.params["b"] = paddle.to_tensor([[1.0], [2.0]]), paddle.to_tensor([0.5])
    model.grads = {"w": paddle.to_tensor([[0.5], [-1.0]]), "b": paddle.to_tensor([1.0])}
    Optimizer_GD(init_lr=0.1, model=model).step()
    assert np.allclose(model.params["w"].numpy(), [[0.95], [2.1]]), "w ← w − 0.1·grad 应为 [[0.95], [2.1]]"
    assert np.allclose(model.params["b"].numpy(), [0.4]), "b ← b − 0.1·grad 应为 [0.4]"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q5_accuracy

# %% [markdown]
# ### 3.1.5 评价指标
#
# 准确率 (Accuracy) 是预测正确的样本数占总数的比例：
#
# $$\mathcal A=\frac1N\boldsymbol 1^\top I(\boldsymbol y=\hat{\boldsymbol y}),\qquad(3.10)$$
#
# 其中 $I(\cdot)$ 是指示函数。
#
# **TODO：** 实现 `accuracy(preds, labels)`，返回一个 0 维的 float32 张量（`RunnerV2` 会对它调用 `.item()`）：
# - 二分类：`preds` 形状 `[N, 1]`，是类别 1 的概率，**大于或等于** 0.5 时预测为类别 1；`labels` 为 0/1 浮点数；
# - 多分类：`preds` 形状 `[N, C]`（C > 1），预测类别是每行最大值的下标 (argmax)；`labels` 是 int32 或 int64 的类别编号；
# - 两种情况下 `labels` 的形状都可能是 `[N]` 或 `[N, 1]`，都要给出正确结果（小心 `[N, 1]` 与 `[N]` 比较时的广播）。
#   飞桨 3.x 不允许 int32 与 int64 直接比较，必要时先转换类型。
#   （教材的流程只用二分类 `[N, 1]` 标签和多分类 `[N]` int64 标签；其余形状和 int32 是本套件额外的要求，单独作为一项检查。）
#
# 注意：教材印刷的 `accuracy` 漏了最后的 `return`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch03.metrics.accuracy stub=accuracy

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_accuracy_book_example(accuracy, paddle):
    acc = accuracy(paddle.to_tensor([[0.0], [1.0], [1.0], [0.0]]), paddle.to_tensor([[1.0], [1.0], [0.0], [0.0]]))
    assert acc is not None, "accuracy 应返回准确率（教材的代码漏了 return）"
    assert abs(float(acc) - 0.5) < 1e-6, f"教材 §3.1.5 的例子应得 0.5，实际为 {float(acc)}"
    acc = accuracy(paddle.to_tensor([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]]), paddle.to_tensor([1, 1]))
    assert abs(float(acc) - 0.5) < 1e-6, "多分类：argmax 为 [1, 0]，标签为 [1, 1]，准确率应为 0.5"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q6_runner_v2

# %% [markdown]
# ### 3.1.6 完善 Runner 类：RunnerV2
#
# `RunnerV1` 用解析解“一步训练”。梯度下降需要迭代，所以 `RunnerV2.train` 里要有训练循环；
# 同时引入验证集，按**提前停止 (early stopping)** 的思想保存验证集上表现最好的模型。注意教材的参数顺序是
# `RunnerV2(model, optimizer, metric, loss_fn)`。`evaluate`、`predict`、`save_model`、`load_model` 已给出。
#
# **TODO：** 实现 `RunnerV2.train(train_set, dev_set, **kwargs)`：
# - 关键字参数：`num_epochs`（默认 0）、`log_epochs`（默认 100）、`save_path`（默认 `"best_model.pdparams"`）、
#   `print_grads`（默认 `None`）；其他关键字（教材传了 `eval_epochs`）忽略即可；
# - `train_set`、`dev_set` 都是 `[X, y]`；最优得分 `best_score` 从 0 开始；
# - 每个回合 (epoch) 依次：在**整个训练集**上前向得到预测；用 `self.loss_fn(预测, y)` 和 `self.metric(预测, y)`
#   计算损失与指标，分别以 Python 数（`.item()`）追加到 `self.train_loss`、`self.train_scores`；
#   `self.model.backward(y)`；若给了 `print_grads` 就调用 `print_grads(self.model)`；`self.optimizer.step()`；
#   然后 `dev_score, dev_loss = self.evaluate(dev_set)`（它会记录 `dev_loss`、`dev_scores`）；
# - 只有当 `dev_score` **严格大于** `best_score` 时，才 `self.save_model(save_path)` 并更新 `best_score`；
# - 每 `log_epochs` 个回合打印一次训练集和验证集的损失与指标（`log_epochs` 为 0 或 `None` 时不打印）。
#   教材这里打印了未定义的变量 `score`，应为 `dev_score`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch03.runner_v2.RunnerV2 stub=train

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_runner_v2_loop(RunnerV2, paddle, os):
    import tempfile

    class CountingModel:
        def __init__(self):
            self.params, self.grads, self.backward_calls = {"w": paddle.zeros([1])}, {}, 0

        def __call__(self, X):
            return paddle.full([X.shape[0], 1], 0.5)

        def backward(self, labels):
            self.backward_calls += 1
            self.grads["w"] = paddle.ones([1])

    class CountingOptimizer:
        def __init__(self):
            self.steps = 0

        def step(self):
            self.steps += 1

    model, optimizer = CountingModel(), CountingOptimizer()
    metric, loss_fn = (lambda preds, labels: paddle.to_tensor(0.75)), (lambda preds, labels: paddle.to_tensor(0.25))
    runner = RunnerV2(model, optimizer, metric, loss_fn)
    X, y = paddle.zeros([4, 2]), paddle.ones([4, 1])
    with tempfile.TemporaryDirectory() as folder:
        save_path = os.path.join(folder, "best.pdparams")
        runner.train([X, y], [X, y], num_epochs=3, log_epochs=100, save_path=save_path)
        assert os.path.exists(save_path), "验证集指标超过之前的最好值时应调用 self.save_model(save_path)"
    assert model.backward_calls == 3 and optimizer.steps == 3, "每个回合应各调用一次 model.backward(y) 和 optimizer.step()"
    assert len(runner.train_loss) == 3 and len(runner.train_scores) == 3, "每个回合应记录训练集的损失和指标"
    assert len(runner.dev_scores) == 3, "每个回合应调用 self.evaluate(dev_set)，它会记录验证集的指标"
    assert abs(float(runner.train_loss[0]) - 0.25) < 1e-6, "train_loss 记录的应是 loss_fn 的值（参数顺序：metric 在 loss_fn 前）"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 3.1.7 模型训练
#
# 用交叉熵损失和梯度下降（学习率 0.1）训练 500 个回合，每 50 个回合打印一次。
# 教材第一回合的训练损失 0.6931471824645996 就是 $\ln 2$：全零初始化时所有输出都是 0.5。

# %% tags=["otter_ignore"]
num_epochs = 5 if SMOKE else 500
model = Model_LR(input_dim=2)
optimizer = Optimizer_GD(init_lr=0.1, model=model)
loss_fn = BinaryCrossEntropyLoss()
metric = accuracy
runner = RunnerV2(model, optimizer, metric, loss_fn)
runner.train([X_train, y_train], [X_dev, y_dev], num_epochs=num_epochs, log_epochs=50, save_path="best_model.pdparams")
plot(runner)   # 图 3.4
plt.show()

# %% [markdown]
# ### 3.1.8 模型评价
#
# 用测试集评价训练结束时的模型。教材结果 0.7550/0.4791 来自未设种子的数据，无法复现；用上面的种子 102、
# 完整训练 500 个回合时应得 0.8100/0.3985（冒烟模式下不同）。最后画出模型在测试集上的决策区域：Logistic 回归的
# 决策边界是一条直线，分不开两个弯月交错的部分。

# %% tags=["otter_ignore"]
score, loss = runner.evaluate([X_test, y_test])
print("[Test] score/loss: {:.4f}/{:.4f}".format(score, loss), " 种子 102 下的参考值: 0.8100/0.3985")
plot_decision_boundary(model, X_test, y_test)
plt.show()

# %% [markdown]
# 动手练习 3.2：调整学习率和训练轮数，观察训练过程，争取更高的准确率。
#
# ## 3.2 基于 Softmax 回归的多分类任务
#
# Softmax 回归把 Logistic 回归推广到 $C>2$ 类：样本 $\boldsymbol x$ 属于类别 $c$ 的条件概率为
#
# $$p(y=c\mid\boldsymbol x)=\mathrm{softmax}(\boldsymbol w_c^\top\boldsymbol x+b_c).\qquad(3.11)$$
#
# ### 3.2.1 数据集构建
#
# Multi1000 数据集：1000 条二维样本，来自 3 个簇，每簇一类；再以一定比例随机改写标签作为噪声。
# `make_multiclass_classification`（已给出）按教材的顺序抽取随机数，所以 `paddle.seed(102)` 能在 CPU 上
# 复现教材的数据。与教材的差异：返回的标签是 int32 的 `[N]`（教材文档写 `[N,1]`），`noise=None` 不再报错。

# %%
# nndl: include nndl_ref.ch03.data._bit_vectors
# nndl: include nndl_ref.ch03.data.make_multiclass_classification

# %% tags=["otter_ignore"]
paddle.seed(102)
X, y = make_multiclass_classification(n_samples=1000, n_features=2, n_classes=3, noise=0.2)
plot_data(X, y, title="Multi1000")   # 图 3.5
plt.show()

num_train, num_dev, num_test = 640, 160, 200
X_train, y_train = X[:num_train], y[:num_train]
X_dev, y_dev = X[num_train:num_train + num_dev], y[num_train:num_train + num_dev]
X_test, y_test = X[num_train + num_dev:], y[num_train + num_dev:]
# 教材此处印成 [320, 2] / [320, 3]，实际是 [640, 2] / [640]
print("X_train shape:", list(X_train.shape), "y_train shape:", list(y_train.shape))
print("前 5 个标签:", y_train[:5].tolist(), " 教材: [0, 1, 2, 2, 0]")

# %% [markdown]
# ### 3.2.2 模型构建
#
# Softmax 回归的输出个数等于类别数 $C$，每个类别的概率由 Softmax 函数给出。
#
# #### 3.2.2.1 Softmax 函数
#
# 对 $K$ 维向量 $\boldsymbol x=[x_1,\dots,x_K]$，
#
# $$\mathrm{softmax}(x_k)=\frac{\exp(x_k)}{\sum_{i=1}^K\exp(x_i)}.\qquad(3.12)$$
#
# 直接计算会遇到两个数值问题：某个 $x_k$ 是很大的正数时 $\exp(x_k)$ **上溢出**为 inf；所有 $x_k$ 都是很大的
# 负数时 $\exp$ 全部**下溢出**为 0，分母为 0。用 $x_k-\max(\boldsymbol x)$ 代替 $x_k$（结果不变）可以同时避免两者：
# 最大的指数项是 $\exp(0)=1$，分母至少为 1。

# %% [raw]
# # BEGIN QUESTION
# name: q7_softmax

# %% [markdown]
# **TODO：** 实现 `softmax(X)`：`X` 形状 `[N, D]`，对**每一行**（axis 1）计算式 (3.12)，返回同形状的
# `paddle.Tensor`，每行之和为 1。要用上面的减最大值技巧，使 ±1000 量级的输入也得到正确的有限结果。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch03.linear_classifiers.softmax stub=softmax

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_softmax_values(softmax, paddle, np):
    out = softmax(paddle.to_tensor([[0.1, 0.2, 0.3, 0.4]]))
    assert list(out.shape) == [1, 4], f"输出形状应为 [1, 4]，实际为 {list(out.shape)}"
    assert np.allclose(out.numpy(), [[0.2138382, 0.2363278, 0.26118258, 0.28865141]], atol=1e-6), \
        "教材 §3.2.2.1 的例子应得 [0.2138382, 0.2363278, 0.26118258, 0.28865141]"
    out = softmax(paddle.to_tensor([[1000.0, 1000.0], [-1000.0, -1000.0]])).numpy()
    assert np.all(np.isfinite(out)), "输入为 ±1000 时出现了 NaN/inf：请先减去每行的最大值"
    assert np.allclose(out, 0.5), "两个相等的输入，softmax 应各为 0.5"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% tags=["otter_ignore"]
print(softmax(paddle.to_tensor([[0.1, 0.2, 0.3, 0.4]])).numpy(), " 教材: [[0.2138382 0.2363278 0.26118258 0.28865141]]")

# %% [markdown]
# #### 3.2.2.2 Softmax 回归模型
#
# 以批量形式，$\boldsymbol X\in\mathbb R^{N\times D}$ 为特征矩阵，
#
# $$\hat{\boldsymbol Y}=\mathrm{softmax}(\boldsymbol X\boldsymbol W+\boldsymbol b),\qquad(3.13)$$
#
# 其中 $\boldsymbol W\in\mathbb R^{D\times C}$（`params['W']`，每列对应一个类别）、$\boldsymbol b\in\mathbb R^C$
# （`params['b']`，按广播加到每一行），都初始化为 0；$\hat{\boldsymbol Y}$ 形状 `[N, C]`。全零初始化时每个类别的
# 概率都是 $1/C$。模型类 `Model_SR` 的代码在 §3.2.4.1 中和它的 `backward` 一起给出。
#
# ### 3.2.3 损失函数
#
# 类别 $c$ 的 one-hot 向量为 $\boldsymbol y=[I(1=c),\dots,I(C=c)]^\top$（式 (3.14)）。多分类交叉熵
# $\mathcal R=-\frac1N\sum_n(\boldsymbol y^{(n)})^\top\log\hat{\boldsymbol y}^{(n)}$（式 (3.15)）中只有真实类别那一项非零，
# 所以
#
# $$\mathcal R(\boldsymbol W,\boldsymbol b)=-\frac1N\sum_{n=1}^N\log\big[\hat{\boldsymbol y}^{(n)}\big]_{y^{(n)}},\qquad(3.16)$$
#
# 其中 $y^{(n)}$ 是第 $n$ 个样本的类别编号。

# %% [raw]
# # BEGIN QUESTION
# name: q8_mce

# %% [markdown]
# **TODO：** 实现 `MultiCrossEntropyLoss.forward(predicts, labels)`（式 (3.16)）：
# - `predicts` 形状 `[N, C]`，每行是一个概率分布；`labels` 是类别编号，形状 `[N]` 或 `[N, 1]`，int32 或 int64；
# - 返回一个数（0 维张量或形状 `[1]`），是 $N$ 个样本的平均损失（除以 $N$，不是 $N\cdot C$）。
# 可以像教材那样逐样本循环，也可以向量化（如 `paddle.take_along_axis` 或 one-hot）。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch03.linear_classifiers.MultiCrossEntropyLoss stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_mce_values(MultiCrossEntropyLoss, paddle):
    loss = MultiCrossEntropyLoss()(paddle.full([1, 3], 1.0 / 3), paddle.to_tensor([0]))
    assert loss is not None, "forward 应返回损失值"
    assert abs(float(loss.numpy().reshape(-1)[0]) - 1.09861231) < 1e-5, "教材 §3.2.3 的例子应得 1.09861231 (= ln 3)"
    loss = MultiCrossEntropyLoss()(paddle.to_tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]), paddle.to_tensor([0, 2]))
    assert abs(float(loss.numpy().reshape(-1)[0]) - 0.28990925) < 1e-5, \
        "标签 [0, 2] 时应得 −(ln 0.7 + ln 0.8)/2 = 0.28990925"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 3.2.4 模型优化
#
# #### 3.2.4.1 梯度计算
#
# 风险函数 (3.16) 关于参数的偏导数为
#
# $$\frac{\partial\mathcal R}{\partial\boldsymbol W}=-\frac1N\boldsymbol X^\top(\boldsymbol Y-\hat{\boldsymbol Y}),\qquad(3.17)
# \qquad\qquad\frac{\partial\mathcal R}{\partial\boldsymbol b}=-\frac1N\boldsymbol 1^\top(\boldsymbol Y-\hat{\boldsymbol Y}),\qquad(3.18)$$
#
# 其中 $\boldsymbol Y\in\{0,1\}^{N\times C}$ 是 one-hot 标签矩阵，$\hat{\boldsymbol Y}$ 是 `[N, C]` 的预测概率，
# $\boldsymbol 1$ 是 $N$ 维全 1 向量。和 §3.1.4.1 一样，`backward` 直接给出“softmax + 交叉熵”合并后关于参数的梯度。

# %% [raw]
# # BEGIN QUESTION
# name: q9_model_sr

# %% [markdown]
# **TODO：** 实现 `Model_SR.backward(labels)`：
# - `labels` 是类别编号，形状 `[N]` 或 `[N, 1]`，int32 或 int64（教材文档写 `[N, 1]`，但它的代码只在 `[N]` 时正确：
#   `[N, 1]` 做 one-hot 会变成 `[N, 1, C]` 并错误地广播）；one-hot 可用 `F.one_hot(类别编号, self.output_dim)`；
# - `forward` 已把输入存在 `self.X`、输出 $\hat{\boldsymbol Y}$ 存在 `self.outputs`；
# - 按式 (3.17)、(3.18) 计算，存入 `self.grads['W']`（形状 `[D, C]`）和 `self.grads['b']`（形状 `[C]`）。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch03.linear_classifiers.Model_SR stub=backward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_model_sr_backward_by_hand(Model_SR, paddle, np):
    model = Model_SR(2, 3)
    model.X = paddle.to_tensor([[1.0, 2.0], [0.0, 1.0]])
    model.outputs = paddle.full([2, 3], 1.0 / 3)    # 全零初始化时每类概率为 1/3（这里不调用 forward）
    model.backward(paddle.to_tensor([0, 2]))
    assert list(model.grads["W"].shape) == [2, 3], f"grads['W'] 形状应为 [D, C] = [2, 3]，实际为 {list(model.grads['W'].shape)}"
    assert np.allclose(model.grads["W"].numpy(), [[-1 / 3, 1 / 6, 1 / 6], [-0.5, 0.5, 0.0]], atol=1e-6), \
        "grads['W'] 应为 −(1/N)·Xᵀ(Y − Ŷ)"
    assert np.allclose(model.grads["b"].numpy().reshape(-1), [-1 / 6, 1 / 3, -1 / 6], atol=1e-6), \
        "grads['b'] 应为 −(1/N)·1ᵀ(Y − Ŷ)，形状 [C]"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **自查梯度（不计分）**：同 §3.1.4.1 之后的做法，用 `gradient_check` 在 float64 中检查 `grads['W']`、`grads['b']`。

# %% tags=["otter_ignore"]
from nndl.gradcheck import gradient_check

def check_model_sr_gradients():
    rng = np.random.default_rng(0)
    X, y = paddle.to_tensor(rng.normal(size=(5, 2))), paddle.to_tensor(rng.integers(0, 3, size=5))
    W, b = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    check_model = Model_SR(2, 3)

    def risk(W, b):
        check_model.params["W"], check_model.params["b"] = paddle.to_tensor(W), paddle.to_tensor(b)
        return MultiCrossEntropyLoss()(check_model(X), y)

    risk(W, b)
    check_model.backward(y)
    dW, db = check_model.grads["W"], check_model.grads["b"]
    print("grads['W']:", gradient_check(lambda W_: risk(W_, b), W, dW))
    print("grads['b']:", gradient_check(lambda b_: risk(W, b_), b, db))


check_model_sr_gradients()

# %% [markdown]
# 教材 §3.2.2.2 与 §3.2.3 的测试：全零初始化时输出每类 1/3，真实类别为 0 时损失为 $\ln 3$。

# %% tags=["otter_ignore"]
model = Model_SR(input_dim=4, output_dim=3)
outputs = model(paddle.randn(shape=[1, 4]))
print("Output is:", outputs.numpy(), " 教材: [[0.33333334 0.33333334 0.33333334]]")
print("MCE:", MultiCrossEntropyLoss()(outputs, paddle.to_tensor([0])).item(), " 教材: 1.09861231")

# %% [markdown]
# #### 3.2.4.2 参数更新
#
# 直接复用 §3.1.4.3 的 `Optimizer_GD`（它遍历 `params` 的所有键）。
#
# ### 3.2.5 模型训练
#
# 学习率 0.1，训练 500 个回合，每 50 个回合打印一次（教材多传的 `eval_epochs=1` 会被忽略）。

# %% tags=["otter_ignore"]
num_epochs = 5 if SMOKE else 500
model = Model_SR(input_dim=2, output_dim=3)
optimizer = Optimizer_GD(init_lr=0.1, model=model)
loss_fn = MultiCrossEntropyLoss()
metric = accuracy
runner = RunnerV2(model, optimizer, metric, loss_fn)
runner.train([X_train, y_train], [X_dev, y_dev], num_epochs=num_epochs, log_epochs=50, eval_epochs=1,
             save_path="best_model.pdparams")
plot(runner)   # 图 3.6
plt.show()

# %% [markdown]
# ### 3.2.6 模型评价
#
# 用测试集评价训练结束时的模型。教材：0.7400/0.7366（完整训练时在 CPU 上可以逐位复现）。
# 决策区域由三条直线分开。
#
# 动手练习 3.3：也可以把多分类拆成若干个“是否属于该类”的二分类 (one-vs-rest)，比较两种思路的效果。

# %% tags=["otter_ignore"]
score, loss = runner.evaluate([X_test, y_test])
print("[Test] score/loss: {:.4f}/{:.4f}".format(score, loss), " 教材: 0.7400/0.7366")
plot_decision_boundary(model, X_test, y_test)
plt.show()

# %% [markdown]
# ## 3.3 实践：基于 Softmax 回归完成鸢尾花分类任务
#
# 使用 `Runner` 的实践流程：1) 数据处理；2) 模型构建；3) 训练配置（损失函数、优化器、评价指标）；
# 4) 组装 Runner；5) 训练、评价和预测。
#
# ### 3.3.1 数据处理
#
# Iris 数据集有 3 类鸢尾花（Setosa 0、Versicolour 1、Virginica 2），每类 50 个样本，每个样本 4 个属性：
# 花萼长度、花萼宽度、花瓣长度、花瓣宽度（表 3.1–3.3）。`load_data`（已给出）从 scikit-learn 读取数据
# （离线可用），按列做最小–最大归一化后打乱；按 80% / 10% / 10% 划分为 120 / 15 / 15 条。

# %%
# nndl: include nndl_ref.ch03.data.load_data

# %% tags=["otter_ignore"]
paddle.seed(102)
X, y = load_data(shuffle=True)
num_train, num_dev, num_test = 120, 15, 15
X_train, y_train = X[:num_train], y[:num_train]
X_dev, y_dev = X[num_train:num_train + num_dev], y[num_train:num_train + num_dev]
X_test, y_test = X[num_train + num_dev:], y[num_train + num_dev:]
print("X_train shape:", list(X_train.shape), "y_train shape:", list(y_train.shape), " 教材: [120, 4] [120]")
print("前 5 个标签:", y_train[:5].tolist(), " 教材: [0, 1, 1, 0, 1]")

# %% [markdown]
# ### 3.3.2–3.3.3 模型构建与训练
#
# 输入 4 维、输出 3 类的 Softmax 回归；学习率 0.2，训练 80 个回合，每 10 个回合打印一次，并保存验证集上
# 准确率最高的模型。（教材此处写成 `optimizer_GD(learning_rate=...)` 和未定义的 `multi_cross_entropy_loss`，
# 应为下面的写法。）

# %% tags=["otter_ignore"]
num_epochs = 5 if SMOKE else 80
model = Model_SR(input_dim=4, output_dim=3)
optimizer = Optimizer_GD(init_lr=0.2, model=model)
loss_fn = MultiCrossEntropyLoss()
metric = accuracy
runner = RunnerV2(model, optimizer, metric, loss_fn)
runner.train([X_train, y_train], [X_dev, y_dev], num_epochs=num_epochs, log_epochs=10, save_path="best_model.pdparams")
plot(runner)   # 图 3.7
plt.show()

# %% [markdown]
# ### 3.3.4 模型评价
#
# 加载训练中保存的最优模型，在测试集上评价。教材：0.8000/0.6612（完整训练时在 CPU 上可以逐位复现）。
# 注意与 §3.2.6 的区别：那里评价的是最后一个回合的模型，这里是验证集上最优的模型。

# %% tags=["otter_ignore"]
runner.load_model("best_model.pdparams")
score, loss = runner.evaluate([X_test, y_test])
print("[Test] score/loss: {:.4f}/{:.4f}".format(score, loss), " 教材: 0.8000/0.6612")

# %% [markdown]
# ### 3.3.5 模型预测
#
# 取测试集的第一条样本，加上批次维度后预测。教材用 `paddle.argmax(label)` 取真实类别，对只有一个元素的张量
# 这总是 0；这里直接取 `label.item()`。（教材打印的 “[2] / [2]” 在飞桨 3.x 的 CPU 上不能复现：种子 102 下
# 第一条测试样本的类别是 0。）
#
# 动手练习 3.4：用《神经网络与深度学习》第3章的其他线性模型完成鸢尾花分类，比较准确率。

# %% tags=["otter_ignore"]
X_one, label = paddle.unsqueeze(X_test[0], axis=0), y_test[0]
logits = runner.predict(X_one)
pred = paddle.argmax(logits, axis=1).item()
print("The true category is {} and the predicted category is {}".format(label.item(), pred))

# %% [markdown]
# ## 3.4 小结
#
# 本章实现了 Logistic 回归和 Softmax 回归两种线性分类模型，以及基于梯度下降的参数学习；`RunnerV2` 在训练中
# 引入验证集，按提前停止的思想保存最优模型。§3.3 的五步流程（数据、模型、训练配置、Runner、训练/评价/预测）
# 在后面的章节中会反复使用。
