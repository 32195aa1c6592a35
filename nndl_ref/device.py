"""Device choice for experiments and grading: never assume a GPU (kit infrastructure, not in the book)."""

import os

import paddle

DEVICE_ENV_VAR = "NNDL_DEVICE"


def select_device(policy=None):
    """Set and return Paddle's device for ``policy`` in {'auto', 'cpu', 'gpu'}.

    The policy defaults to the ``NNDL_DEVICE`` environment variable, then 'auto' (a GPU when Paddle
    was built with CUDA and sees one, else the CPU). 'gpu' on a CPU-only build raises at once.
    """
    policy = (policy or os.environ.get(DEVICE_ENV_VAR) or "auto").lower()
    has_gpu = paddle.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
    if policy == "gpu" and not has_gpu:
        raise RuntimeError(
            "NNDL_DEVICE=gpu but this PaddlePaddle cannot use a GPU "
            f"(compiled with CUDA: {paddle.is_compiled_with_cuda()}); install paddlepaddle-gpu per "
            "PaddlePaddle's install guide, or use NNDL_DEVICE=auto/cpu.")
    if policy not in ("auto", "cpu", "gpu"):
        raise ValueError(f"{DEVICE_ENV_VAR} must be auto, cpu or gpu, not {policy!r}")
    device = "gpu" if policy == "gpu" or (policy == "auto" and has_gpu) else "cpu"
    paddle.set_device(device)
    return device
