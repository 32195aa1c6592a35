# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 第1章 实践基础
#
# 本章对应教材第1章：张量 (Tensor)、算子 (Operator) 与自动微分。你将实现：
#
# 1. 广播机制 (broadcasting) 的形状规则 `broadcast_shape`（§1.2.5.4）；
# 2. 加法、乘法、指数三个算子 `add`、`multiply`、`exponential` 的前向 (forward) 与反向 (backward) 计算（§1.3.1）；
# 3. 用这三个算子和链式法则 (chain rule) 计算 $g=\exp(a\times b+c\times d)$ 及其梯度（§1.3.1.3）。
#
# 每个 `TODO` 完成后运行下方的 `grader.check(...)`。公开测试 (public tests) 只是成绩的一部分，
# 提交后还有隐藏测试 (hidden tests)。标记为实验 (`otter_ignore`) 的单元格评分时不会运行。

# %%
import math

import numpy as np
import paddle

# %% [markdown]
# ## 1.2 张量
#
# 张量是深度学习框架中存储数据的基本结构。下面先熟悉张量的创建、形状与数据类型。

# %% tags=["otter_ignore"]
ndim_3_tensor = paddle.to_tensor([[[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]],
                                  [[11, 12, 13, 14, 15], [16, 17, 18, 19, 20]]])
print("shape:", ndim_3_tensor.shape, "dtype:", ndim_3_tensor.dtype)
print("reshape [-1]:", paddle.reshape(ndim_3_tensor, [-1]).shape)
print("reshape [0, 5, 2]:", paddle.reshape(ndim_3_tensor, [0, 5, 2]).shape)
print("unsqueeze:", paddle.unsqueeze(paddle.ones([5, 10]), axis=[1, 2]).shape)
# 飞桨 3.x 中单个元素是 0 维张量 (0-D tensor)，形状为 []，教材（飞桨 2.2）中显示为 [1]
print("0-D:", paddle.to_tensor([1.0, 2.0])[0].shape)

# %% [raw]
# # BEGIN QUESTION
# name: q1_broadcast_shape

# %% [markdown]
# ### 1.2.5.4 广播机制 (broadcasting)
#
# 两个张量可以广播的条件：每个张量至少一维；**从后往前**比较形状，当前维度的大小要么相等，要么其中一个为 1，
# 要么其中一个不存在。结果形状：把较短的形状在**左侧**补 1，然后每一维取两者中较大的值。
#
# **TODO：** 实现 `broadcast_shape(shape_x, shape_y)`，输入两个形状（整数列表），返回广播后的形状（列表）；
# 不能广播时抛出 `ValueError`。不要调用 `paddle.broadcast_shape` 或 `numpy.broadcast_shapes`。
#
# 例：`[2, 3, 1, 5]` 与 `[3, 4, 1]` 广播后为 `[2, 3, 4, 5]`；`[2, 3, 4]` 与 `[2, 3, 6]` 不能广播。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch01.tensor_basics.broadcast_shape stub=broadcast_shape

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_broadcast_shape_book_examples(broadcast_shape):
    assert list(broadcast_shape([2, 3, 4], [2, 3, 4])) == [2, 3, 4], "形状相同的张量广播后形状不变"
    assert list(broadcast_shape([2, 3, 1, 5], [3, 4, 1])) == [2, 3, 4, 5], "教材 §1.2.5.4 的例子应得 [2, 3, 4, 5]"
    try:
        broadcast_shape([2, 3, 4], [2, 3, 6])
    except ValueError:
        pass
    else:
        raise AssertionError("[2, 3, 4] 与 [2, 3, 6] 不能广播，应抛出 ValueError")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 用飞桨验证你的结果（实验单元格，评分时不运行）：

# %% tags=["otter_ignore"]
x, y = paddle.ones((2, 3, 1, 5)), paddle.ones((3, 4, 1))
print("paddle:", (x + y).shape, " yours:", broadcast_shape([2, 3, 1, 5], [3, 4, 1]))
print("matmul 广播:", paddle.matmul(paddle.ones([10, 1, 5, 2]), paddle.ones([3, 2, 5])).shape)

# %% [markdown]
# ## 1.3 算子
#
# 算子是构建复杂模型的基础组件，包含函数 $f(x)$ 的前向函数与反向函数。本书的算子接口 `Op` 如下：
# `forward` 计算输出并缓存反向计算需要的值；`backward(outputs_grads)` 接收最终输出对本算子输出的梯度，
# 返回最终输出对本算子输入的梯度（链式法则，式 (1.4)）。

# %%
# nndl: include nndl_ref.ch01.op.Op

# %% [raw]
# # BEGIN QUESTION
# name: q2_add

# %% [markdown]
# ### 1.3.1.1 加法算子
#
# 前向 $z=x+y$；反向：$\delta_x=\delta_z\cdot 1$，$\delta_y=\delta_z\cdot 1$。
#
# **TODO：** 实现 `add.forward(x, y)`（缓存 `self.x`、`self.y` 并返回 `x + y`）和 `add.backward(grads)`
# （返回元组 `(grads_x, grads_y)`）。输入可以是 Python 数或张量。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch01.scalar_ops.add stub=forward,backward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_add_scalars(add):
    op = add()
    assert op(1, 4) == 5, "add()(1, 4) 应为 5"
    grads = op.backward(1)
    assert tuple(grads) == (1, 1), "z = x + y 时 dz/dx = dz/dy = 1，backward(1) 应返回 (1, 1)"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q3_multiply

# %% [markdown]
# ### 1.3.1.2 乘法算子
#
# 前向 $z=x\times y$；反向：$\delta_x=\delta_z\cdot y$，$\delta_y=\delta_z\cdot x$——反向计算要用到前向时
# **缓存的输入**。
#
# **TODO：** 实现 `multiply.forward(x, y)` 和 `multiply.backward(grads)`（返回 `(grads_x, grads_y)`）。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch01.scalar_ops.multiply stub=forward,backward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_multiply_scalars(multiply):
    op = multiply()
    assert op(2, 3) == 6, "multiply()(2, 3) 应为 6"
    grads = op.backward(1)
    assert tuple(grads) == (3, 2), "z = x·y 时 dz/dx = y、dz/dy = x：backward(1) 应返回 (3, 2)"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q4_exponential

# %% [markdown]
# ### 1.3.1.3 指数算子
#
# 前向 $z=\exp(x)$；反向：$\delta_x=\delta_z\cdot\exp(x)$。与教材一样，输入是 Python 数，用 `math.exp` 计算。
#
# **TODO：** 实现 `exponential.forward(x)` 和 `exponential.backward(grads)`（返回一个梯度）。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch01.scalar_ops.exponential stub=forward,backward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_exponential_scalar(exponential, math):
    op = exponential()
    assert abs(op(1.0) - math.e) < 1e-9, "exponential()(1.0) 应为 e"
    assert abs(op.backward(2.0) - 2 * math.e) < 1e-9, "x = 1 时 backward(2.0) 应为 2e"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **自查梯度（不计分）**：像 CS231n 那样，用 `nndl.gradcheck.gradient_check` 把你写的 `backward` 与 float64 中心差分
# (central differences) 比较。相对误差 (relative error) 小于约 1e-6 说明 `backward` 正确；评分用的梯度检查另有隐藏测试。

# %% tags=["otter_ignore"]
from nndl.gradcheck import gradient_check

def check_operators_gradients():
    x, y = 1.3, -0.7
    for op_class in (add, multiply):
        op = op_class()
        op(x, y)
        dx, dy = op.backward(1.0)
        print(op_class.__name__, "dx:", gradient_check(lambda X: op_class()(X, y), x, dx))
        print(op_class.__name__, "dy:", gradient_check(lambda Y: op_class()(x, Y), y, dy))
    op = exponential()
    op(x)
    print("exponential dx:", gradient_check(lambda X: exponential()(X), x, op.backward(1.0)))


check_operators_gradients()

# %% [raw]
# # BEGIN QUESTION
# name: q5_chain_rule

# %% [markdown]
# ### 组合算子：$g=\exp(a\times b+c\times d)$
#
# 用上面的算子搭出 $g$ 的计算图，再**从输出到输入**依次调用各算子的 `backward`，得到
# $\partial g/\partial a,\ \partial g/\partial b,\ \partial g/\partial c,\ \partial g/\partial d$。
#
# 注意：教材的例子把同一个 `multiply_op` 实例用了两次——第二次前向会覆盖第一次缓存的输入，
# 反向计算就错了。**每个乘法用各自的算子实例。**
#
# **TODO：** 实现 `exp_ab_plus_cd(a, b, c, d)`，返回 `(g, (dg_da, dg_db, dg_dc, dg_dd))`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch01.scalar_ops.exp_ab_plus_cd stub=exp_ab_plus_cd

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_chain_rule_book_point(env, math):
    class Scalar:                 # 本题只检查组合：第 2–4 题的算子在这里换成下面这些正确的标量算子
        def __call__(self, *inputs):
            return self.forward(*inputs)

    class add(Scalar):
        def forward(self, x, y):
            return x + y

        def backward(self, grads):
            return grads, grads

    class multiply(Scalar):
        def forward(self, x, y):
            self.x, self.y = x, y
            return x * y

        def backward(self, grads):
            return grads * self.y, grads * self.x

    class exponential(Scalar):
        def forward(self, x):
            self.value = math.exp(x)
            return self.value

        def backward(self, grads):
            return grads * self.value

    own = {name: env[name] for name in ("add", "multiply", "exponential")}
    env.update({"add": add, "multiply": multiply, "exponential": exponential})
    try:
        g, grads = env["exp_ab_plus_cd"](2, 3, 2, 2)
    finally:
        env.update(own)
    assert abs(g - 22026.465794806718) < 1e-6, "a, b, c, d = 2, 3, 2, 2 时 g = e^10 = 22026.4657948…（教材 §1.3.1.3）"
    assert abs(grads[0] - 3 * math.exp(10)) < 1e-6, "dg/da 应为 b·e^(ab+cd)"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 教材中的计算（实验单元格）：

# %% tags=["otter_ignore"]
g, grads = exp_ab_plus_cd(2, 3, 2, 2)
print("g:", g)
print("dg/da, dg/db, dg/dc, dg/dd:", grads)

# %% [markdown]
# ### 1.3.2 自动微分机制
#
# 飞桨会记录前向计算图，`backward()` 沿图反向传播梯度。`stop_gradient=False` 表示**需要**计算梯度
# （教材代码注释中写反了）。飞桨 3.x 中非叶子张量的梯度默认不保留，需先调用 `retain_grads()`。

# %% tags=["otter_ignore"]
a = paddle.to_tensor(2.0, stop_gradient=False)
b = paddle.to_tensor(5.0, stop_gradient=True)
c = a * b
c.retain_grads()
c.backward()
print("a.grad:", a.grad, "\nb.grad:", b.grad, "\nc.grad:", c.grad)

# %% [markdown]
# 用自动微分检查你的 `exp_ab_plus_cd`：

# %% tags=["otter_ignore"]
tensors = [paddle.to_tensor(v, dtype="float64", stop_gradient=False) for v in (2.0, 3.0, 2.0, 2.0)]
g_auto = paddle.exp(tensors[0] * tensors[1] + tensors[2] * tensors[3])
g_auto.backward()
print("autograd:", [t.grad.item() for t in tensors])
print("yours:   ", list(exp_ab_plus_cd(2.0, 3.0, 2.0, 2.0)[1]))

# %% [markdown]
# 画出指数算子的前向输出，以及反向梯度与数值差分 (finite difference) 的对比：两条梯度曲线应重合。

# %% tags=["otter_ignore"]
import matplotlib.pyplot as plt

xs = np.linspace(-2, 2, 41)
forward = [exponential()(float(x)) for x in xs]
backward = []
for x in xs:
    op = exponential()
    op(float(x))
    backward.append(op.backward(1.0))
numeric = [(math.exp(x + 1e-5) - math.exp(x - 1e-5)) / 2e-5 for x in xs]
plt.figure(figsize=(5, 3.5))
plt.plot(xs, forward, label="forward exp(x)")
plt.plot(xs, backward, "--", label="backward (yours)")
plt.plot(xs[::4], numeric[::4], "o", label="finite difference")
plt.xlabel("x")
plt.legend()
plt.show()
