"""Load and validate ``grading.yml``, the course configuration.

A missing or wrong key is a ``ConfigError`` naming the file, the key and what was expected.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "grading.yml"
BUILD_ROOT = REPO_ROOT / "build"                # build/chNN: expanded masters, autograders, zips
ASSIGNMENTS_ROOT = REPO_ROOT / "assignments"    # the committed student bundles
TOLERANCE_ENV_VAR = "NNDL_TOLERANCES"           # grading.yml's tolerances, handed by the grader to the checks
DEVICE_POLICIES = ("auto", "cpu", "gpu")


class ConfigError(ValueError):
    """grading.yml is missing a key or has a wrong value."""


@dataclass(frozen=True)
class Question:
    name: str
    points: float
    hidden: tuple  # names of check functions in nndl_grading.hidden.<chapter>
    hint: str = ""  # shown in the feedback when the question is not at full marks
    forbidden: tuple = ()  # dotted names of built-ins the question's by-hand checks reject (fixtures/layers.py)
    extra_credit: bool = False  # its points add to the score but not to the chapter's possible points


@dataclass(frozen=True)
class Limits:
    timeout: float        # wall-clock seconds per submission
    memory_gb: float      # address-space limit per grading process
    threads: int          # math-library threads per grading process
    device: str           # auto | cpu | gpu
    tolerances: dict      # passed to the hidden checks (see checks.tolerances)


@dataclass(frozen=True)
class Chapter:
    key: str              # "ch02"
    number: int
    title: str
    master: Path
    data: tuple
    questions: tuple
    limits: Limits

    @property
    def points(self):
        """The chapter's possible points: every question except the extra-credit ones."""
        return sum(q.points for q in self.questions if not q.extra_credit)

    @property
    def extra_points(self):
        """What the extra-credit questions add on top of ``points`` at full marks."""
        return sum(q.points for q in self.questions if q.extra_credit)

    @property
    def full_marks(self):
        """What a submission that passes everything scores: ``points`` plus the extra credit."""
        return self.points + self.extra_points

    @property
    def maxima(self):
        """question name -> its points."""
        return {q.name: q.points for q in self.questions}


@dataclass(frozen=True)
class Course:
    path: Path
    name: str
    chapters: dict  # key -> Chapter

    def chapter(self, ref):
        """A chapter by ``2``, ``"2"``, ``"02"`` or ``"ch02"``."""
        text = str(ref).lower().removeprefix("ch")
        key = f"ch{int(text):02d}" if text.isdigit() else str(ref)
        if key not in self.chapters:
            raise ConfigError(f"{self.path}: no chapter {ref!r}; configured: {', '.join(self.chapters)}")
        return self.chapters[key]


def _get(mapping, key, where, path, kind, default=None, required=True):
    if not isinstance(mapping, dict):
        raise ConfigError(f"{path}: {where} must be a mapping, got {type(mapping).__name__}")
    if key not in mapping:
        if required:
            raise ConfigError(f"{path}: missing key '{where}.{key}' (expected {kind.__name__ if isinstance(kind, type) else kind})")
        return default
    value = mapping[key]
    expected = (int, float) if kind is float else kind
    if isinstance(expected, type) or isinstance(expected, tuple):
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, expected):
            name = "a number" if kind is float else kind.__name__
            raise ConfigError(f"{path}: '{where}.{key}' must be {name}, got {value!r}")
    return value


def _limits(raw, where, path, base=None):
    base = base or {}
    merged = {**base, **(raw or {})}
    limits = Limits(
        timeout=float(_get(merged, "timeout", where, path, float)),
        memory_gb=float(_get(merged, "memory_gb", where, path, float)),
        threads=int(_get(merged, "threads", where, path, int)),
        device=_get(merged, "device", where, path, str),
        tolerances=dict(_get(merged, "tolerances", where, path, dict)),
    )
    if limits.timeout <= 0 or limits.memory_gb <= 0 or limits.threads <= 0:
        raise ConfigError(f"{path}: '{where}' timeout, memory_gb and threads must be positive")
    if limits.device not in DEVICE_POLICIES:
        raise ConfigError(f"{path}: '{where}.device' must be one of {DEVICE_POLICIES}, got {limits.device!r}")
    for key, value in limits.tolerances.items():
        if key not in ("rtol", "atol") or isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{path}: '{where}.tolerances.{key}' must be rtol/atol with a positive number")
    return limits


def _check_forbidden(names, where, path):
    """Every entry names a real function or class whose calls the layer harness can see."""
    if not names:
        return
    from .fixtures.layers import watched_codes      # imports paddle: only for a question that forbids something
    for name in names:
        try:
            watched_codes(name)
        except Exception as error:
            raise ConfigError(f"{path}: '{where}' lists {name!r}, which is not a function or class "
                              f"(expected dotted names like paddle.nn.functional.conv2d): {error}") from None


def load_course(path=DEFAULT_CONFIG):
    """Parse and validate the course configuration at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: course configuration not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    name = _get(raw, "course", "(top level)", path, str)
    defaults = _get(raw, "defaults", "(top level)", path, dict)
    chapters_raw = _get(raw, "chapters", "(top level)", path, dict)
    chapters = {}
    for key, spec in chapters_raw.items():
        where = f"chapters.{key}"
        if not (isinstance(key, str) and key.startswith("ch") and key[2:].isdigit()):
            raise ConfigError(f"{path}: chapter key {key!r} must look like 'ch01'")
        master = REPO_ROOT / _get(spec, "master", where, path, str)
        if not master.is_file():
            raise ConfigError(f"{path}: '{where}.master' names {master.relative_to(REPO_ROOT)}, which does not exist")
        questions = []
        for index, q in enumerate(_get(spec, "questions", where, path, list)):
            q_where = f"{where}.questions[{index}]"
            points = _get(q, "points", q_where, path, float)
            if points <= 0:
                raise ConfigError(f"{path}: '{q_where}.points' must be positive, got {points}")
            hidden = _get(q, "hidden", q_where, path, list)
            if not hidden or not all(isinstance(h, str) for h in hidden):
                raise ConfigError(f"{path}: '{q_where}.hidden' must list at least one check function name")
            if len(set(hidden)) != len(hidden):
                raise ConfigError(f"{path}: '{q_where}.hidden' lists a check twice")
            hint = _get(q, "hint", q_where, path, str, default="", required=False)
            forbidden = _get(q, "forbidden", q_where, path, list, default=[], required=False)
            _check_forbidden(forbidden, f"{q_where}.forbidden", path)
            extra_credit = _get(q, "extra_credit", q_where, path, bool, default=False, required=False)
            questions.append(Question(_get(q, "name", q_where, path, str), float(points), tuple(hidden), hint,
                                      tuple(forbidden), extra_credit))
        names = [q.name for q in questions]
        if len(set(names)) != len(names):
            raise ConfigError(f"{path}: '{where}.questions' has duplicate names")
        if questions and all(q.extra_credit for q in questions):
            raise ConfigError(f"{path}: '{where}.questions' are all extra_credit: the chapter would be worth 0 points")
        chapters[key] = Chapter(
            key=key, number=int(key[2:]), title=_get(spec, "title", where, path, str), master=master,
            data=tuple(_get(spec, "data", where, path, list, default=[], required=False)),
            questions=tuple(questions),
            limits=_limits(spec.get("limits"), f"{where}.limits", path, base=_limits(defaults, "defaults", path).__dict__),
        )
    return Course(path=path, name=name, chapters=chapters)
