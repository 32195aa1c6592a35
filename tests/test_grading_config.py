"""grading.yml is validated with clear messages, and every hidden check it lists is itself tested."""

import importlib
import subprocess
import sys

import pytest
import yaml

from nndl_grading.config import REPO_ROOT, ConfigError, load_course

COURSE = load_course()


def _write(tmp_path, mutate):
    raw = yaml.safe_load((REPO_ROOT / "grading.yml").read_text(encoding="utf-8"))
    mutate(raw)
    path = tmp_path / "grading.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("mutate,message", [
    (lambda raw: raw.pop("defaults"), "missing key '(top level).defaults'"),
    (lambda raw: raw["defaults"].update(timeout="soon"), "'defaults.timeout' must be a number"),
    (lambda raw: raw["defaults"].update(device="tpu"), "'defaults.device' must be one of"),
    (lambda raw: raw["chapters"]["ch01"].update(master="solutions/nope.py"), "solutions/nope.py, which does not exist"),
    (lambda raw: raw["chapters"]["ch01"]["questions"][0].pop("points"), "missing key 'chapters.ch01.questions[0].points'"),
    (lambda raw: raw["chapters"]["ch01"]["questions"][0].update(points=-1), "must be positive"),
    (lambda raw: raw["chapters"]["ch01"]["questions"][0].update(hidden=[]), "at least one check"),
    (lambda raw: raw["chapters"]["ch01"]["questions"][1].update(hidden=["check_add_forward"] * 2), "a check twice"),
    (lambda raw: raw["chapters"].update(chapter1=raw["chapters"]["ch01"]), "must look like 'ch01'"),
])
def test_bad_config_names_file_key_and_expectation(tmp_path, mutate, message):
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError) as error:
        load_course(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_cli_reports_config_errors_without_traceback(tmp_path):
    path = _write(tmp_path, lambda raw: raw["defaults"].update(threads=0))
    result = subprocess.run([sys.executable, "-m", "nndl_grading.cli", "--config", str(path), "build"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "must be positive" in result.stderr


def test_cli_reports_a_missing_submission_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nndl_grading.cli", "grade", "1", str(tmp_path / "nothing")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "no such file or folder" in result.stderr and "Traceback" not in result.stderr


def test_unknown_hidden_check_is_refused_at_build(tmp_path):
    from nndl_grading.master import expand_master
    path = _write(tmp_path, lambda raw: raw["chapters"]["ch01"]["questions"][0].update(hidden=["check_nothing"]))
    with pytest.raises(ConfigError, match="check_nothing"):
        expand_master(load_course(path).chapter(1))


@pytest.mark.parametrize("key", list(COURSE.chapters))
def test_every_hidden_check_has_a_wrong_variant_and_an_alternative(key):
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    tests = importlib.import_module(f"test_hidden_{key}")
    for question in COURSE.chapters[key].questions:
        for check in question.hidden:
            assert tests.WRONG_VARIANTS.get(check), f"{key}.{check}: no known-wrong implementation in the suite"
            assert tests.ALTERNATIVES.get(check), f"{key}.{check}: no different-but-correct implementation"


def test_question_without_a_tests_block_is_refused(tmp_path):
    from nndl_grading.master import expand_master
    master = (REPO_ROOT / "solutions" / "ch01.py").read_text(encoding="utf-8")
    start = master.index("# %% [raw]\n# # BEGIN TESTS")
    end = master.index("# # END TESTS", start) + len("# # END TESTS\n")
    (tmp_path / "ch01.py").write_text(master[:start] + master[end:], encoding="utf-8")
    path = _write(tmp_path, lambda raw: raw["chapters"]["ch01"].update(master=str(tmp_path / "ch01.py")))
    with pytest.raises(ConfigError, match="q1_broadcast_shape has no"):
        expand_master(load_course(path).chapter(1))


def test_unknown_data_file_is_refused(tmp_path):
    from nndl_grading.build import write_support_files
    path = _write(tmp_path, lambda raw: raw["chapters"]["ch02"].update(data=["mnist.npz"]))
    with pytest.raises(ConfigError, match="mnist.npz"):
        write_support_files(load_course(path).chapter(2), tmp_path / "bundle")


def test_build_fingerprint_follows_the_sources(built):
    from nndl_grading.build import is_built
    chapter = COURSE.chapters["ch01"]
    build_root = built["ch01"][1].parent
    assert is_built(chapter, build_root)
    changed = type(chapter)(**{**chapter.__dict__, "title": "changed"})
    assert not is_built(changed, build_root)
