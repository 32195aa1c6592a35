"""Shared pytest set-up: the reference library's tests run on the CPU with Paddle's noisy warnings quiet."""

import warnings

import paddle
import pytest

warnings.filterwarnings("ignore", message="No ccache found")


@pytest.fixture(autouse=True)
def cpu_device():
    """Book numbers are CPU numbers (GPU random streams differ), so every test runs on the CPU."""
    paddle.set_device("cpu")
    yield
