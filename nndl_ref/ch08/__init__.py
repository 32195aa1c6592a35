"""Chapter 8 (注意力机制) under the book's names."""

from .lcqmc import (LCQMCData, LCQMCDataset, collate_fn, load_lcqmc, load_lcqmc_data, prepare_lcqmc,
                    write_lcqmc_stand_in)

__all__ = [
    "prepare_lcqmc", "load_lcqmc", "LCQMCData", "load_lcqmc_data", "LCQMCDataset",
    "collate_fn", "write_lcqmc_stand_in",
]
