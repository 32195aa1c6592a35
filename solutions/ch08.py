# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 第8章 注意力机制
#
# 本章对应教材第8章。注意力机制 (attention mechanism) 让模型从一组输入中有选择地汇聚信息：先用打分函数
# (scoring function) 计算查询与每个输入的相关性，再用 softmax 得到注意力分布，最后按分布加权平均。本章先在第6章的
# 双向 LSTM 文本分类模型上加入注意力（§8.1），再实现 QKV 注意力和多头自注意力 (multi-head self-attention，§8.2)，
# 最后用 Transformer 编码器完成中文文本语义匹配（§8.3）。
#
# 你将实现（每个 `TODO` 完成后运行其下方的 `grader.check(...)`）：
#
# 1. 带掩码的 softmax `masked_softmax`（§8.1.2.2，式 (8.5)）；
# 2. 加性打分 `AdditiveScore.forward` 和点积打分 `DotProductScore.forward`（§8.1.2.1，式 (8.3)、(8.4)）；
# 3. 注意力层 `Attention.forward`（§8.1.2.4）；
# 4. 教材动手练习 8.1（加分题 extra credit）：缩放点积打分和双线性打分；
# 5. QKV 注意力 `QKVAttention.forward`（§8.2.1.2，式 (8.11)）；
# 6. 多头自注意力 `split_head_reshape` 和 `MultiHeadSelfAttention.forward`（§8.2.1.3）；
# 7. 正弦位置编码 `get_sinusoid_encoding`（§8.3.2.1，式 (8.22)、(8.23)）；
# 8. `AddNorm`、`PositionwiseFFN` 和 `TransformerBlock` 的 `forward`（§8.3.2.2）。
#
# **规则：** 注意力要亲手实现：可以用 `paddle.matmul`、`paddle.einsum`、`F.softmax`、`paddle.where` 等，但在
# `QKVAttention` 和 `MultiHeadSelfAttention` 中**不能**调用 `paddle.nn.MultiHeadAttention` 或
# `paddle.nn.functional.scaled_dot_product_attention`，在 `TransformerBlock` 中不能调用
# `paddle.nn.TransformerEncoderLayer`（教材的 `TransformerBlock.__init__` 本身用 `nn.MultiHeadAttention`，这是允许的）。
# 隐藏测试会检查这一点。
#
# 第1–7章的 `RunnerV3`、`Accuracy`、第6章的 `AveragePooling` 和 IMDB 数据处理在随附的 `nndl` 包中 (support
# package)。公开测试 (public tests) 只是成绩的一部分，隐藏测试会用更多形状、长度、飞桨内置层（复制相同的参数）和
# 数值梯度做进一步检查；评分时某一题用到的其他题的组件（例如 `Attention` 里的打分函数）会换成正确的版本，所以
# 每道题只按它自己的代码给分。实验单元格（`otter_ignore`）评分时不会运行，评分也不会训练模型。

# %%
import os
import tempfile
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from nndl import Accuracy, RunnerV3, plot_training_loss_acc
from nndl.ch06.imdb import IMDB_ENV_VAR, IMDBDataset, load_imdb, write_imdb_stand_in
from nndl.ch06.imdb import collate_fn as imdb_collate_fn
from nndl.ch06.sequence_pooling import AveragePooling

SMOKE = os.environ.get("NNDL_SMOKE") == "1"   # 冒烟模式 (smoke mode)：CI 用极少的数据和步数快速跑通全部实验

# %% [markdown]
# ## 8.1 基于双向 LSTM 和注意力机制的文本分类
#
# 给定输入序列 $\boldsymbol X=[\boldsymbol x_1,\dots,\boldsymbol x_L]\in\mathbb R^{L\times D}$ 和查询向量
# $\boldsymbol q$，注意力分布和加权平均为
#
# $$\alpha_n=\mathrm{softmax}\big(s(\boldsymbol x_n,\boldsymbol q)\big),\qquad(8.1)\qquad\qquad
# \boldsymbol z=\sum_{n=1}^{L}\alpha_n\boldsymbol x_n.\qquad(8.2)$$
#
# 在文本分类中，查询向量 $\boldsymbol q$ 是一个随机初始化、可学习的参数。数据与第6章相同（IMDB 电影评论）。
#
# ### 8.1.2.2 注意力分布：带掩码的 softmax
#
# 一个批次中的句子长度不同，短句末尾补了 [PAD]。补齐的位置不应得到注意力，所以在 softmax 之前把这些位置的分数
# 换成一个很大的负数（教材用 $-10^9$）：
#
# $$\boldsymbol A=\mathrm{softmax}(\boldsymbol S+\boldsymbol M)\in\mathbb R^{B\times L},\qquad(8.5)$$
#
# 其中 $\boldsymbol M$ 在 [PAD] 位置为 $-10^9$、其余为 0。教材把这段代码直接写在 `Attention.forward` 里；本套件把它
# 提出来成为一个函数 `masked_softmax`，后面的 `Attention` 和 `QKVAttention` 都可以调用它。

# %%
# nndl: include nndl_ref.ch08.attention.MASK_VALUE

# %% [raw]
# # BEGIN QUESTION
# name: q1_masked_softmax

# %% [markdown]
# **TODO：** 实现 `masked_softmax(scores, valid_lens)`：
# - `scores` 形状 `[B, L]`（float32），`valid_lens` 形状 `[B]`，是每个句子的有效长度（int64 或 int32）；
# - 位置 $j\ge$ `valid_lens[b]` 的分数换成 `MASK_VALUE`（$-10^9$）后，对最后一维做 softmax，返回 `[B, L]`；
# - 补齐位置原来是什么值都不应影响结果；它们的权重应小于 $10^{-6}$（CPU 上约为 $5\times10^{-29}$，不是严格的 0）。
#
# 提示：飞桨 3.x 不能直接比较浮点与整数张量（教材的 `arange(float32) < valid_lens(int64)` 会报 TypeError），
# 比较前把两边转成同一种类型。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch08.attention.masked_softmax stub=masked_softmax

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_masked_softmax_book_example(masked_softmax, paddle, np):
    scores = paddle.to_tensor([[0.1, 0.2, 0.4, 0.6, 0.5, -0.3, 2.0, 0.0, 1.0, 0.7, -1.0],
                               [0.3, 0.2, 0.4, 0.1, 0.2, 0.5, 0.4, 0.6, 0.7, 0.9, 1.0]])
    out = masked_softmax(scores, paddle.to_tensor([4, 11]))
    assert out is not None and list(out.shape) == [2, 11], "输出形状应为 [B, L] = [2, 11]"
    assert np.allclose(out.numpy()[0, :4], [0.19593432, 0.21654092, 0.26448367, 0.32304109], atol=1e-5), \
        "第一个句子（有效长度 4）的权重与教材 §8.1.2.2 不一致"
    assert out.numpy()[0, 4:].max() < 1e-6, "超出有效长度的位置权重应接近 0：掩码要在 softmax 之前"
    assert np.allclose(out.numpy()[1, -1], 0.14658581, atol=1e-5), "第二个句子（无填充）就是普通的 softmax"
    assert np.allclose(masked_softmax(scores, paddle.to_tensor([4, 11], dtype="int32")).numpy(), out.numpy()), \
        "valid_lens 为 int32 时结果应相同"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% tags=["otter_ignore"]
scores = paddle.to_tensor([[0.1, 0.2, 0.4, 0.6] + [0.0] * 7,
                           [0.3, 0.2, 0.4, 0.1, 0.2, 0.5, 0.4, 0.6, 0.7, 0.9, 1.0]])
print(masked_softmax(scores, paddle.to_tensor([4, 11])).numpy())
print("教材: [0.19593432 0.21654092 0.26448367 0.32304109 0. …] / [0.07279236 0.06586525 0.080448 … 0.14658581]")

# %% [markdown]
# ### 8.1.2.1 注意力打分函数
#
# 加性模型 (additive model) 和点积模型 (dot-product model)：
#
# $$s(\boldsymbol X,\boldsymbol q)=\boldsymbol v^{\top}\tanh(\boldsymbol X\boldsymbol W+\boldsymbol q^{\top}\boldsymbol U),
# \qquad(8.3)\qquad\qquad s(\boldsymbol X,\boldsymbol q)=\boldsymbol X\boldsymbol q,\qquad(8.4)$$
#
# 其中 $\boldsymbol W,\boldsymbol U\in\mathbb R^{D\times D}$、$\boldsymbol v,\boldsymbol q\in\mathbb R^{D}$ 都是可学习
# 参数。教材用不带偏置的 `nn.Linear(D, D, bias_attr=False)` 实现 $\boldsymbol X\boldsymbol W$（飞桨的
# `nn.Linear.weight` 形状为 `[in, out]`，计算 `x @ weight`）。注意两个类中 `q` 的形状不同：加性模型 `[1, D]`，
# 点积模型 `[D, 1]`。**思考：** $\boldsymbol q$ 是可学习的，$\boldsymbol q^{\top}\boldsymbol U$ 能否合并成一个参数向量？

# %%
# nndl: include nndl_ref.ch08.attention._uniform_query

# %% [raw]
# # BEGIN QUESTION
# name: q2_scores

# %% [markdown]
# **TODO：** 实现两个打分层的 `forward(inputs)`（`__init__` 已给出）：输入 `[B, L, D]`，返回分数 `[B, L]`
# （去掉最后的长度为 1 的维度）。
# - `AdditiveScore`：式 (8.3)，用 `self.W`、`self.U`、`self.v` 和 `self.q`（`U(q)` 的形状 `[1, D]` 会自动广播）；
# - `DotProductScore`：式 (8.4)，`self.q` 形状 `[D, 1]`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch08.attention.AdditiveScore stub=forward

# %%
# nndl: include nndl_ref.ch08.attention.DotProductScore stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_scores_shapes_and_values(AdditiveScore, DotProductScore, paddle, np):
    X = paddle.to_tensor(np.linspace(-1, 1, 24, dtype="float32").reshape([2, 3, 4]))
    dot = DotProductScore(4)
    dot.set_state_dict({"q": paddle.to_tensor([[1.0], [0.0], [-1.0], [2.0]])})
    out = dot(X)
    assert out is not None and list(out.shape) == [2, 3], "DotProductScore 应返回 [B, L]（squeeze 最后一维）"
    assert np.allclose(out.numpy(), X.numpy() @ np.array([1.0, 0.0, -1.0, 2.0]), atol=1e-5), "点积分数应为 X q"
    additive = AdditiveScore(4)
    out = additive(X)
    assert out is not None and list(out.shape) == [2, 3], "AdditiveScore 应返回 [B, L]"
    W, U, v, q = (p.numpy() for p in (additive.W.weight, additive.U.weight, additive.v.weight, additive.q))
    assert np.allclose(out.numpy(), (np.tanh(X.numpy() @ W + q @ U) @ v)[..., 0], atol=1e-5), \
        "加性分数应为 vᵀ tanh(XW + qᵀU)"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 8.1.2.3–8.1.2.4 加权平均与注意力层
#
# `Attention(hidden_size, use_additive=False)` 用 `self.scores`（加性或点积打分）计算分数，经带掩码的 softmax
# 得到注意力分布 $\boldsymbol\alpha\in\mathbb R^{B\times L}$，再做加权平均：`paddle.matmul(α.unsqueeze(1), X)`
# 得到 `[B, 1, D]`，去掉第 1 维就是 `[B, D]`。注意力分布要保存在 `self._attention_weights` 中，后面可视化会用
# `attention_weights` 属性读取。

# %% [raw]
# # BEGIN QUESTION
# name: q3_attention

# %% [markdown]
# **TODO：** 实现 `Attention.forward(X, valid_lens)`：`X` 形状 `[B, L, D]`，`valid_lens` 形状 `[B]`；
# 返回 `[B, D]`，并把 `[B, L]` 的注意力分布存入 `self._attention_weights`。可以调用上面的 `masked_softmax`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch08.attention.Attention stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_attention_masks_and_averages(Attention, paddle, np):
    X = paddle.to_tensor(np.linspace(-1, 1, 24, dtype="float32").reshape([2, 3, 4]))
    attention = Attention(4)
    context = attention(X, paddle.to_tensor([1, 3]))
    assert context is not None and list(context.shape) == [2, 4], "Attention 应返回 [B, D]"
    weights = attention.attention_weights
    assert weights is not None and list(weights.shape) == [2, 3], "attention_weights 应为 [B, L]"
    assert np.allclose(weights.numpy().sum(-1), 1.0, atol=1e-5), "每个句子的注意力权重之和应为 1"
    assert np.allclose(context.numpy()[0], X.numpy()[0, 0], atol=1e-5), "有效长度为 1 时，输出就是第一个向量"
    assert np.allclose(context.numpy()[1], weights.numpy()[1] @ X.numpy()[1], atol=1e-5), "输出应为 Σ αₙ xₙ"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 8.1.2.5 模型汇总
#
# `Model_LSTMAttention`：嵌入层 → 双向 LSTM（输出 `[B, L, 2H]`）→ 注意力层（`[B, 2H]`）→ 线性分类层。

# %%
# nndl: include nndl_ref.ch08.attention.Model_LSTMAttention

# %% [markdown]
# ### 8.1.3–8.1.4 加性模型和点积模型的实验
#
# 数据与第6章相同：训练集 25,000 条，原测试集对半分成验证集和测试集（各 12,500 条），句子截断到 256 个词。IMDB
# 压缩包约 80 MB，需要联网：把环境变量 `NNDL_IMDB` 设为下载好的 `aclImdb_v1.tar.gz`（或处理好的文件夹）即可。没有时，
# 本 notebook 生成一个格式相同的小型**替代数据 (stand-in)**：情感词决定标签，不是 IMDB，所有输出和图标题都注明
# stand-in。教材（GPU、完整数据、2 个回合）的测试集准确率：加性模型 0.86488，点积模型 0.86936（不加注意力的
# 基线 0.86176）；在替代数据或 CPU 上得到的数字不同，只用来确认流程能跑通。

# %% tags=["otter_ignore"]
if os.environ.get(IMDB_ENV_VAR):
    imdb = load_imdb()
else:
    imdb = load_imdb(write_imdb_stand_in(os.path.join(tempfile.mkdtemp(), "aclImdb_v1.tar.gz"),
                                         num_per_class=20 if SMOKE else 200))
train_data, dev_data, test_data, word2id_dict, imdb_source = imdb
imdb_stand_in = "stand-in" in imdb_source
imdb_label = "the IMDB stand-in" if imdb_stand_in else "IMDB"
print(imdb_source, "train/dev/test:", len(train_data), len(dev_data), len(test_data))
max_seq_len = 256
collate = partial(imdb_collate_fn, pad_val=word2id_dict["[PAD]"], max_seq_len=max_seq_len)
imdb_batch_size = 16 if SMOKE else (32 if imdb_stand_in else 128)   # a stand-in run needs more, smaller steps
imdb_loaders = {name: paddle.io.DataLoader(IMDBDataset(data, word2id_dict), batch_size=imdb_batch_size,
                                           shuffle=name == "train", collate_fn=collate)
                for name, data in (("train", train_data), ("dev", dev_data), ("test", test_data))}


def train_imdb_model(model, save_path):
    """The book's §8.1.3 set-up (Adam, lr 0.001, cross-entropy, accuracy); returns the runner and its test accuracy."""
    runner = RunnerV3(model, paddle.optimizer.Adam(learning_rate=0.001, parameters=model.parameters()),
                      nn.CrossEntropyLoss(), Accuracy())
    runner.train(imdb_loaders["train"], imdb_loaders["dev"], num_epochs=1 if SMOKE else 2, log_steps=10,
                 eval_steps=2 if SMOKE else (5 if imdb_stand_in else 10), save_path=save_path)
    if os.path.exists(save_path):
        runner.load_model(save_path)
    score, _ = runner.evaluate(imdb_loaders["test"])
    return runner, score


hidden = 16 if SMOKE else 128
book_accuracy = {True: 0.86488, False: 0.86936}
imdb_models = {}
for use_additive in (True, False):
    paddle.seed(2021)
    model = Model_LSTMAttention(hidden, hidden, len(word2id_dict), n_classes=2, use_additive=use_additive)
    runner, score = train_imdb_model(model, f"attention_additive{use_additive}.pdparams")
    imdb_models[use_additive] = model
    name = "additive" if use_additive else "dot-product"
    figure = plot_training_loss_acc(runner, sample_step=1 if SMOKE or imdb_stand_in else 10)   # 图 8.4、8.5
    figure.suptitle(f"BiLSTM + {name} attention on {imdb_label}", y=1.03)
    plt.show()
    print(f"[Test] {name}: accuracy {score:.5f}  教材 (GPU, IMDB): {book_accuracy[use_additive]}")

# %% [markdown]
# ### 8.1.4.3 注意力可视化
#
# 把一条测试句子送入两个模型，画出每个词的注意力权重（图 8.6）。教材的句子是
# "this great science fiction film is really awesome"，权重最大的是 great 和 awesome；这里用实际运行的数据中的
# 一条测试句子（替代数据时是生成的句子）。

# %% tags=["otter_ignore"]
# nndl: include nndl_ref.ch08.plots

# %% tags=["otter_ignore"]
text = test_data[0][0]
tokens = text.split(" ")[:12]
ids = paddle.to_tensor([[word2id_dict.get(word, word2id_dict["[UNK]"]) for word in tokens]])
for use_additive, model in imdb_models.items():
    model.eval()
    with paddle.no_grad():
        model((ids, paddle.to_tensor([len(tokens)])))
    plot_attention_weights(model.attention.attention_weights[0], tokens,
                           title=f"{'additive' if use_additive else 'dot-product'} attention, {imdb_label}")
    plt.show()

# %% [markdown]
# **动手练习 8.1：** 实现《神经网络与深度学习》§8.2 中的其他打分函数，重复上面的实验：
#
# $$\text{缩放点积 } s(\boldsymbol X,\boldsymbol q)=\frac{\boldsymbol X\boldsymbol q}{\sqrt D},\qquad
# \text{双线性 } s(\boldsymbol X,\boldsymbol q)=\boldsymbol X\boldsymbol W\boldsymbol q .$$

# %% [raw]
# # BEGIN QUESTION
# name: q4_extra_scores

# %% [markdown]
# **TODO（加分题 extra credit）：** 实现 `ScaledDotProductScore.forward` 和 `BilinearScore.forward`：输入 `[B, L, D]`，
# 返回 `[B, L]`。`q` 的形状都是 `[D, 1]`；双线性模型的 $\boldsymbol X\boldsymbol W$ 用 `self.W`（不带偏置的 `nn.Linear`）。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch08.attention.ScaledDotProductScore stub=forward

# %%
# nndl: include nndl_ref.ch08.attention.BilinearScore stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_extra_scores(ScaledDotProductScore, BilinearScore, paddle, np):
    X = paddle.to_tensor(np.linspace(-1, 1, 24, dtype="float32").reshape([2, 3, 4]))
    scaled = ScaledDotProductScore(4)
    out = scaled(X)
    assert out is not None and list(out.shape) == [2, 3], "ScaledDotProductScore 应返回 [B, L]"
    assert np.allclose(out.numpy(), (X.numpy() @ scaled.q.numpy())[..., 0] / 2.0, atol=1e-5), "分数应为 Xq/√D"
    bilinear = BilinearScore(4)
    out = bilinear(X)
    assert out is not None and list(out.shape) == [2, 3], "BilinearScore 应返回 [B, L]"
    assert np.allclose(out.numpy(), (X.numpy() @ bilinear.W.weight.numpy() @ bilinear.q.numpy())[..., 0], atol=1e-5), \
        "分数应为 XWq"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 8.2 基于双向 LSTM 和多头自注意力的文本分类
#
# ### 8.2.1.2 QKV 注意力
#
# 自注意力 (self-attention) 用输入自己生成查询、键和值：$\boldsymbol Q=\boldsymbol X\boldsymbol W^Q$、
# $\boldsymbol K=\boldsymbol X\boldsymbol W^K$、$\boldsymbol V=\boldsymbol X\boldsymbol W^V$（式 (8.8)–(8.10)），然后
#
# $$\mathrm{attention}(\boldsymbol Q,\boldsymbol K,\boldsymbol V)=\mathrm{softmax}\Big(\frac{\boldsymbol Q\boldsymbol K^{\top}}{\sqrt D}\Big)\boldsymbol V.\qquad(8.11)$$
#
# 除以 $\sqrt D$：若 $\boldsymbol Q$、$\boldsymbol K$ 的元素均值为 0、方差为 1，点积的方差是 $D$，缩放后 softmax 不易饱和。
# 掩码只作用在**键 (keys)** 上（分数矩阵的列）：填充位置的键不被任何查询关注；填充位置的查询行照常计算，后面的
# `AveragePooling` 会把它们去掉。教材在定义处把类名写成 `QKVAAttention`，使用处写成 `QKVAttention`，本套件两个名字都可以用。

# %% [raw]
# # BEGIN QUESTION
# name: q5_qkv_attention

# %% [markdown]
# **TODO：** 实现 `QKVAttention.forward(Q, K, V, valid_lens)`（`__init__` 已给出，`self.sqrt_size` $=\sqrt{\text{size}}$）：
# - `Q`、`K`、`V` 形状 `[B, L, D]`，返回 `[B, L, D]`；注意力权重 `[B, L, L]` 存入 `self._attention_weights`；
# - **`valid_lens` 的形状是 `[B·L]`，每个查询行一个长度**（教材代码就是这样用的，虽然它的注释写的是 `[B]`）：第 `b` 个
#   样本第 `i` 个查询行用 `valid_lens[b·L + i]`，这一行中位置 $j\ge$ 该长度的键被屏蔽；
# - 按式 (8.11) 除以 `self.sqrt_size`；不能调用 `nn.MultiHeadAttention` 或 `F.scaled_dot_product_attention`。
#
# 提示：把分数变成 `[B·L, L]` 就可以直接用 `masked_softmax`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch08.multi_head.QKVAttention stub=forward

QKVAAttention = QKVAttention   # 教材定义处的拼写

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_qkv_attention_book_demo(QKVAttention, paddle, np):
    Q = paddle.to_tensor([[[0.04542791, 0.85057974, 0.33361533], [0.946391, 0.23847368, 0.36302885]],
                          [[0.76614064, 0.37495252, 0.33336037], [0.63866454, 0.9760425, 0.5480451]]])
    K = paddle.to_tensor([[[0.6862119, 0.1342062, 0.26786622], [0.17106912, 0.677116, 0.06587131]],
                          [[0.6739144, 0.5215646, 0.44378713], [0.04872252, 0.88483167, 0.71042657]]])
    V = paddle.to_tensor([[[7.9257507e-04, 2.5841364e-01, 8.8483751e-01], [9.9241227e-01, 7.3286706e-01, 2.2684735e-01]],
                          [[1.4830844e-01, 9.9669349e-01, 3.9105463e-01], [5.9856153e-01, 1.6353825e-01, 1.5453905e-01]]])
    attention = QKVAttention(3)
    context = attention(Q, K, V, paddle.to_tensor([1, 1, 2, 2]))
    assert context is not None and list(context.shape) == [2, 2, 3], "输出形状应为 [B, L, D] = [2, 2, 3]"
    weights = attention.attention_weights
    assert weights is not None and list(weights.shape) == [2, 2, 2], "attention_weights 应为 [B, L, L]"
    assert np.allclose(weights.numpy(), [[[1, 0], [1, 0]], [[0.5365804, 0.46341962], [0.4853674, 0.51463264]]],
                       atol=1e-5), "注意力权重与教材 §8.2.1.2 的例子不一致（是否除以了 √size？掩码是否在键上？）"
    assert np.allclose(context.numpy()[1, 0], [0.35696453, 0.61059302, 0.28144866], atol=1e-5), "输出应为 权重 @ V"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 8.2.1.3 多头自注意力
#
# $M$ 个头各自把 $\boldsymbol X$ 投影到 $D_m=D/M$ 维后做 QKV 注意力，拼接后再做一次线性变换（式 (8.12)–(8.16)）。
# 实现时不必循环：把 `[B, L, D]` 重排成 `[B, L, M, D_m]`，转置为 `[B, M, L, D_m]`，再合并成 `[B·M, L, D_m]`
# （式 (8.17)、(8.18)，图 8.12），所有头一起做一次 QKV 注意力，最后按相反的顺序还原成 `[B, L, D]`（式 (8.20)、(8.21)）。
# 第 `b·M + m` 行是样本 `b` 的第 `m` 个头，所以每个样本的有效长度要**重复** $M\cdot L$ 次（`paddle.repeat_interleave`），
# 不是把整个长度向量平铺 (tile)。本套件按教材最终版本的类，`Q_proj`、`K_proj`、`V_proj`、`out_proj` 是带偏置的
# `nn.Linear`（动手练习 8.3 讨论有无偏置的区别）；`dropout` 参数不使用（与教材相同）。

# %% [raw]
# # BEGIN QUESTION
# name: q6_multi_head

# %% [markdown]
# **TODO：**
# - `split_head_reshape(X, heads_num, head_size)`：`[B, L, heads_num·head_size]` → `[B·heads_num, L, head_size]`；
# - `MultiHeadSelfAttention.forward(X, valid_lens)`：`X` 形状 `[B, L, D]`，`valid_lens` 形状 `[B]`；用 `Q_proj`、`K_proj`、
#   `V_proj` 投影、`split_head_reshape` 分头、`self.attention`（`QKVAttention(head_size)`，要 `[B·M·L]` 的长度）、合并各头
#   （先转置回 `[B, L, M, D_m]` 再合并）、`out_proj`，返回 `[B, L, D]`。所有头一起调用一次 `self.attention`，这样
#   `self.attention.attention_weights` 是 `[B·M, L, L]`（后面的可视化要用）。不能调用 `nn.MultiHeadAttention`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch08.multi_head.split_head_reshape stub=split_head_reshape

# %%
# nndl: include nndl_ref.ch08.multi_head.MultiHeadSelfAttention stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_multi_head_shapes(split_head_reshape, MultiHeadSelfAttention, paddle, np):
    X = paddle.arange(2 * 3 * 4, dtype="float32").reshape([2, 3, 4])
    heads = split_head_reshape(X, 2, 2)
    assert heads is not None and list(heads.shape) == [4, 3, 2], "split_head_reshape: [2, 3, 4] → [B·M, L, D_m] = [4, 3, 2]"
    assert np.allclose(heads.numpy()[1], X.numpy()[0, :, 2:4]), "第 b·M+m 行应是样本 b 的第 m 个头（第 m·D_m 列起）"
    mhsa = MultiHeadSelfAttention(4, 2)
    out = mhsa(paddle.to_tensor(np.linspace(-1, 1, 24, dtype="float32").reshape([2, 3, 4])), paddle.to_tensor([1, 3]))
    assert out is not None and list(out.shape) == [2, 3, 4], "MultiHeadSelfAttention 应返回 [B, L, D]"
    weights = mhsa.attention.attention_weights
    assert list(weights.shape) == [4, 3, 3], "self.attention.attention_weights 应为 [B·M, L, L]"
    assert weights.numpy()[:2, :, 1:].max() < 1e-6, "第一个样本（有效长度 1）的两个头都不应关注填充位置"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 8.2.2 模型汇总
#
# `Model_LSTMSeftAttention`（教材的拼写）：嵌入层 → 双向 LSTM → 传入的注意力层 → 第6章的 `AveragePooling`（只对有效
# 位置取平均）→ 线性分类层。

# %%
# nndl: include nndl_ref.ch08.multi_head.Model_LSTMSeftAttention

Model_LSTMSelfAttention = Model_LSTMSeftAttention

# %% [markdown]
# ### 8.2.3–8.2.4 模型训练与评价
#
# 教材用 8 个头 (`heads_num=8`)、`inputs_size=256`，测试集准确率 0.86552（GPU、完整 IMDB），介于加性模型和点积模型之间。
#
# **动手练习 8.2：** 实现最简单的自注意力 $\mathrm{softmax}(\boldsymbol X\boldsymbol X^{\top})\boldsymbol X$，插到 8.1 模型的
# LSTM 和注意力层之间。**动手练习 8.3：** 去掉线性映射的偏置（或加上），比较结果。**动手练习 8.4：** 去掉 LSTM 层，
# 只用注意力层，观察并解释（没有位置信息）。

# %% tags=["otter_ignore"]
paddle.seed(2021)
heads_num = 2 if SMOKE else 8
mhsa_model = Model_LSTMSeftAttention(hidden, hidden, len(word2id_dict), n_classes=2,
                                     attention=MultiHeadSelfAttention(inputs_size=2 * hidden, heads_num=heads_num))
runner, score = train_imdb_model(mhsa_model, "mhsa.pdparams")
figure = plot_training_loss_acc(runner, sample_step=1 if SMOKE or imdb_stand_in else 10)   # 图 8.14
figure.suptitle(f"BiLSTM + multi-head self-attention on {imdb_label}", y=1.03)
plt.show()
print(f"[Test] multi-head self-attention: accuracy {score:.5f}  教材 (GPU, IMDB): 0.86552")
mhsa_model.eval()
with paddle.no_grad():
    mhsa_model((ids, paddle.to_tensor([len(tokens)])))
plot_attention_heads(mhsa_model.attention.attention.attention_weights, tokens,
                     title=f"multi-head self-attention, one grid per head, {imdb_label}")
plt.show()

# %% [markdown]
# ## 8.3 实践：基于 Transformer 的文本语义匹配
#
# 文本语义匹配判断两个句子的意思是否相同。模型把句子对拼成 `[CLS] A [SEP] B [SEP]`，经嵌入层和 Transformer 编码器后
# 用 `[CLS]` 位置的输出分类（图 8.15）。
#
# ### 8.3.1 数据
#
# 教材用 LCQMC（百度知道的问题对，训练集 238,766 对；标签 1 表示意思相同），按字切分，词表是 bert-base-chinese 的
# `vocab.txt`（21,128 个词）。本套件不附带 LCQMC（许可证不明确）：有数据的话把环境变量 `NNDL_LCQMC` 设为
# `lcqmc.tar.gz`（或解压后的文件夹，词表 `vocab.txt` 放在数据旁边或用 `vocab_path=` 指定）。没有时生成一个格式相同的
# **替代数据 (stand-in)**：标签 1 的句子对由相同的字重排而成，标签 0 的是无关的字串，附带一个字表；不是 LCQMC。
# `collate_fn` 与教材不同：先截断到 `max_seq_len` 再按最长的句子补齐（教材用截断前的长度，可能超过位置编码的长度）。

# %%
# nndl: include nndl_ref.ch08.lcqmc

# %% tags=["otter_ignore"]
if os.environ.get(LCQMC_ENV_VAR):
    lcqmc = load_lcqmc()
else:
    lcqmc = load_lcqmc(write_lcqmc_stand_in(os.path.join(tempfile.mkdtemp(), "lcqmc.tar.gz"),
                                            num_train=64 if SMOKE else 2000, num_eval=16 if SMOKE else 200))
lcqmc_train, lcqmc_dev, lcqmc_test, lcqmc_vocab, lcqmc_source = lcqmc
lcqmc_label = "the LCQMC stand-in" if "stand-in" in lcqmc_source else "LCQMC"
print(lcqmc_source, "train/dev/test:", len(lcqmc_train), len(lcqmc_dev), len(lcqmc_test),
      " 教材: 238766/4401/4401 (LCQMC)")
lcqmc_loaders = {name: paddle.io.DataLoader(LCQMCDataset(data, lcqmc_vocab), batch_size=16 if SMOKE else 32,
                                            shuffle=name == "train", collate_fn=collate_fn)
                 for name, data in (("train", lcqmc_train), ("dev", lcqmc_dev), ("test", lcqmc_test))}
(example_ids, example_segments), example_labels = next(iter(lcqmc_loaders["dev"]))
print("first batch:", example_ids.shape, " 教材 (LCQMC, batch 32): [32, 52]")

# %% [markdown]
# ### 8.3.2.1 嵌入层
#
# 词嵌入乘以 $\sqrt D$（使它的范数与位置编码相当），[PAD] 的嵌入为 0；分段嵌入区分句子 A 和 B；位置编码用固定的正弦
# 函数（不训练）：
#
# $$\mathrm{PE}(pos,2i)=\sin\Big(\frac{pos}{10000^{2i/D}}\Big),\qquad(8.22)\qquad\qquad
# \mathrm{PE}(pos,2i+1)=\cos\Big(\frac{pos}{10000^{2i/D}}\Big),\qquad(8.23)$$
#
# 其中 $0\le i<D/2$（教材印成了 “$0\ge i\ge D/2$”）：第 $2i$ 和第 $2i+1$ 维用同一个频率。

# %%
# nndl: include nndl_ref.ch08.transformer.WordEmbedding

# %%
# nndl: include nndl_ref.ch08.transformer.SegmentEmbedding

# %% [raw]
# # BEGIN QUESTION
# name: q7_sinusoid

# %% [markdown]
# **TODO：** 实现 `get_sinusoid_encoding(position_size, hidden_size)`：返回形状 `[position_size, hidden_size]` 的 float32
# numpy 数组，第 `pos` 行第 `j` 列是式 (8.22)/(8.23)：偶数列 `j = 2i` 用 sin，奇数列 `j = 2i+1` 用 cos，
# 角度都是 $pos/10000^{2i/D}$（$D$ = `hidden_size`，$D$ 为奇数也要正确）。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch08.transformer.get_sinusoid_encoding stub=get_sinusoid_encoding

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_sinusoid_table(get_sinusoid_encoding, np):
    table = get_sinusoid_encoding(4, 3)
    assert table is not None and np.shape(table) == (4, 3), "形状应为 [position_size, hidden_size] = [4, 3]"
    expected = [[0, 1, 0], [0.84147096, 0.5403023, 0.00215443], [0.9092974, -0.41614684, 0.00430886],
                [0.14112, -0.9899925, 0.00646326]]
    assert np.allclose(np.asarray(table, dtype="float64"), expected, atol=1e-6), \
        "get_sinusoid_encoding(4, 3) 不对：第 2i、2i+1 维的角度都是 pos/10000^(2i/D)"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %%
# nndl: include nndl_ref.ch08.transformer.PositionalEmbedding

# %%
# nndl: include nndl_ref.ch08.transformer.TransformerEmbeddings

# %% [markdown]
# 位置编码的第 4、5、6 维随位置的变化（图 8.16，`D = 20`，位置 0–99）。**动手练习 8.5：** 计算任意两个位置的编码的
# 点积，能否据此推断它们的距离？

# %% tags=["otter_ignore"]
position_embeddings = PositionalEmbedding(max_length=5000, emb_size=20)
curves = position_embeddings(paddle.arange(100).reshape([1, 100])).numpy()[0]
fig, ax = plt.subplots(figsize=(10, 3.5))
for dim, style in ((4, "-"), (5, "--"), (6, "-.")):
    ax.plot(curves[:, dim], linestyle=style, label=f"dim {dim}")
ax.set_xlabel("position"); ax.legend(); ax.set_title("sinusoidal position encoding (fig. 8.16)")
plt.show()

# %% [markdown]
# ### 8.3.2.2 Transformer 组块
#
# 每个组块是多头自注意力 → Add & Norm → 逐位置前馈网络 → Add & Norm（图 8.17，后归一化 Post-Norm）：
#
# $$\boldsymbol H=\mathrm{LN}(\boldsymbol H+\boldsymbol X),\qquad(8.24)\qquad\qquad
# \mathrm{FFN}(\boldsymbol H)=\max(0,\boldsymbol H\boldsymbol W_1+\boldsymbol b_1)\boldsymbol W_2+\boldsymbol b_2.\qquad(8.25)$$
#
# 教材的 `TransformerBlock` 用飞桨的 `nn.MultiHeadAttention`（`need_weights=True`，返回输出和 `[B, heads, L, L]` 的权重），
# 并且两个 Add & Norm **共用同一个** `self.addnorm`（同一个 LayerNorm 的参数）；本套件保留教材的这一做法。
# **思考：** 为什么 PreNorm 更容易训练，PostNorm 的上限更高？

# %% [raw]
# # BEGIN QUESTION
# name: q8_transformer_block

# %% [markdown]
# **TODO：** 实现三个 `forward`（`__init__` 已给出）：
# - `AddNorm.forward(X, H)`：式 (8.24)，`self.layer_norm(X + self.dropout(H))`；
# - `PositionwiseFFN.forward(X)`：式 (8.25)，`W_2(dropout(ReLU(W_1 X)))`；
# - `TransformerBlock.forward(X, src_mask=None)`：`self.multi_head_attention(X, attn_mask=src_mask)` 得到输出和权重，
#   然后两次用 `self.addnorm`（先加注意力输出，再加 `self.ffn` 的输出），返回 `(X, 注意力权重)`。
#   不能调用 `nn.TransformerEncoderLayer`。

# %% [raw]
# # BEGIN SOLUTION

# %%
# nndl: include nndl_ref.ch08.transformer.AddNorm stub=forward

# %%
# nndl: include nndl_ref.ch08.transformer.PositionwiseFFN stub=forward

# %%
# nndl: include nndl_ref.ch08.transformer.TransformerBlock stub=forward

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_transformer_parts(AddNorm, PositionwiseFFN, TransformerBlock, paddle, np):
    X = paddle.to_tensor(np.linspace(-1, 1, 24, dtype="float32").reshape([2, 3, 4]))
    H = paddle.to_tensor(np.linspace(1, -2, 24, dtype="float32").reshape([2, 3, 4]))
    addnorm = AddNorm(4, 0.1)
    addnorm.eval()
    out = addnorm(X, H)
    assert out is not None and list(out.shape) == [2, 3, 4], "AddNorm 应返回 [B, L, D]"
    z = (X + H).numpy()
    expected = (z - z.mean(-1, keepdims=True)) / np.sqrt(z.var(-1, keepdims=True) + 1e-5)
    assert np.allclose(out.numpy(), expected, atol=1e-4), "eval 模式下 AddNorm 应为 LayerNorm(X + H)"
    ffn = PositionwiseFFN(4, 6, dropout=0.1)
    ffn.eval()
    out = ffn(X)
    assert out is not None and list(out.shape) == [2, 3, 4], "PositionwiseFFN 应返回 [B, L, D]"
    hidden = np.maximum(X.numpy() @ ffn.W_1.weight.numpy() + ffn.W_1.bias.numpy(), 0)
    assert np.allclose(out.numpy(), hidden @ ffn.W_2.weight.numpy() + ffn.W_2.bias.numpy(), atol=1e-5), \
        "eval 模式下 FFN 应为 W_2(ReLU(W_1 X))"
    block = TransformerBlock(4, 2, 6)
    block.eval()
    result = block(X)
    assert isinstance(result, tuple) and len(result) == 2, "TransformerBlock 应返回 (输出, 注意力权重)"
    assert list(result[0].shape) == [2, 3, 4] and list(result[1].shape) == [2, 2, 3, 3], \
        "输出应为 [B, L, D]，注意力权重应为 [B, heads, L, L]"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### 8.3.2.3 模型汇总
#
# `Model_Transformer`：嵌入层 → `n_block` 个 `TransformerBlock` → 取 `[CLS]` 位置的输出，经 tanh 全连接层和分类层。
# 注意力掩码由 `input_ids == 0`（[PAD]）生成，形状 `[B, 1, 1, L]`，在 [PAD] 键上加 $-10^9$。`attention_weights` 是一个
# 列表，每个组块一个 `[B, heads, L, L]` 张量（教材 §8.3.6 把它当成张量调用 `.numpy()`，是个错误）。

# %%
# nndl: include nndl_ref.ch08.transformer.Model_Transformer

# %% [markdown]
# ### 8.3.3–8.3.6 训练、评价、预测与注意力可视化
#
# 教材的设置：`hidden_size=768`、4 个头、1 个组块、FFN 3072 维，AdamW（学习率 5e-5），3 个回合，测试集准确率 0.66485
# （GPU、完整 LCQMC，约 2,400 万个参数）。在 CPU 上这里用小得多的模型在替代数据上训练，数字不可比。
#
# **动手练习 8.6：** 叠加多个组块 (`n_block`) 比较效果。**动手练习 8.7：** 观察不同的头学到的模式。

# %% tags=["otter_ignore"]
paddle.seed(2021)
transformer = Model_Transformer(vocab_size=len(lcqmc_vocab), n_block=1, hidden_size=32 if SMOKE else 128,
                                heads_num=4, intermediate_size=64 if SMOKE else 512, position_size=128)
transformer_runner = RunnerV3(transformer, paddle.optimizer.AdamW(learning_rate=1e-3 if SMOKE else 5e-4,
                                                                  parameters=transformer.parameters()),
                              nn.CrossEntropyLoss(), Accuracy())
transformer_runner.train(lcqmc_loaders["train"], lcqmc_loaders["dev"], num_epochs=1 if SMOKE else 5,
                         log_steps=10 if SMOKE else 50, eval_steps=2 if SMOKE else 50, save_path="transformer.pdparams")
figure = plot_training_loss_acc(transformer_runner, sample_step=1 if SMOKE else 10)   # 图 8.18
figure.suptitle(f"Transformer on {lcqmc_label}", y=1.03)
plt.show()
if os.path.exists("transformer.pdparams"):
    transformer_runner.load_model("transformer.pdparams")
score, _ = transformer_runner.evaluate(lcqmc_loaders["test"])
print(f"[Test] Transformer: accuracy {score:.5f}  教材 (GPU, LCQMC): 0.66485")

# %% tags=["otter_ignore"]
text_a, text_b, label = lcqmc_test[0]
pair_ids, pair_segments, _ = LCQMCDataset([(text_a, text_b, label)], lcqmc_vocab)[0]
transformer.eval()
with paddle.no_grad():
    logits = transformer((paddle.to_tensor([pair_ids]), paddle.to_tensor([pair_segments])))
print(f"{text_a} / {text_b}: 预测 {int(paddle.argmax(logits, axis=1).item())}，标签 {label}")
pair_tokens = ["[CLS]"] + list(text_a) + ["[SEP]"] + list(text_b) + ["[SEP]"]
plot_attention_heads(transformer.attention_weights[0][0], pair_tokens,
                     title=f"Transformer block 1, one grid per head, {lcqmc_label}")   # 图 8.19
plt.show()

# %% [markdown]
# ## 8.4 小结
#
# 本章实现了注意力打分函数、带掩码的注意力分布和注意力层，在双向 LSTM 文本分类模型上比较了加性与点积注意力；实现了
# QKV 注意力和多头自注意力；最后实现了位置编码、Add & Norm、逐位置前馈网络和 Transformer 组块，完成了文本语义匹配，
# 并可视化了注意力权重。
