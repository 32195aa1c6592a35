"""How the hidden checks are tested: the reference passes, known-wrong variants fail, and correct
implementations written differently from the reference pass.

A chapter's test module defines
    REFERENCE_ENV      the student namespace built from nndl_ref (must pass every check);
    WRONG_VARIANTS     {check name: [(label, {name: wrong implementation})]} — each must FAIL with a
                       ``CheckFailure`` (a staged, student-facing message), never with a bare crash;
    ALTERNATIVES       {check name: [(label, {name: different correct implementation})]} — must PASS;
and calls ``hidden_check_tests(chapter_key, globals())`` to generate the pytest functions. Each runs
twice: on the plain namespace (as under Gradescope and nbgrader) and through ``rpc.loopback_pair``, where
the check sees every student object as a proxy, exactly as the kit's grader runs it across processes.
``tests/test_grading_config.py`` asserts every hidden check in grading.yml has a wrong variant and an
alternative.
"""

import importlib

import pytest

from nndl_grading.checks import CheckFailure
from nndl_grading.rpc import loopback_pair

MODES = ("direct", "rpc")


def _env(namespace, mode):
    return namespace if mode == "direct" else loopback_pair(namespace)[1]


def hidden_check_tests(chapter_key, namespace):
    """Add test_reference_passes / test_wrong_variant_fails / test_alternative_passes to ``namespace``."""
    module = importlib.import_module(f"nndl_grading.hidden.{chapter_key}")
    reference_env = namespace["REFERENCE_ENV"]
    wrong = [(check, label, overrides) for check, cases in namespace["WRONG_VARIANTS"].items()
             for label, overrides in cases]
    alternatives = [(check, label, overrides) for check, cases in namespace["ALTERNATIVES"].items()
                    for label, overrides in cases]
    checks = sorted({name for name, *_ in wrong} | {name for name, *_ in alternatives})

    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("check", checks)
    def test_reference_passes(check, mode):
        getattr(module, check)(_env(dict(reference_env), mode))

    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("check,label,overrides", wrong, ids=[f"{c}-{l}" for c, l, _ in wrong])
    def test_wrong_variant_fails(check, label, overrides, mode):
        with pytest.raises(CheckFailure):
            getattr(module, check)(_env({**reference_env, **overrides}, mode))

    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("check,label,overrides", alternatives, ids=[f"{c}-{l}" for c, l, _ in alternatives])
    def test_alternative_passes(check, label, overrides, mode):
        getattr(module, check)(_env({**reference_env, **overrides}, mode))

    namespace.update(test_reference_passes=test_reference_passes, test_wrong_variant_fails=test_wrong_variant_fails,
                     test_alternative_passes=test_alternative_passes)
