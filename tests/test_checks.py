"""Shared helpers of the hidden checks that decide on their own: the book section of a failure, tolerant
comparison against one or several oracles, the tolerances from grading.yml, and reading saved files."""

import json
import os
import pickle

import numpy as np
import paddle
import pytest

import nndl_grading.checks as checks
from nndl_grading.checks import CheckFailure, book_section, check_close, compare_to_oracles, load_saved, section
from nndl_grading.config import load_course


@pytest.mark.parametrize("actual, expected", [([1.0, np.nan], [1.0, 2.0]), ([1.0, 2.0], [1.0, np.nan]),
                                              ([np.inf], [np.inf]), ([1.0, 2.1], [1.0, 2.0])])
def test_check_close_never_passes_nan_or_a_wrong_value(actual, expected):
    with pytest.raises(CheckFailure), section("0"):
        check_close(actual, expected, "x")


def test_check_close_passes_within_the_relative_tolerance():
    check_close([1.0, 2.0005], [1.0, 2.0], "x")


@book_section("4.2.4.3")
def _failing_check(inner=None):
    if inner is None:
        check_close([1.0], [2.0], "x")
    with section(inner):
        check_close([1.0], [2.0], "x", stage="gradients")


def test_a_failure_cites_the_innermost_book_section():
    with pytest.raises(CheckFailure, match=r"^\[数值 values\] x: .*（请重读 §4\.2\.4\.3）$"):
        _failing_check()
    with pytest.raises(CheckFailure, match=r"^\[梯度 gradients\] x: .*（请重读 §4\.3）$"):
        _failing_check("4.3")
    with pytest.raises(RuntimeError, match="book_section"):     # a kit bug, not a student's failure
        check_close([1.0], [2.0], "x")


def test_compare_to_oracles_all_or_any():
    with section("0"):
        compare_to_oracles([1.0], {"a": [1.0], "b": [1.0005]}, "x")
        with pytest.raises(CheckFailure, match=r"x（b）"):
            compare_to_oracles([1.0], {"a": [1.0], "b": [2.0]}, "x")
        compare_to_oracles([1.0], {"a": [2.0], "b": [1.0]}, "x", agree="any")
        with pytest.raises(CheckFailure, match=r"x（a）"):                  # the first is reported
            compare_to_oracles([np.nan], {"a": [2.0], "b": [np.nan]}, "x", agree="any")


def test_tolerances_come_from_grading_yml(monkeypatch):
    monkeypatch.delenv(checks.TOLERANCE_ENV_VAR, raising=False)
    assert checks.tolerances() == load_course().chapters["ch01"].limits.tolerances == {"rtol": 1e-3, "atol": 1e-6}
    monkeypatch.setenv(checks.TOLERANCE_ENV_VAR, json.dumps({"rtol": 0.5, "atol": 1e-6}))     # as the grader sets it
    check_close([1.0], [1.4], "x")
    monkeypatch.setenv(checks.TOLERANCE_ENV_VAR, json.dumps({"rtol": 0.5}))
    with pytest.raises(KeyError, match="defaults.tolerances"):
        check_close([1.0], [1.4], "x")


def test_saved_parameter_files_load_as_arrays(tmp_path):
    linear = paddle.nn.Linear(2, 3)
    paddle.save(linear.state_dict(), str(tmp_path / "model.pdparams"))
    paddle.save({"w": paddle.to_tensor([1.5, 2.5]), "b": paddle.to_tensor(0.5)}, str(tmp_path / "params.pdparams"))
    state = load_saved(tmp_path / "model.pdparams")
    assert sorted(state) == ["bias", "weight"]
    np.testing.assert_array_equal(state["weight"], linear.weight.numpy())
    params = load_saved(tmp_path / "params.pdparams")
    assert params["w"].tolist() == [1.5, 2.5] and float(params["b"]) == 0.5
    assert load_saved(tmp_path / "missing.pdparams") is None


class RunsCode:
    def __reduce__(self):
        return os.system, ("touch should-never-exist",)


def test_a_saved_file_cannot_run_code_in_the_grader(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.pdparams").write_bytes(pickle.dumps({"w": RunsCode()}))
    assert load_saved(tmp_path / "evil.pdparams") is None
    assert not (tmp_path / "should-never-exist").exists()
