"""Padded batches of variable-length id sequences for the IMDB DataLoader (book §6.4.1.3)."""

import paddle


def collate_fn(batch_data, pad_val=0, max_seq_len=256):
    """A batch of ``(ids, label)`` as ``((seqs [B,L] int64, seq_lens [B] int64), labels [B] int64)``:
    each sequence cut to ``max_seq_len``, then padded with ``pad_val`` to the batch's longest (book
    §6.4.1.3)."""
    seqs = [list(seq[:max_seq_len]) for seq, _ in batch_data]
    seq_lens = [len(seq) for seq in seqs]
    max_len = max(seq_lens)
    seqs = [seq + [pad_val] * (max_len - len(seq)) for seq in seqs]
    labels = [label for _, label in batch_data]
    return ((paddle.to_tensor(seqs, dtype="int64"), paddle.to_tensor(seq_lens, dtype="int64")),
            paddle.to_tensor(labels, dtype="int64"))
