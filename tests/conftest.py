"""Shared pytest set-up: the reference library's tests run on the CPU with Paddle's noisy warnings quiet."""

import warnings

import paddle
import pytest

import nndl_grading.checks
from nndl_grading.build import build_chapter
from nndl_grading.config import load_course

# The suite's "student" implementations are reference objects and their subclasses.
nndl_grading.checks.reject_reference = False

warnings.filterwarnings("ignore", message="No ccache found")


@pytest.fixture(autouse=True)
def cpu_device():
    """Book numbers are CPU numbers (GPU random streams differ), so every test runs on the CPU."""
    paddle.set_device("cpu")
    yield


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Every chapter of grading.yml built into a scratch folder: {key: (bundle folder, build folder)}."""
    course = load_course()
    root = tmp_path_factory.mktemp("kit")
    return {key: (root / "assignments" / key,
                  build_chapter(chapter, assignments_root=root / "assignments", build_root=root / "build"))
            for key, chapter in course.chapters.items()}
