"""Chapter 6 (循环神经网络) under the book's names."""

from .batching import collate_fn
from .bilstm import Model_BiLSTM_FC
from .clipping import (ClipGradByNormByHand, GradNormLogger, clip_grad_by_global_norm, clip_grad_by_norm,
                       custom_print_log, grad_norms)
from .digitsum import DigitSumDataset, generate_data, load_data, make_digitsum_datasets
from .embedding import Embedding
from .gru import GRU
from .imdb import (IMDBData, IMDBDataset, load_imdb, load_imdb_data, load_vocab, prepare_imdb,
                   tokenize, write_imdb_stand_in)
from .lstm import LSTM
from .plots import plot_accuracy_by_length, plot_grad
from .sequence_pooling import AveragePooling
from .srn import SRN, Model_RNN4SeqClass

__all__ = [
    "generate_data", "make_digitsum_datasets", "load_data", "DigitSumDataset",
    "Embedding", "SRN", "Model_RNN4SeqClass",
    "grad_norms", "custom_print_log", "GradNormLogger", "clip_grad_by_norm", "clip_grad_by_global_norm",
    "ClipGradByNormByHand", "plot_grad",
    "LSTM", "GRU", "plot_accuracy_by_length",
    "prepare_imdb", "load_imdb", "IMDBData", "tokenize", "load_imdb_data", "load_vocab", "IMDBDataset",
    "collate_fn", "write_imdb_stand_in", "AveragePooling", "Model_BiLSTM_FC",
]
