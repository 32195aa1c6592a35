"""IMDB movie reviews for the BiLSTM practice (book §6.4.1; chapter 8 reuses them, §8.1.1): the book's
files (``train.txt``/``dev.txt``/``test.txt`` of ``label<TAB>text`` lines and ``vocab.txt``), built from
the official ``aclImdb_v1.tar.gz`` or from a generated stand-in in the same archive format; the book's
``load_imdb_data``, ``load_vocab``, ``IMDBDataset`` and ``collate_fn``."""

import gzip
import re
import tarfile
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import numpy as np
import paddle

from ..archives import STAND_IN_FILE, derive, describe, fetch, resolve_source, stand_in_note, write_tar_gz
from .batching import collate_fn  # noqa: F401  (the book's IMDB pipeline: load, IMDBDataset, collate_fn)

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_CHECKSUM = "sha256:c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
IMDB_ENV_VAR = "NNDL_IMDB"
IMDB_SPLIT_SEED = 0
SPLITS = ("train", "dev", "test")
SPECIAL_TOKENS = ("[PAD]", "[UNK]")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


class IMDBData(NamedTuple):
    """``train_data``/``dev_data``/``test_data`` as ``load_imdb_data`` returns them, the vocabulary
    ``word2id_dict`` and ``source``, the line to print and to put into plot titles."""
    train_data: list
    dev_data: list
    test_data: list
    word2id_dict: dict
    source: str


def tokenize(text):
    """Lower-case, ``<br />`` removed, punctuation split off words: the tokens joined by single spaces
    in the book's pre-tokenised files (§6.4.1.1)."""
    return _TOKEN.findall(text.replace("<br />", " ").lower())


def _open_text(folder, stem):
    """``folder/stem`` as text; ``stem.gz`` (gzip) is accepted too. Lines are split on ``\\n`` only."""
    path = Path(folder) / stem
    if not path.is_file() and path.with_name(path.name + ".gz").is_file():
        return gzip.open(path.with_name(path.name + ".gz"), "rt", encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def load_imdb_data(path):
    """The book's three splits from ``path/{train,dev,test}.txt`` (book §6.4.1.1).

    Each line is ``label<TAB>text``; each example is ``(text, label)`` with the text lower-cased and
    the label kept as the string the file holds (``IMDBDataset`` turns it into an int).
    """
    splits = []
    for name in SPLITS:
        with _open_text(path, f"{name}.txt") as stream:
            examples = []
            for line in stream:
                if line.strip():
                    label, text = line.strip().lower().split("\t", maxsplit=1)
                    examples.append((text, label))
        splits.append(examples)
    return tuple(splits)


def load_vocab(path):
    """A vocabulary file, one token per line, as ``{token: line number}`` (book §6.4.1.2; the book's
    IMDB file starts ``[PAD]``, ``[UNK]``, §8.3.1 reads bert-base-chinese's the same way)."""
    with _open_text(Path(path).parent, Path(path).name) as stream:
        return {line.rstrip("\n"): index for index, line in enumerate(stream)}


def _review_groups(archive):
    """``{(split, 'pos'|'neg'): {file name: text}}`` and the stand-in marker text, read from an
    aclImdb archive as a stream (no 100,000-file extraction)."""
    groups = {(split, label): {} for split in ("train", "test") for label in ("pos", "neg")}
    marker = None
    with tarfile.open(archive, "r|gz") as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            if not member.isfile():
                continue
            if parts[-1] == STAND_IN_FILE:
                marker = tar.extractfile(member).read().decode("utf-8")
            elif len(parts) == 4 and parts[0] == "aclImdb" and (parts[1], parts[2]) in groups:
                groups[parts[1], parts[2]][parts[3]] = tar.extractfile(member).read().decode("utf-8")
    return groups, marker


def _build_book_files(seed):
    def build(archive, stage):
        groups, marker = _review_groups(archive)
        rng = np.random.default_rng(seed)

        def lines(split, labels=("pos", "neg")):
            return [f"{int(label == 'pos')}\t{' '.join(tokenize(groups[split, label][name]))}"
                    for label in labels for name in sorted(groups[split, label])]

        test_halves = {"dev": [], "test": []}
        for label in ("pos", "neg"):
            reviews = lines("test", (label,))
            rng.shuffle(reviews)
            half = len(reviews) // 2
            test_halves["dev"] += reviews[:half]
            test_halves["test"] += reviews[half:]
        files = {"train": lines("train"), **test_halves}
        counts = Counter(word for line in files["train"] for word in line.split("\t", 1)[1].split(" "))
        for name in SPLITS:
            rng.shuffle(files[name])
            (stage / f"{name}.txt").write_text("".join(line + "\n" for line in files[name]), encoding="utf-8")
        vocab = list(SPECIAL_TOKENS) + sorted(counts, key=lambda word: (-counts[word], word))
        (stage / "vocab.txt").write_text("".join(word + "\n" for word in vocab), encoding="utf-8")
        if marker is not None:
            (stage / STAND_IN_FILE).write_text(marker, encoding="utf-8")
    return build


def prepare_imdb(path=None, cache=None, seed=IMDB_SPLIT_SEED):
    """Return ``(folder, source)``: a folder in the book's layout (book §6.4.1.1).

    ``path`` (else ``$NNDL_IMDB``) is a folder already in that layout (used as is) or an aclImdb
    archive (official or a stand-in); without either, the official ``aclImdb_v1.tar.gz`` is downloaded
    into the cache and checked against its SHA-256 (needs a network: instructors only). An archive is
    converted once into the cache: train = the 25,000 training reviews; the 25,000 test reviews are
    split in half, per label, into dev and test (12,500 each, as the book; the halves are drawn with
    ``seed``); label 1 = pos; text through ``tokenize``; ``vocab.txt`` = ``[PAD]``, ``[UNK]``, then
    every training token by falling count. ``source`` says "stand-in" for generated data.
    """
    source = resolve_source(path, IMDB_ENV_VAR)
    if source is not None and Path(source).is_dir():
        return Path(source), describe(source, "IMDB", "local folder")
    if source is None:
        archive, origin = fetch(IMDB_URL, IMDB_CHECKSUM, cache), "official aclImdb_v1, SHA-256 verified"
    else:
        archive, origin = fetch(source, None), f"archive {source}"
    folder = derive(archive, _build_book_files(seed), cache, tag=f"imdb-seed{seed}")
    return folder, describe(folder, "IMDB", origin)


def load_imdb(path=None, cache=None, seed=IMDB_SPLIT_SEED):
    """``prepare_imdb`` then the book's ``load_imdb_data`` and ``load_vocab``, as an ``IMDBData``
    (unpack as ``train_data, dev_data, test_data, word2id_dict, source``)."""
    folder, source = prepare_imdb(path, cache, seed)
    return IMDBData(*load_imdb_data(folder), load_vocab(Path(folder) / "vocab.txt"), source)


class IMDBDataset(paddle.io.Dataset):
    """Reviews as word ids (book §6.4.1.2): item ``idx`` is ``(ids: list of int, label: int)``; words
    are split on spaces, unknown words map to ``[UNK]``. Returns the list the book forgot to return."""

    def __init__(self, examples, word2id_dict):
        super().__init__()
        self.word2id_dict = word2id_dict
        self.examples = self.words_to_id(examples)

    def words_to_id(self, examples):
        unk = self.word2id_dict["[UNK]"]
        return [[[self.word2id_dict.get(word, unk) for word in text.split(" ")], int(label)]
                for text, label in examples]

    def __getitem__(self, idx):
        seq, label = self.examples[idx]
        return seq, label

    def __len__(self):
        return len(self.examples)


_GOOD = ("great", "wonderful", "moving", "brilliant", "superb", "funny")
_BAD = ("awful", "boring", "dull", "terrible", "stupid", "weak")
_FILLER = ("the", "movie", "film", "plot", "actors", "was", "a", "and", "this", "story", "ending", "it's")


def write_imdb_stand_in(path, num_per_class=6, seed=0):
    """Write a stand-in aclImdb archive at ``path``: the official layout (``aclImdb/{train,test}/{pos,neg}
    /<id>_<rating>.txt``, raw text with ``<br />`` breaks) with ``num_per_class`` generated reviews per
    split and label, whose sentiment words decide the label, and a stand-in marker. Not IMDB.
    Returns ``path``."""
    rng = np.random.default_rng(seed)

    def review(words):
        body = list(rng.choice(_FILLER, size=int(rng.integers(6, 14)))) + list(rng.choice(words, size=2))
        rng.shuffle(body)
        return " ".join(body[:5]).capitalize() + ".<br /><br />" + " ".join(body[5:]) + "!"

    files = {f"aclImdb/{STAND_IN_FILE}": stand_in_note(
        f"IMDB, {num_per_class} generated reviews per split and label, seed {seed}")}
    for split in ("train", "test"):
        for label, words, ratings in (("pos", _GOOD, (7, 11)), ("neg", _BAD, (1, 5))):
            for number in range(num_per_class):
                files[f"aclImdb/{split}/{label}/{number}_{int(rng.integers(*ratings))}.txt"] = review(words)
    return write_tar_gz(path, files)
