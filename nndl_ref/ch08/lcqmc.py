"""LCQMC question pairs for the Transformer text-matching practice (book §8.3.1): the book's reader,
``LCQMCDataset`` and ``collate_fn``; the PaddleHub ``lcqmc.tar.gz`` the book's data comes from, and a
generated stand-in in the same format."""

from pathlib import Path
from typing import NamedTuple

import numpy as np
import paddle

from ..archives import STAND_IN_FILE, describe, extract, fetch, resolve_source, stand_in_note, write_tar_gz
from ..ch06.imdb import load_vocab

LCQMC_URL = "https://bj.bcebos.com/paddlehub-dataset/lcqmc.tar.gz"
LCQMC_CHECKSUM = "md5:62a7ba36f786a82ae59bbde0b0a9af0c"  # the published digest; no SHA-256 is published
LCQMC_ENV_VAR = "NNDL_LCQMC"
SPLITS = ("train", "dev", "test")
EXTENSIONS = (".tsv", ".csv", ".txt")
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


class LCQMCData(NamedTuple):
    """``train_data``/``dev_data``/``test_data`` as ``load_lcqmc_data`` returns them, the vocabulary
    ``word2id_dict`` and ``source``, the line to print and to put into plot titles."""
    train_data: list
    dev_data: list
    test_data: list
    word2id_dict: dict
    source: str


def _split_file(folder, split):
    for extension in EXTENSIONS:
        if (Path(folder) / (split + extension)).is_file():
            return Path(folder) / (split + extension)
    raise FileNotFoundError(f"no {split}.tsv/.csv/.txt in {folder}")


def load_lcqmc_data(path):
    """The three splits of ``path`` as lists of ``(text_a, text_b, label)`` strings (book §8.3.1.1).

    Each split is ``{train,dev,test}`` with extension .tsv, .csv or .txt, tab-separated whatever the
    extension (the book's folder has ``train.tsv``, ``dev.csv``, ``test.csv``); a
    ``text_a<TAB>text_b<TAB>label`` header line, as in the PaddleHub files, is skipped.
    """
    splits = []
    for split in SPLITS:
        examples = []
        with open(_split_file(path, split), encoding="utf-8-sig", newline="\n") as stream:
            for line in stream:
                fields = line.rstrip("\r\n").split("\t")
                if len(fields) == 3 and fields[2] != "label":
                    examples.append(tuple(fields))
        splits.append(examples)
    return tuple(splits)


def prepare_lcqmc(path=None, cache=None):
    """Return ``(folder, source)`` for LCQMC (book §8.3.1).

    ``path`` (else ``$NNDL_LCQMC``) is a folder holding the split files (used as is) or an archive
    (PaddleHub's ``lcqmc.tar.gz`` or a stand-in); without either, PaddleHub's archive is downloaded
    into the cache and checked against its published MD5 (needs a network: instructors only).
    """
    source = resolve_source(path, LCQMC_ENV_VAR)
    if source is not None and Path(source).is_dir():
        root, origin = Path(source), "local folder"
    else:
        if source is None:
            archive, origin = fetch(LCQMC_URL, LCQMC_CHECKSUM, cache), "PaddleHub lcqmc.tar.gz, MD5 verified"
        else:
            archive, origin = fetch(source, None), f"archive {source}"
        root = extract(archive, cache)
    folders = sorted(file.parent for file in root.rglob("train.*") if file.suffix in EXTENSIONS)
    if not folders:
        raise FileNotFoundError(f"no train.tsv/.csv/.txt under {root}")
    folder = folders[0]
    return folder, describe(folder, "LCQMC", origin)


def load_lcqmc(path=None, vocab_path=None, cache=None):
    """``prepare_lcqmc``, the book's ``load_lcqmc_data`` and ``load_vocab``, as an ``LCQMCData``
    (unpack as ``train_data, dev_data, test_data, word2id_dict, source``).

    ``vocab_path`` defaults to ``vocab.txt`` beside the splits (a stand-in has one); for the real data
    pass bert-base-chinese's ``vocab.txt`` (21,128 tokens), which the book uses.
    """
    folder, source = prepare_lcqmc(path, cache)
    vocab_path = Path(vocab_path) if vocab_path is not None else folder / "vocab.txt"
    if not vocab_path.is_file():
        raise FileNotFoundError(f"no vocabulary at {vocab_path}: pass vocab_path= (the book uses "
                                "bert-base-chinese's vocab.txt, 21,128 tokens)")
    return LCQMCData(*load_lcqmc_data(folder), load_vocab(vocab_path), source)


class LCQMCDataset(paddle.io.Dataset):
    """Question pairs as ids (book §8.3.1.2): item ``idx`` is ``(input_ids, segment_ids, label)`` with
    ``input_ids = [CLS] a [SEP] b [SEP]`` one id per character (unknown ones ``[UNK]``) and
    ``segment_ids`` 0 over ``[CLS] a [SEP]``, 1 over ``b [SEP]``. The book names the class
    ``LCQMCdataset`` and ``LCQMCDataSet`` too."""

    def __init__(self, data, word2id_dict):
        super().__init__()
        self.word2id_dict = word2id_dict
        self.examples = data
        self.cls_id = self.word2id_dict["[CLS]"]
        self.sep_id = self.word2id_dict["[SEP]"]

    def __getitem__(self, idx):
        return self.words_to_id(self.examples[idx])

    def __len__(self):
        return len(self.examples)

    def words_to_id(self, example):
        text_a, text_b, label = example
        unk = self.word2id_dict["[UNK]"]
        ids_a = [self.word2id_dict.get(char, unk) for char in text_a]
        ids_b = [self.word2id_dict.get(char, unk) for char in text_b]
        input_ids = [self.cls_id] + ids_a + [self.sep_id] + ids_b + [self.sep_id]
        segment_ids = [0] * (len(ids_a) + 2) + [1] * (len(ids_b) + 1)
        return input_ids, segment_ids, int(label)

    @property
    def label_list(self):
        return ["0", "1"]


def collate_fn(batch_data, pad_val=0, max_seq_len=512):
    """A batch of ``(input_ids, segment_ids, label)`` as ``((input_ids [B,L], segment_ids [B,L]),
    labels [B])``, int64, each pair cut to ``max_seq_len`` and padded with ``pad_val`` to the longest
    (book §8.3.1.3). Differs from the book, which pads to the longest length *before* cutting, so a
    pair over ``max_seq_len`` would make the batch longer than the position embedding."""
    input_ids = [list(ids[:max_seq_len]) for ids, _, _ in batch_data]
    segment_ids = [list(segments[:max_seq_len]) for _, segments, _ in batch_data]
    max_len = max(len(ids) for ids in input_ids)
    input_ids = [ids + [pad_val] * (max_len - len(ids)) for ids in input_ids]
    segment_ids = [segments + [pad_val] * (max_len - len(segments)) for segments in segment_ids]
    labels = [label for _, _, label in batch_data]
    return ((paddle.to_tensor(input_ids, dtype="int64"), paddle.to_tensor(segment_ids, dtype="int64")),
            paddle.to_tensor(labels, dtype="int64"))


_CHARS = "什么花一年四季都开是的怎样做好吃鱼为天气今明哪里有人会学习中文手机电脑多少钱"


def write_lcqmc_stand_in(path, num_train=40, num_eval=10, seed=0):
    """Write a stand-in ``lcqmc.tar.gz`` at ``path``: PaddleHub's layout (``lcqmc/{train,dev,test}.tsv``
    with a ``text_a<TAB>text_b<TAB>label`` header), a character ``vocab.txt`` (``[PAD]``=0, ``[UNK]``,
    ``[CLS]``, ``[SEP]``, ``[MASK]``, then the characters) and a stand-in marker. Label 1 pairs are
    the same characters reordered, label 0 pairs unrelated strings. Not LCQMC. Returns ``path``."""
    rng = np.random.default_rng(seed)
    chars = np.array(list(_CHARS))

    def pair():
        text_a = "".join(rng.choice(chars, size=int(rng.integers(4, 10))))
        if rng.random() < 0.5:
            return text_a, "".join(rng.permutation(list(text_a))), "1"
        return text_a, "".join(rng.choice(chars, size=int(rng.integers(4, 10)))), "0"

    files = {f"lcqmc/{split}.tsv": "text_a\ttext_b\tlabel\n" + "".join(
        "\t".join(pair()) + "\n" for _ in range(num_train if split == "train" else num_eval))
        for split in SPLITS}
    files["lcqmc/vocab.txt"] = "".join(token + "\n" for token in SPECIAL_TOKENS + tuple(dict.fromkeys(_CHARS)))
    files[f"lcqmc/{STAND_IN_FILE}"] = stand_in_note(
        f"LCQMC, {num_train}/{num_eval}/{num_eval} generated pairs, seed {seed}")
    return write_tar_gz(path, files)
