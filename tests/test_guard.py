"""The module guard undoes patches of the libraries and checks the verdict depends on."""

import numpy as np

import nndl_grading.checks as checks
from nndl_grading.guard import ModuleGuard, import_hidden_checks
from otter.test_files.exception_test import test_case


def test_guard_restores_module_functions_class_methods_and_modules():
    import sys
    import_hidden_checks()
    guard = ModuleGuard()
    original_allclose, original_check, original_call = np.allclose, checks.check_close, test_case.call_func
    hidden = sys.modules["nndl_grading.hidden.ch02"]
    np.allclose = lambda *a, **k: True
    checks.check_close = lambda *a, **k: None
    test_case.call_func = lambda self, env: None
    test_case.extra = "added"
    sys.modules["nndl_grading.hidden.ch02"] = object()
    replaced = guard.restore()
    assert np.allclose is original_allclose and checks.check_close is original_check
    assert test_case.call_func is original_call and not hasattr(test_case, "extra")
    assert sys.modules["nndl_grading.hidden.ch02"] is hidden
    assert {"numpy.allclose", "nndl_grading.checks.check_close", "nndl_grading.hidden.ch02",
            "otter.test_files.exception_test.test_case.call_func"} <= set(replaced)
    assert guard.restore() == []   # nothing left to undo


def test_patch_made_by_student_code_during_a_case_fails_that_case():
    from nndl_grading.worker import run_tests

    class Case:  # the shape of otter's TestCase as run_tests uses it
        name, hidden, points = "q - 1", True, 1.0

        class body:
            @staticmethod
            def test_func(env):
                env["student_forward"]()

            @staticmethod
            def call_func(env):
                env["student_forward"]()

    class File:
        name, test_cases = "q", [Case]

    def student_forward():
        checks.check_close = lambda *a, **k: None   # patched while the check runs
    guard = ModuleGuard()
    original = checks.check_close
    result = run_tests([File], {"student_forward": student_forward}, guard.restore)
    assert checks.check_close is original
    assert result["q"][0]["passed"] is False and "replaced library functions" in result["q"][0]["message"]
