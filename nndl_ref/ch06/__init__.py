"""Chapter 6 (循环神经网络) under the book's names."""

from .imdb import (IMDBData, IMDBDataset, collate_fn, load_imdb, load_imdb_data, load_vocab, prepare_imdb,
                   tokenize, write_imdb_stand_in)

__all__ = [
    "prepare_imdb", "load_imdb", "IMDBData", "tokenize", "load_imdb_data", "load_vocab", "IMDBDataset",
    "collate_fn", "write_imdb_stand_in",
]
