"""Shared pytest set-up: the reference library's tests run on the CPU with Paddle's noisy warnings quiet."""

import re
import warnings

import paddle
import pytest

import nndl_grading.checks
from nndl_grading.build import build_chapter
from nndl_grading.config import load_course

CHAPTER_FILE = re.compile(r"_(ch\d\d)\b")


def pytest_configure(config):
    for number in range(1, 9):
        config.addinivalue_line("markers", f"ch{number:02d}: tests of chapter {number} (make test CH={number})")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Chromium (skipped without chromium)")


def pytest_collection_modifyitems(items):
    """A test file named for a chapter (test_ref_ch05.py, test_hidden_ch05.py …) marks its tests chNN."""
    for item in items:
        match = CHAPTER_FILE.search(item.path.stem)
        if match:
            item.add_marker(match.group(1))


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
