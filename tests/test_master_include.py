"""The include directive of the masters: a function/class pasted (and stubbed), or a whole module pasted
with its relative imports rewritten for the student's notebook."""

import pytest

from nndl_grading.master import include_source


def test_whole_module_include_rewrites_imports_for_the_notebook():
    source = include_source("nndl_ref.ch04.plots")
    assert "from nndl.ch03.linear_classifiers import logistic" in source     # an earlier chapter: the bundle
    assert "from nndl.plotting import as_numpy" in source                   # a chapter-independent module
    assert "from .activations" not in source and "from ." not in source     # its own chapter: the notebook's
    assert not source.startswith('"""') and "def _finish(" in source        # no module docstring; privates kept
    namespace = {"tanh": None, "relu": None, "leaky_relu": None}
    exec(compile(source.replace("from nndl.", "from nndl_ref."), "<include>", "exec"), namespace)
    assert callable(namespace["plot_activations"])


def test_function_include_stubs_the_named_body_only():
    source = include_source("nndl_ref.ch04.activations.relu", ("relu",))
    assert 'raise NotImplementedError("relu 尚未实现")' in source and "# BEGIN SOLUTION NO PROMPT" in source
    assert source.startswith("def relu(")


def test_stubbing_a_whole_module_is_refused():
    with pytest.raises(ValueError, match="whole module"):
        include_source("nndl_ref.ch04.plots", ("plot_activations",))


def test_constant_include_pastes_its_value():
    assert include_source("nndl_ref.device.DEVICE_ENV_VAR") == "DEVICE_ENV_VAR = 'NNDL_DEVICE'"
    assert "class Op" in include_source("nndl_ref.ch01.op")


def test_hidden_test_cell_bakes_in_the_question_forbidden_list():
    from nndl_grading.master import _hidden_test_cell
    plain = _hidden_test_cell("ch05", "check_conv2d_forward").source
    baked = _hidden_test_cell("ch05", "check_conv2d_by_hand", ("paddle.nn.functional.conv2d",)).source
    assert plain.rstrip().endswith("check_conv2d_forward(env)")
    assert baked.rstrip().endswith("check_conv2d_by_hand(env, forbidden=['paddle.nn.functional.conv2d'])")
    namespace = {}
    exec(baked.split('""" # END TEST CONFIG\n', 1)[1], namespace)
    assert callable(namespace["test_check_conv2d_by_hand"])
