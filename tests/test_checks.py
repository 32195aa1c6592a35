"""Shared helpers of the hidden checks that decide on their own: tolerant comparison and reading the files
the student's code saved."""

import os
import pickle

import numpy as np
import paddle
import pytest

from nndl_grading.checks import CheckFailure, check_close, load_saved


@pytest.mark.parametrize("actual, expected", [([1.0, np.nan], [1.0, 2.0]), ([1.0, 2.0], [1.0, np.nan]),
                                              ([np.inf], [np.inf]), ([1.0, 2.1], [1.0, 2.0])])
def test_check_close_never_passes_nan_or_a_wrong_value(actual, expected):
    with pytest.raises(CheckFailure):
        check_close(actual, expected, "x", "0")


def test_check_close_passes_within_the_relative_tolerance():
    check_close([1.0, 2.0005], [1.0, 2.0], "x", "0")


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
