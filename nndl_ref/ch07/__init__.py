"""Chapter 7 (网络优化与正则化) under the book's names."""
