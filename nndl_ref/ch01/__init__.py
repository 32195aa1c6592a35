"""Chapter 1 (实践基础) under the book's names."""

from .op import Op
from .scalar_ops import add, exp_ab_plus_cd, exponential, multiply
from .tensor_basics import broadcast_shape

__all__ = ["Op", "add", "multiply", "exponential", "exp_ab_plus_cd", "broadcast_shape"]
