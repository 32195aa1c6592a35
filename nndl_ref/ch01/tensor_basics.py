"""Tensor warm-ups from book §1.2 (broadcasting rule of §1.2.5.4)."""


def broadcast_shape(shape_x, shape_y):
    """Result shape of broadcasting two shapes, or ``ValueError`` if they cannot broadcast (book §1.2.5.4).

    Left-pad the shorter shape with 1s; then each pair of sizes must be equal or contain a 1, and the
    result takes the larger size.
    """
    ndim = max(len(shape_x), len(shape_y))
    padded_x = [1] * (ndim - len(shape_x)) + list(shape_x)
    padded_y = [1] * (ndim - len(shape_y)) + list(shape_y)
    result = []
    for size_x, size_y in zip(padded_x, padded_y):
        if size_x != size_y and 1 not in (size_x, size_y):
            raise ValueError(f"cannot broadcast shapes {list(shape_x)} and {list(shape_y)}")
        result.append(max(size_x, size_y))
    return result
