# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 第6章 循环神经网络
#
# 本章对应教材第6章。循环神经网络 (Recurrent Neural Network, RNN) 用带自反馈的隐状态 $\boldsymbol h_t=f(\boldsymbol
# h_{t-1},\boldsymbol x_t)$ 处理任意长度的序列，参数通过随时间反向传播 (BPTT) 学习。本章先用简单循环网络 (SRN) 在
# “数字求和”任务上测试网络的记忆能力（§6.1），复现并用梯度截断缓解梯度爆炸（§6.2），再用长短时记忆网络 (LSTM)
# 重做记忆能力实验（§6.3），最后用双向 LSTM 在 IMDB 电影评论上做文本情感分类（§6.4）。
#
# 你将实现（每个 `TODO` 完成后运行其下方的 `grader.check(...)`）：
#
# 1. 嵌入层 `Embedding.forward`（§6.1.2.1，式 (6.3)）；
# 2. 简单循环网络 `SRN.forward`（§6.1.2.2，式 (6.4)）；
# 3. 按范数的梯度截断 `clip_grad_by_norm`（每个张量）与 `clip_grad_by_global_norm`（全部梯度一起）（§6.2.3，式 (6.6)）；
# 4. 长短时记忆网络 `LSTM.forward`（§6.3.1.1，式 (6.7)–(6.13)）；
# 5. 附加题 (extra credit)：动手练习 6.4 的门控循环单元 `GRU.forward`（按飞桨 `nn.GRU` 的公式）；
# 6. IMDB 批数据的截断与补齐 `collate_fn`（§6.4.1.3）；
# 7. 带掩码的平均汇聚 `AveragePooling.forward`（§6.4.2）。
#
# **规则：** 循环计算要亲手实现：`SRN`、`LSTM`、`GRU` 里**不能**调用飞桨的 `nn.SimpleRNN`、`nn.LSTM`、`nn.GRU`（及其
# `*Cell`），梯度截断里不能调用 `nn.ClipGradByNorm`、`nn.ClipGradByGlobalNorm`、`paddle.nn.clip.clip_by_norm` 或
# `paddle.nn.utils.clip_grad_norm_`；
# 隐藏测试会检查这一点（其余检查不受影响）。可以逐个时刻循环，但不要对批 (batch) 里的样本逐个循环。
#
# 第1–5章的 `RunnerV3`、`Accuracy` 等在随附的 `nndl` 包中（support package）。公开测试 (public tests) 只是成绩的
# 一部分，隐藏测试会用随机权重、飞桨内置的循环层（复制权重后比较）、数值梯度等做进一步检查。实验单元格
# （`otter_ignore`）评分时不会运行，评分也不会训练模型。

# %%
import contextlib
import io
import os
import random
import tempfile
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle.nn.clip import ClipGradBase

from nndl import Accuracy, RunnerV3, plot_training_loss_acc

SMOKE = os.environ.get("NNDL_SMOKE") == "1"   # 冒烟模式 (smoke mode)：CI 用极少的数据和步数快速跑通全部实验
WORK_DIR = tempfile.mkdtemp(prefix="nndl_ch06_")  # 数据与模型参数文件都写在这里

# %% [markdown]
# ## 6.1 循环神经网络的记忆能力实验
#
# 简单循环网络在时刻 $t$ 的隐状态为
#
# $$\boldsymbol h_t=\tanh(\boldsymbol U\boldsymbol h_{t-1}+\boldsymbol W\boldsymbol x_t+\boldsymbol b),\qquad(6.2)$$
#
# $\boldsymbol h_0=\boldsymbol 0$。循环网络理论上能记住任意长的历史，但实际上有长程依赖问题 (long-term dependency)。
# 本节用一个“数字求和”任务观察 SRN 能记住多远的信息。
#
# ### 6.1.1 数据集构建
#
# 每条样本是长度为 $L$ 的数字序列：前两个数字是 0–9 的随机数，标签是它们的和（0–18，共 19 类）；其余位置是 0，
# 只有位置 $[2, L)$ 中随机的一个被换成随机数字作为干扰（可能又是 0）。每对 (n1, n2) 在训练集出现 3 次（$k=3$，
# 共 300 条），验证集和测试集各 1 次（100 条）。教材在生成前调用一次 `random.seed(0)`、`np.random.seed(0)`，再依次为
# 长度 5、10、…、35 生成训练、验证、测试集；`make_digitsum_datasets` 按这个顺序生成，得到的文件与教材逐字节相同。
# 教材没有创建文件夹，这里 `generate_data` 会创建。

# %%
# nndl: include nndl_ref.ch06.digitsum

# %% tags=["otter_ignore"]
digitsum_root = make_digitsum_datasets(os.path.join(WORK_DIR, "datasets"))
train_examples, dev_examples, test_examples = load_data(os.path.join(digitsum_root, "5"))
print("dev example:", dev_examples[:2], " 教材: [([0, 0, 6, 0, 0], 0), ([0, 1, 0, 0, 8], 1)]")
print("训练集数量:", len(train_examples), "验证集数量:", len(dev_examples), "测试集数量:", len(test_examples),
      " 教材: 300 100 100")

# %% [markdown]
# ### 6.1.2 模型构建
#
# 模型分三层：嵌入层把数字映射为向量，SRN 读完整个序列，线性层用最后时刻的隐状态预测 19 类。
#
# #### 6.1.2.1 嵌入层
#
# 把每个数字 $s_i$ 写成 10 维 one-hot 向量，序列就是矩阵 $\boldsymbol S'\in\mathbb R^{L\times 10}$，乘以嵌入矩阵
# $\boldsymbol E\in\mathbb R^{10\times M}$ 得到输入序列
#
# $$\boldsymbol X=\boldsymbol S'\boldsymbol E\in\mathbb R^{L\times M}.\qquad(6.3)$$
#
# one-hot 乘法等价于按下标取 $\boldsymbol E$ 的行（查表）。**思考：** 为什么不直接把数字本身输入 SRN？如果要实现
# one-hot 形式的嵌入层，应该怎么写？

# %% [raw]
# # BEGIN QUESTION
# name: q1_embedding

# %% [markdown]
# **TODO：** 实现 `Embedding.forward(inputs)`（`__init__` 已给出，嵌入矩阵是 `self.W`，形状
# `[num_embeddings, embedding_dim]`）：
# - `inputs` 是任意形状的 int64 下标张量（例如 `[B, L]`），返回形状 `[..., embedding_dim]`：每个下标换成 `self.W` 的
#   对应行（式 (6.3)）；
# - 输出要能反向传播到 `self.W`（同一个下标出现多次时梯度累加）；可以按下标索引，也可以写 one-hot 矩阵乘法。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch06.embedding.Embedding stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_embedding_lookup(Embedding, paddle, np):
    emb = Embedding(4, 3)
    table = np.arange(12, dtype="float32").reshape(4, 3)
    emb.set_state_dict({"W": paddle.to_tensor(table)})
    out = emb(paddle.to_tensor([[0, 3], [3, 1]]))
    assert out is not None and list(out.shape) == [2, 2, 3], "输入 [2, 2] 的下标，输出形状应为 [2, 2, 3]"
    assert np.allclose(out.numpy(), table[[[0, 3], [3, 1]]]), "每个下标应换成 W 的对应行"
    assert list(emb(paddle.to_tensor([2, 2, 0])).shape) == [3, 3], "一维的下标 [3] → 输出 [3, 3]"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# #### 6.1.2.2 SRN 层
#
# 一批序列 $\boldsymbol X\in\mathbb R^{B\times L\times M}$ 的第 $t$ 个时刻为 $\boldsymbol X_t\in\mathbb R^{B\times M}$；
# 按行向量的写法，隐状态为
#
# $$\boldsymbol H_t=\tanh(\boldsymbol X_t\boldsymbol W+\boldsymbol H_{t-1}\boldsymbol U+\boldsymbol b),\qquad(6.4)$$
#
# 其中 $\boldsymbol W\in\mathbb R^{M\times D}$、$\boldsymbol U\in\mathbb R^{D\times D}$、$\boldsymbol b\in\mathbb R^{1\times
# D}$（与式 (6.2) 相比转置了），$\boldsymbol H_0=\boldsymbol 0$。教材的参数用 `paddle.create_parameter` 默认的 Xavier
# 均匀分布初始化（偏置 `b` 也是），并且只返回最后一个时刻的隐状态 $\boldsymbol H_L$。

# %% [raw]
# # BEGIN QUESTION
# name: q2_srn

# %% [markdown]
# **TODO：** 实现 `SRN.forward(inputs)`（`__init__` 已给出）：
# - 输入 `inputs` 形状 `[B, L, M]`；初始隐状态为全 0 的 `[B, D]`（`D = self.hidden_size`）；
# - 按时刻 $t=0,\dots,L-1$ 依次用式 (6.4) 更新隐状态（`self.W` `[M, D]`、`self.U` `[D, D]`、`self.b` `[1, D]`，偏置在
#   tanh 里面）；返回最后一个时刻的隐状态，形状 `[B, D]`；
# - 可以按时刻循环（也可以先一次算出所有时刻的 $\boldsymbol X_t\boldsymbol W$），但不要逐个样本循环；不能调用
#   `nn.SimpleRNN`；输出要能反向传播到输入和三个参数。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch06.srn.SRN stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_srn_appendix_toy(SRN, paddle, np):
    srn = SRN(2, 2)
    srn.set_state_dict({"W": paddle.to_tensor([[0.1, 0.2], [0.1, 0.2]]),
                        "U": paddle.to_tensor([[0.0, 0.1], [0.1, 0.0]]), "b": paddle.to_tensor([[0.1, 0.1]])})
    out = srn(paddle.to_tensor([[[1.0, 0.0], [0.0, 2.0]]]))
    assert out is not None and list(out.shape) == [1, 2], "只返回最后时刻的隐状态：形状应为 [B, D] = [1, 2]"
    assert np.allclose(out.numpy(), [[0.31773996, 0.47749741]], atol=1e-6), "两步的小例子应得 [[0.31773996, 0.47749741]]"
    assert list(SRN(3, 4)(paddle.ones([5, 6, 3])).shape) == [5, 4], "输入 [5, 6, 3]、D=4：输出应为 [5, 4]"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 与飞桨的 `nn.SimpleRNN` 比较（教材配套 notebook 的做法）：它的 `weight_ih_l0` `[D, M]`、`weight_hh_l0` `[D, D]` 转置后
# 就是 $\boldsymbol W$、$\boldsymbol U$，两个偏置之和就是 $\boldsymbol b$；它返回所有时刻的输出和最后的隐状态
# `[1, B, D]`。

# %% tags=["otter_ignore"]
paddle_srn = nn.SimpleRNN(4, 5)
our_srn = SRN(4, 5)
our_srn.set_state_dict({"W": paddle_srn.weight_ih_l0.T, "U": paddle_srn.weight_hh_l0.T,
                        "b": (paddle_srn.bias_ih_l0 + paddle_srn.bias_hh_l0).unsqueeze(0)})
x = paddle.randn([3, 7, 4])
_, paddle_hidden = paddle_srn(x)
print("SRN 与 nn.SimpleRNN 最后隐状态的最大差:", float(paddle.abs(our_srn(x) - paddle_hidden[0]).max()))

# %% [markdown]
# #### 6.1.2.3 线性层与 6.1.2.4 模型汇总
#
# 线性层 $\boldsymbol Y=\boldsymbol H_L\boldsymbol W_o+\boldsymbol b_o$（式 (6.5)）直接用 `nn.Linear(hidden_size,
# num_classes)`。`Model_RNN4SeqClass` 把嵌入层、循环层和线性层串起来；循环层在外面创建再传进来（属性名 `model`），
# 这样 §6.3 可以把 SRN 换成 LSTM。教材注释里的 `model_type` 参数并不存在。

# %%
# nndl: include nndl_ref.ch06.srn.Model_RNN4SeqClass

# %% [markdown]
# ### 6.1.3 模型训练 与 6.1.4 模型评价
#
# 教材的设置：嵌入维度和隐状态维度都是 32，Adam（学习率 0.001），批大小 8，训练 500 个回合，每 100 步在验证集上
# 评价并保存最好的模型，最后在测试集上评价。每个长度训练前都重新设 `np.random.seed(0)`、`random.seed(0)`、
# `paddle.seed(0)`。下面的 `train_digit_sum` 在 §6.3 也用于 LSTM。冒烟模式只训练很少的回合和长度。
#
# 完整的记忆能力实验（长度 10–35、各 500 个回合，SRN 和 LSTM）在 2 核 CPU 上约 45 分钟（SRN 每个长度 1–4 分钟，
# LSTM 4–11 分钟）。在飞桨 3.3.1 CPU 上完整运行的结果（测试集准确率）：SRN 0.69、0.71、0.59、0.23、0.28、0.08，
# LSTM 0.90、0.81、0.85、0.70、0.78、0.81（长度 10、15、…、35）——SRN 在长度 20 之后明显变差，LSTM 好得多。

# %%
def train_digit_sum(make_rnn, length, num_epochs, batch_size=8, name="srn"):
    """Train Model_RNN4SeqClass(make_rnn(32, 32)) on DigitSum of ``length`` with the book's settings (§6.1.3);
    returns the runner and the test accuracy of the best checkpoint (§6.1.4)."""
    np.random.seed(0)
    random.seed(0)
    paddle.seed(0)
    train_examples, dev_examples, test_examples = load_data(os.path.join(digitsum_root, str(length)))
    train_loader, dev_loader, test_loader = [paddle.io.DataLoader(DigitSumDataset(examples), batch_size=batch_size)
                                             for examples in (train_examples, dev_examples, test_examples)]
    model = Model_RNN4SeqClass(make_rnn(32, 32), num_digits=10, input_size=32, hidden_size=32, num_classes=19)
    optimizer = paddle.optimizer.Adam(learning_rate=0.001, parameters=model.parameters())
    runner = RunnerV3(model, optimizer, nn.CrossEntropyLoss(), Accuracy())
    save_path = os.path.join(WORK_DIR, f"best_{name}_model_{length}.pdparams")
    with contextlib.redirect_stdout(io.StringIO()):      # 500 个回合的日志太长；需要时去掉这一行
        runner.train(train_loader, dev_loader, num_epochs=num_epochs, eval_steps=100, log_steps=100,
                     save_path=save_path)
    if os.path.exists(save_path):
        runner.load_model(save_path)
    score, _ = runner.evaluate(test_loader)
    return runner, score


MEMORY_LENGTHS = [5, 10] if SMOKE else [10, 15, 20, 25, 30, 35]
MEMORY_EPOCHS = 2 if SMOKE else 500

# %% tags=["otter_ignore"]
srn_scores = {}
for length in MEMORY_LENGTHS:
    srn_runner, srn_scores[length] = train_digit_sum(SRN, length, MEMORY_EPOCHS, name="srn")
    print(f"[SRN] length:{length}, Score: {srn_scores[length]: .5f}", "(smoke mode)" if SMOKE else "")
plot_training_loss_acc(srn_runner, sample_step=20)     # 图 6.6：最后一个长度的训练曲线
plt.suptitle(f"SRN on DigitSum, length {MEMORY_LENGTHS[-1]}")
plt.show()

# %% [markdown]
# **动手练习 6.1：** 参考《神经网络与深度学习》式 (6.50)，在 SRN 的隐状态之间加残差连接（例如
# $\boldsymbol H_t=\boldsymbol H_{t-1}+\tanh(\cdots)$），重做数字求和实验，看能否缓解长程依赖问题。
#
# ## 6.2 梯度爆炸实验
#
# 循环网络的梯度沿时间连乘，容易爆炸或消失。本节打印每一步 $\boldsymbol W$、$\boldsymbol U$、$\boldsymbol b$ 梯度的
# $\ell_2$ 范数来观察梯度爆炸。
#
# ### 6.2.1 梯度打印函数
#
# `custom_print_log(runner)` 由 `RunnerV3` 在 `backward()` 之后、`optimizer.step()` 之前调用，所以看到的是截断前的梯度；
# `GradNormLogger` 还把范数记下来画图（图 6.8、6.9）。

# %%
# nndl: include nndl_ref.ch06.clipping.RECURRENT_PARAMETERS

# %%
# nndl: include nndl_ref.ch06.clipping.grad_norms

# %%
# nndl: include nndl_ref.ch06.clipping.custom_print_log

# %%
# nndl: include nndl_ref.ch06.clipping.GradNormLogger

# %%
# nndl: include nndl_ref.ch06.plots

# %% [markdown]
# ### 6.2.2 复现梯度爆炸现象
#
# 教材把批大小调到 64、学习率调到 0.2，用 SGD，交叉熵的 `reduction="sum"`（损失求和），在长度 20 的数据上训练
# 20 个回合（100 步）。教材打印的前 4 步：损失 185.85355、356.53052、742.90344、4096.00000，梯度范数 (W, U, b)
# 17.70298/54.53837/17.50586、70.45609/102.08938/18.73236、641.59662/649.36023/123.62273、7823.55859/2093.90259/359.69080。
# 本套件的参考实现在飞桨 3.3.1 CPU 上重现了前 3 步的损失和梯度范数（相对误差 < 1e-5）和第 4 步的损失 4096；第 4 步的
# 梯度范数取决于浮点舍入（损失在 4096 饱和后梯度对最后几位很敏感），不能逐位重现。你的 SRN 写法不同（例如先算
# 所有时刻的 $\boldsymbol X_t\boldsymbol W$）时，第 2 步之后的数字可能略有不同，这是正常的。

# %%
def explosion_run(grad_clip=None, num_epochs=20):
    """E6.2 (§6.2.2) with the book's seeds and settings; ``grad_clip`` for §6.2.3. Returns the runner and the logger."""
    np.random.seed(0)
    random.seed(0)
    paddle.seed(0)
    train_examples, dev_examples, _ = load_data(os.path.join(digitsum_root, "20"))
    model = Model_RNN4SeqClass(SRN(32, 32), num_digits=10, input_size=32, hidden_size=32, num_classes=19)
    optimizer = paddle.optimizer.SGD(learning_rate=0.2, parameters=model.parameters(), grad_clip=grad_clip)
    runner = RunnerV3(model, optimizer, nn.CrossEntropyLoss(reduction="sum"), Accuracy())
    logger = GradNormLogger(verbose=False)
    runner.train(paddle.io.DataLoader(DigitSumDataset(train_examples), batch_size=64),
                 paddle.io.DataLoader(DigitSumDataset(dev_examples), batch_size=64), num_epochs=num_epochs,
                 eval_steps=100, log_steps=0, save_path=None, custom_print_log=logger)
    return runner, logger

# %% tags=["otter_ignore"]
explosion_runner, explosion_log = explosion_run()
for step in range(4):
    print(f"step {step}: loss {explosion_runner.train_step_losses[step][1]:.5f}, W/U/b grad l2 "
          f"{explosion_log.W_list[step]:.5f}/{explosion_log.U_list[step]:.5f}/{explosion_log.b_list[step]:.5f}")
print("教材: 185.85355 17.70298/54.53837/17.50586; 356.53052 70.45609/102.08938/18.73236; "
      "742.90344 641.59662/649.36023/123.62273; 4096.00000 7823.55859/2093.90259/359.69080")
plot_grad(explosion_log.W_list, explosion_log.U_list, explosion_log.b_list, title="fig. 6.8: no clipping")
plt.show()

# %% [markdown]
# 梯度先急剧变大，参数随之变得很大，前向计算落进 tanh 的饱和区，之后梯度几乎为 0，模型很难再训练（图 6.8）。
#
# ### 6.2.3 使用梯度截断解决梯度爆炸问题
#
# 按模截断 (clip by norm)：梯度 $\boldsymbol g$ 的范数超过阈值 $\theta$ 时把它缩放到范数恰为 $\theta$：
#
# $$\boldsymbol g=\begin{cases}\boldsymbol g,&\|\boldsymbol g\|\le\theta,\\[2pt]\dfrac{\theta}{\|\boldsymbol g\|}\,\boldsymbol g,
# &\|\boldsymbol g\|>\theta.\end{cases}\qquad(6.6)$$
#
# 教材用 `paddle.nn.ClipGradByNorm(clip_norm=5.0)` 作为 SGD 的 `grad_clip`。注意：它对**每个参数的梯度张量分别**
# 截断（式中的 $\boldsymbol g$ 是一个参数的梯度）；把所有参数的梯度看成一个向量一起截断的是
# `nn.ClipGradByGlobalNorm`。下面两个函数分别实现这两种做法。

# %% [raw]
# # BEGIN QUESTION
# name: q3_clipping

# %% [markdown]
# **TODO：** 实现两个函数（$\|\cdot\|$ 是 $\ell_2$ 范数，对整个张量的所有元素求）：
# - `clip_grad_by_norm(grad, clip_norm)`：`grad` 是一个梯度张量；按式 (6.6) 返回截断后的张量（形状不变）：范数不超过
#   `clip_norm` 时原样返回，否则乘以 `clip_norm / ‖grad‖`；
# - `clip_grad_by_global_norm(grads, clip_norm)`：`grads` 是梯度张量的列表；把它们看成一个向量，总范数
#   $\sqrt{\sum_i\|\boldsymbol g_i\|^2}$ 超过 `clip_norm` 时每个张量都乘以 `clip_norm / 总范数`；返回等长的列表；
# - 亲手实现：不能调用 `nn.ClipGradByNorm`、`nn.ClipGradByGlobalNorm`、`paddle.nn.clip.clip_by_norm`、
#   `paddle.nn.utils.clip_grad_norm_`。
# 下面给出的 `ClipGradByNormByHand` 把你的函数包装成优化器的 `grad_clip`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch06.clipping.clip_grad_by_norm stub=clip_grad_by_norm

# %%
# nndl: include nndl_ref.ch06.clipping.clip_grad_by_global_norm stub=clip_grad_by_global_norm

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_clipping_by_norm(clip_grad_by_norm, clip_grad_by_global_norm, paddle, np):
    grad = paddle.to_tensor([[3.0, 4.0]])
    out = clip_grad_by_norm(grad, 1.0)
    assert out is not None and list(out.shape) == [1, 2], "clip_grad_by_norm 应返回形状相同的张量"
    assert np.allclose(out.numpy(), [[0.6, 0.8]]), "‖[3, 4]‖ = 5 > 1：应缩放为 [0.6, 0.8]"
    assert np.allclose(clip_grad_by_norm(grad, 10.0).numpy(), [[3.0, 4.0]]), "范数不超过阈值时应原样返回"
    out = clip_grad_by_global_norm([paddle.to_tensor([3.0]), paddle.to_tensor([[4.0]])], 1.0)
    assert out is not None and len(out) == 2, "clip_grad_by_global_norm 应返回等长的列表"
    assert np.allclose(out[0].numpy(), [0.6]) and np.allclose(out[1].numpy(), [[0.8]]), "总范数 5：每个梯度都乘以 1/5"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %%
# nndl: include nndl_ref.ch06.clipping.ClipGradByNormByHand

# %% [markdown]
# 用你的截断函数重新训练（与教材一样，模型用相同的种子重新初始化）。教材在截断后最好的验证集准确率为 0.08（学习率和
# 优化器都是为复现梯度爆炸而设的，所以准确率仍然很低）。截断后梯度不再爆炸，也不会变成 0（图 6.9）。

# %% tags=["otter_ignore"]
clipped_runner, clipped_log = explosion_run(ClipGradByNormByHand(clip_norm=5.0))
print(f"best dev accuracy with clipping: {clipped_runner.best_score:.5f}  (教材: 0.08; 不截断: "
      f"{explosion_runner.best_score:.5f})")
plot_grad(clipped_log.W_list, clipped_log.U_list, clipped_log.b_list, title="fig. 6.9: clip by norm, 5.0")
plt.show()

# %% [markdown]
# ## 6.3 LSTM 的记忆能力实验
#
# ### 6.3.1 模型构建
#
# #### 6.3.1.1 LSTM 层
#
# LSTM 用门控制信息的流动：输入门 $\boldsymbol I_t$、遗忘门 $\boldsymbol F_t$、输出门 $\boldsymbol O_t$ 和候选状态
# $\tilde{\boldsymbol C}_t$：
#
# $$\boldsymbol I_t=\sigma(\boldsymbol X_t\boldsymbol W_i+\boldsymbol H_{t-1}\boldsymbol U_i+\boldsymbol b_i),\quad
# \boldsymbol F_t=\sigma(\boldsymbol X_t\boldsymbol W_f+\boldsymbol H_{t-1}\boldsymbol U_f+\boldsymbol b_f),\quad
# \boldsymbol O_t=\sigma(\boldsymbol X_t\boldsymbol W_o+\boldsymbol H_{t-1}\boldsymbol U_o+\boldsymbol b_o),\qquad(6.7\text{–}6.9)$$
#
# $$\tilde{\boldsymbol C}_t=\tanh(\boldsymbol X_t\boldsymbol W_c+\boldsymbol H_{t-1}\boldsymbol U_c+\boldsymbol b_c),\qquad
# \boldsymbol C_t=\boldsymbol F_t\odot\boldsymbol C_{t-1}+\boldsymbol I_t\odot\tilde{\boldsymbol C}_t,\qquad
# \boldsymbol H_t=\boldsymbol O_t\odot\tanh(\boldsymbol C_t),\qquad(6.10\text{–}6.13)$$
#
# $\boldsymbol H_0=\boldsymbol C_0=\boldsymbol 0$。教材代码把候选状态的参数叫 `W_a`、`U_a`、`b_a`（公式里是下标 $c$），
# 本套件沿用代码的名字。

# %% [raw]
# # BEGIN QUESTION
# name: q4_lstm

# %% [markdown]
# **TODO：** 实现 `LSTM.forward(inputs)`（`__init__` 已给出，12 个参数 `W_i, W_f, W_o, W_a` `[M, D]`、`U_*` `[D, D]`、
# `b_*` `[1, D]`）：
# - 输入 `inputs` 形状 `[B, L, M]`；隐状态和记忆单元初始为全 0 的 `[B, D]`；
# - 按时刻依次用式 (6.7)–(6.13) 计算三个门（sigmoid）、候选状态（tanh，参数 `_a`）、记忆单元和隐状态（记忆单元要先过
#   tanh 再乘输出门）；返回最后一个时刻的隐状态 `[B, D]`；
# - 可以分别算四个门，也可以把参数拼起来一次算完再切开（动手练习 6.2）；不能调用 `nn.LSTM`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch06.lstm.LSTM stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_lstm_appendix_toy(LSTM, paddle, np):
    lstm = LSTM(2, 2)
    values = {"W": [[0.1, 0.2], [0.1, 0.2]], "U": [[0.0, 0.1], [0.1, 0.0]], "b": [[0.1, 0.1]]}
    lstm.set_state_dict({f"{kind}_{gate}": paddle.to_tensor(value)
                         for kind, value in values.items() for gate in "ifoa"})
    out = lstm(paddle.to_tensor([[[1.0, 0.0]]]))
    assert out is not None and list(out.shape) == [1, 2], "只返回最后时刻的隐状态：形状应为 [1, 2]"
    assert np.allclose(out.numpy(), [[0.05943684, 0.09524119]], atol=1e-6), "一步的小例子应得 [[0.05943684, 0.09524119]]"
    assert list(LSTM(3, 4)(paddle.ones([5, 6, 3])).shape) == [5, 4], "输入 [5, 6, 3]、D=4：输出应为 [5, 4]"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 与飞桨的 `nn.LSTM` 比较：它把四组参数按 **i、f、c（候选）、o** 的顺序堆成 `weight_ih_l0` `[4D, M]` 和
# `weight_hh_l0` `[4D, D]`，切开并转置后对应教材的 `W_i, W_f, W_a, W_o`；两个偏置之和对应 `b_*`。

# %% tags=["otter_ignore"]
paddle_lstm = nn.LSTM(4, 5)
our_lstm = LSTM(4, 5)
chunks = {"W": paddle.split(paddle_lstm.weight_ih_l0.T, 4, axis=-1),
          "U": paddle.split(paddle_lstm.weight_hh_l0.T, 4, axis=-1),
          "b": paddle.split((paddle_lstm.bias_ih_l0 + paddle_lstm.bias_hh_l0).unsqueeze(0), 4, axis=-1)}
our_lstm.set_state_dict({f"{kind}_{gate}": chunks[kind][k] for kind in "WUb" for k, gate in enumerate("ifao")})
x = paddle.randn([3, 7, 4])
_, (paddle_hidden, _) = paddle_lstm(x)
print("LSTM 与 nn.LSTM 最后隐状态的最大差:", float(paddle.abs(our_lstm(x) - paddle_hidden[0]).max()))

# %% [markdown]
# ### 6.3.2 模型训练 与 6.3.3 模型评价
#
# 设置与 SRN 相同，只把 `SRN(32, 32)` 换成 `LSTM(32, 32)`。图 6.12：LSTM 在各个长度上都明显好于 SRN。

# %% tags=["otter_ignore"]
lstm_scores = {}
for length in MEMORY_LENGTHS:
    lstm_runner, lstm_scores[length] = train_digit_sum(LSTM, length, MEMORY_EPOCHS, name="lstm")
    print(f"[LSTM] length:{length}, Score: {lstm_scores[length]: .5f}", "(smoke mode)" if SMOKE else "")
plot_training_loss_acc(lstm_runner, sample_step=20)    # 图 6.11
plt.suptitle(f"LSTM on DigitSum, length {MEMORY_LENGTHS[-1]}")
plt.show()
plot_accuracy_by_length({"SRN": srn_scores, "LSTM": lstm_scores},
                        title="memory capacity (smoke mode)" if SMOKE else "memory capacity (figs. 6.7, 6.12)")
plt.show()

# %% [markdown]
# **动手练习 6.2：** 把四个门的矩阵乘法合成一次（`[M, 4D]`、`[D, 4D]`），再切开。**动手练习 6.3：** 实现双向 LSTM。
#
# ### 附加题：门控循环单元 GRU（动手练习 6.4）
#
# GRU 只有重置门 $\boldsymbol R_t$ 和更新门 $\boldsymbol Z_t$，没有单独的记忆单元。本套件按飞桨 `nn.GRU` 的公式（它的
# 参数按 **r、z、c** 的顺序堆叠），以便与它比较：
#
# $$\boldsymbol R_t=\sigma(\boldsymbol X_t\boldsymbol W_r+\boldsymbol H_{t-1}\boldsymbol U_r+\boldsymbol b_r),\qquad
# \boldsymbol Z_t=\sigma(\boldsymbol X_t\boldsymbol W_z+\boldsymbol H_{t-1}\boldsymbol U_z+\boldsymbol b_z),$$
#
# $$\tilde{\boldsymbol C}_t=\tanh\big(\boldsymbol X_t\boldsymbol W_c+\boldsymbol b_c+\boldsymbol R_t\odot(\boldsymbol H_{t-1}
# \boldsymbol U_c)\big),\qquad\boldsymbol H_t=\boldsymbol Z_t\odot\boldsymbol H_{t-1}+(1-\boldsymbol Z_t)\odot
# \tilde{\boldsymbol C}_t.$$
#
# 注意两点：重置门乘在 $\boldsymbol H_{t-1}\boldsymbol U_c$ 上（不是先乘 $\boldsymbol H_{t-1}$ 再乘 $\boldsymbol U_c$）；
# $\boldsymbol Z_t$ 保留的是**旧**状态（有的教材写成 $(1-\boldsymbol Z_t)\odot\boldsymbol H_{t-1}$，与此相反）。

# %% [raw]
# # BEGIN QUESTION
# name: q5_gru

# %% [markdown]
# **TODO（附加题）：** 实现 `GRU.forward(inputs)`（`__init__` 已给出，9 个参数 `W_r, W_z, W_c` `[M, D]`、`U_*` `[D, D]`、
# `b_*` `[1, D]`）：输入 `[B, L, M]`，$\boldsymbol H_0=\boldsymbol 0$，按上面的公式逐时刻更新，返回最后时刻的隐状态
# `[B, D]`；不能调用 `nn.GRU`。评分时与复制了权重的 `nn.GRU`（其 `bias_hh_l0` 为 0）比较。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch06.gru.GRU stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_gru_zero_weights(GRU, paddle, np):
    gru = GRU(2, 3)
    gru.set_state_dict({name: paddle.zeros(param.shape) for name, param in gru.named_parameters()})
    out = gru(paddle.ones([2, 4, 2]))
    assert out is not None and list(out.shape) == [2, 3], "输入 [2, 4, 2]、D=3：输出应为 [2, 3]"
    assert np.allclose(out.numpy(), 0.0), "参数全为 0 时候选状态为 0，隐状态一直是 0"
    gru.set_state_dict({"b_c": paddle.ones([1, 3])})
    out = gru(paddle.ones([1, 1, 2]))
    assert np.allclose(out.numpy(), 0.5 * np.tanh(1.0), atol=1e-6), "一步、Z=0.5、C̃=tanh(1)：H = 0.5·tanh(1)"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# 有兴趣可以把 `GRU` 放进 `train_digit_sum`，与 LSTM 比较（动手练习 6.4 的后半部分）。
#
# ## 6.4 实践：基于双向 LSTM 模型完成文本分类任务
#
# ### 6.4.1 数据处理
#
# IMDB 电影评论数据集有训练集 25,000 条；教材把原测试集的 25,000 条平分为验证集和测试集（各 12,500 条）。评分 ≥7 为
# 正面（标签 1），≤4 为负面（标签 0）。官方压缩包 `aclImdb_v1.tar.gz`（80 MB）需要联网：把环境变量 `NNDL_IMDB` 设为
# 下载好的压缩包（或已经是教材格式的文件夹）即可。没有时，本 notebook 生成一个格式相同的小型**替代数据
# (stand-in)**：生成的句子里的情感词决定标签，不是 IMDB，所有输出和图标题都注明 stand-in。
#
# `load_imdb_data` 读教材格式的 `train.txt`、`dev.txt`、`test.txt`（每行“标签\t文本”，已分词、小写），`load_vocab` 读
# `vocab.txt`（`[PAD]`=0、`[UNK]`=1，然后按词频）。`IMDBDataset` 把词换成编号（不在词表里的换成 `[UNK]`）；教材的
# `words_to_id` 忘了 `return`，这里补上了。

# %%
# nndl: include nndl_ref.ch06.imdb

# %% tags=["otter_ignore"]
if os.environ.get(IMDB_ENV_VAR):
    imdb = load_imdb()
else:
    imdb = load_imdb(write_imdb_stand_in(os.path.join(WORK_DIR, "aclImdb_v1.tar.gz"),
                                         num_per_class=6 if SMOKE else 200))
train_data, dev_data, test_data, word2id_dict, imdb_source = imdb
print(imdb_source)
print("训练集/验证集/测试集:", len(train_data), len(dev_data), len(test_data), " 教材: 25000 12500 12500")
print("train_data[1]:", train_data[1])
train_set, dev_set, test_set = [IMDBDataset(examples, word2id_dict) for examples in (train_data, dev_data, test_data)]
print("train_set[0]:", train_set[0])

# %% [markdown]
# #### 6.4.1.3 封装 DataLoader
#
# 同一批里的句子长短不一，要补齐 (padding) 成一样长才能组成张量；太长的句子先截断到 `max_seq_len`（教材 256）。
# 补齐用的编号是 `[PAD]` 的编号，还要记下每句截断后的真实长度，后面的 LSTM 和汇聚层都要用它。

# %% [raw]
# # BEGIN QUESTION
# name: q6_collate_fn

# %% [markdown]
# **TODO：** 实现 `collate_fn(batch_data, pad_val=0, max_seq_len=256)`：
# - `batch_data` 是 `(ids, label)` 的列表（`ids` 是整数列表）；
# - 每句先截断到最多 `max_seq_len` 个词，记下截断后的长度；再用 `pad_val` 补到本批最长句子的长度（不是
#   `max_seq_len`）；
# - 返回 `((seqs, seq_lens), labels)`：`seqs` `[B, L']`、`seq_lens` `[B]`、`labels` `[B]`，都是 int64 张量。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch06.batching.collate_fn stub=collate_fn

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_collate_fn_demo(collate_fn, np):
    (seqs, lens), labels = collate_fn([[[1, 2, 3, 4, 5, 6], 1], [[2, 4, 6], 0]], pad_val=0, max_seq_len=5)
    assert np.array_equal(seqs.numpy(), [[1, 2, 3, 4, 5], [2, 4, 6, 0, 0]]), "截断到 5 个词，再用 0 补齐"
    assert np.array_equal(lens.numpy(), [5, 3]) and np.array_equal(labels.numpy(), [1, 0]), "长度应为 [5, 3]、标签 [1, 0]"
    (seqs, _), _ = collate_fn([[[7, 7], 1], [[8], 0]], pad_val=9)
    assert np.array_equal(seqs.numpy(), [[7, 7], [8, 9]]), "补到本批最长句子的长度，用 pad_val 补"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% tags=["otter_ignore"]
max_seq_len = 256
imdb_collate = partial(collate_fn, pad_val=word2id_dict.get("[PAD]"), max_seq_len=max_seq_len)
imdb_batch_size = 128
train_loader = paddle.io.DataLoader(train_set, batch_size=imdb_batch_size, shuffle=True, collate_fn=imdb_collate)
dev_loader = paddle.io.DataLoader(dev_set, batch_size=imdb_batch_size, shuffle=False, collate_fn=imdb_collate)
test_loader = paddle.io.DataLoader(test_set, batch_size=imdb_batch_size, shuffle=False, collate_fn=imdb_collate)
(seqs, seq_lens), labels = next(iter(train_loader))
print("seqs:", seqs.shape, "seq_lens:", seq_lens.numpy()[:8], "labels:", labels.numpy()[:8])

# %% [markdown]
# ### 6.4.2 模型构建
#
# 模型：嵌入层 → 双向 LSTM（`nn.LSTM(direction="bidirectional")`，每个时刻输出正反两个方向的隐状态拼接，`2H` 维）→
# 对所有真实（非补齐）时刻的输出求平均 → 线性层输出 2 类。**思考：** `[PAD]` 会影响反向 LSTM 吗？会——反向 LSTM
# 从序列末尾的补齐位置开始读。把 `sequence_length` 传给 `nn.LSTM` 就能避免：它只处理每句的真实部分，补齐位置输出 0。
#
# 平均汇聚层按长度做掩码 (mask)：第 $i$ 句只对前 `sequence_length[i]` 个时刻求平均。教材代码用
# `paddle.arange(max_len) < sequence_length`（int64 与 float32 比较）在飞桨 3.x 上会报 `TypeError`（不再自动提升
# 类型），要先统一类型。

# %% [raw]
# # BEGIN QUESTION
# name: q7_average_pooling

# %% [markdown]
# **TODO：** 实现 `AveragePooling.forward(sequence_output, sequence_length)`：
# - `sequence_output` `[B, L, H]`，`sequence_length` `[B]`（int64、int32 或 float32）；
# - 返回 `[B, H]`：第 $i$ 行是 `sequence_output[i, :sequence_length[i]]` 的平均值；补齐位置（$t\ge$ 长度）不论存的是什么
#   都不能影响结果，也不能得到梯度；除以真实长度，不是 `L`；
# - 可以用掩码一次算完，也可以对每句分别求平均。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch06.sequence_pooling.AveragePooling stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_average_pooling_mask(AveragePooling, paddle, np):
    values = paddle.to_tensor([[[1.0], [3.0], [100.0]], [[2.0], [-50.0], [70.0]]])
    out = AveragePooling()(values, paddle.to_tensor([2, 1]))
    assert out is not None and list(out.shape) == [2, 1], "输入 [2, 3, 1]：输出应为 [2, 1]"
    assert np.allclose(out.numpy(), [[2.0], [2.0]]), "只对前 sequence_length 个时刻求平均：应得 [[2], [2]]"
    out = AveragePooling()(values, paddle.to_tensor([3.0, 2.0]))
    assert np.allclose(out.numpy(), [[104 / 3], [-24.0]]), "sequence_length 为 float32 时也应可用"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %%
# nndl: include nndl_ref.ch06.bilstm.Model_BiLSTM_FC

# %% [markdown]
# ### 6.4.3 模型训练 – 6.4.5 模型预测
#
# 教材：嵌入和隐状态维度 256，Adam（学习率 0.001），训练 3 个回合，每 10 步评价；教材在 GPU 上、真实 IMDB 数据上的
# 测试集准确率为 **0.86064**（本套件没有那份数据，所以这个数字不作为检验目标，只列在这里对照）。在 CPU 上完整训练
# 一次约需数小时；替代数据 (stand-in) 上只训练很少的步数，维度也更小。

# %% tags=["otter_ignore"]
stand_in_run = "stand-in" in imdb_source
paddle.seed(0)
imdb_size = 16 if SMOKE else (32 if stand_in_run else 256)
imdb_model = Model_BiLSTM_FC(len(word2id_dict), imdb_size, imdb_size)
imdb_runner = RunnerV3(imdb_model, paddle.optimizer.Adam(learning_rate=0.001, beta1=0.9, beta2=0.999,
                                                         parameters=imdb_model.parameters()),
                       nn.CrossEntropyLoss(), Accuracy())
imdb_save_path = os.path.join(WORK_DIR, "best_imdb.pdparams")
imdb_runner.train(train_loader, dev_loader, num_epochs=2 if SMOKE else (30 if stand_in_run else 3),
                  eval_steps=1 if stand_in_run else 10, log_steps=1 if stand_in_run else 10, save_path=imdb_save_path)
plot_training_loss_acc(imdb_runner, sample_step=1 if stand_in_run else 10)     # 图 6.15
plt.suptitle("BiLSTM on " + ("the IMDB stand-in (not IMDB)" if stand_in_run else "IMDB"))
plt.show()
if os.path.exists(imdb_save_path):
    imdb_runner.load_model(imdb_save_path)
score, loss = imdb_runner.evaluate(test_loader)
print(f"[Test] accuracy/loss: {score:.5f}/{loss:.5f} on {imdb_source}", " 教材 (GPU, IMDB): 0.86064")

# %% tags=["otter_ignore"]
id2label = {0: "消极情绪", 1: "积极情绪"}
text = "this movie is so great. I watched it three times already"
tokens = [word2id_dict.get(word, word2id_dict["[UNK]"]) for word in text.split(" ")][:max_seq_len]
logits = imdb_runner.predict((paddle.to_tensor(tokens, dtype="int64").unsqueeze(0),
                              paddle.to_tensor([len(tokens)], dtype="int64")))
print("Label:", id2label[int(paddle.argmax(logits, axis=-1).item())], " 教材: 积极情绪", f"({imdb_source})")

# %% [markdown]
# **动手练习 6.5：** 让自己写的 LSTM 支持一批中不同长度的序列（掩码）和双向。**动手练习 6.6：** 堆叠多层 LSTM 做
# 情感分析，观察层数对效果的影响。
#
# ## 6.5 小结
#
# 本章实现了嵌入层、简单循环网络和 LSTM，在数字求和任务上比较了两者的记忆能力；复现了梯度爆炸并用梯度截断缓解；
# 最后用双向 LSTM 加带掩码的平均汇聚完成了文本情感分类。附加题实现了 GRU。
