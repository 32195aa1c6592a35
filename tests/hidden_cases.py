"""How the hidden checks are tested: the reference passes, known-wrong variants fail, and correct
implementations written differently from the reference pass.

A chapter's test module defines
    REFERENCE_ENV      the student namespace built from nndl_ref (must pass every check);
    WRONG_VARIANTS     {check name: [(label, {name: wrong implementation})]} — each must FAIL with a
                       ``CheckFailure`` (a staged, student-facing message), never with a bare crash;
    ALTERNATIVES       {check name: [(label, {name: different correct implementation})]} — must PASS;
and calls ``hidden_check_tests(chapter_key, globals())`` to generate the pytest functions.
``tests/test_grading_config.py`` asserts every hidden check in grading.yml has a wrong variant and an
alternative.
"""

import importlib

import pytest

from nndl_grading.checks import CheckFailure


def hidden_check_tests(chapter_key, namespace):
    """Add test_reference_passes / test_wrong_variant_fails / test_alternative_passes to ``namespace``."""
    module = importlib.import_module(f"nndl_grading.hidden.{chapter_key}")
    reference_env = namespace["REFERENCE_ENV"]
    wrong = [(check, label, overrides) for check, cases in namespace["WRONG_VARIANTS"].items()
             for label, overrides in cases]
    alternatives = [(check, label, overrides) for check, cases in namespace["ALTERNATIVES"].items()
                    for label, overrides in cases]
    checks = sorted({name for name, *_ in wrong} | {name for name, *_ in alternatives})

    @pytest.mark.parametrize("check", checks)
    def test_reference_passes(check):
        getattr(module, check)(dict(reference_env))

    @pytest.mark.parametrize("check,label,overrides", wrong, ids=[f"{c}-{l}" for c, l, _ in wrong])
    def test_wrong_variant_fails(check, label, overrides):
        with pytest.raises(CheckFailure):
            getattr(module, check)({**reference_env, **overrides})

    @pytest.mark.parametrize("check,label,overrides", alternatives, ids=[f"{c}-{l}" for c, l, _ in alternatives])
    def test_alternative_passes(check, label, overrides):
        getattr(module, check)({**reference_env, **overrides})

    namespace.update(test_reference_passes=test_reference_passes, test_wrong_variant_fails=test_wrong_variant_fails,
                     test_alternative_passes=test_alternative_passes)
