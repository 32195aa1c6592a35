"""The reference's layout: one package per book chapter, each importing only earlier chapters and the
chapter-independent top-level modules, so that a chapter's student bundle can ship every earlier one."""

import ast
import importlib
import pathlib

import pytest

import nndl_ref

ROOT = pathlib.Path(nndl_ref.__file__).parent
CHAPTERS = sorted(p.name for p in ROOT.glob("ch[0-9][0-9]") if (p / "__init__.py").is_file())
SHARED = sorted(p.stem for p in ROOT.glob("*.py") if p.name != "__init__.py")


def _relative_imports(path):
    """(level, dotted target) of every relative import in the file at ``path``; ``from .. import x`` gives x."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.level, node.module or alias.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level for alias in node.names]


def test_every_book_chapter_has_a_package():
    assert CHAPTERS == [f"ch{n:02d}" for n in range(1, 9)]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_imports_only_earlier_chapters(chapter):
    number = int(chapter[2:])
    for path in (ROOT / chapter).glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                assert not node.module.startswith("nndl_ref"), f"{path.name}: import the kit relatively"
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("set_device", "show"), f"{chapter}/{path.name} calls {node.attr}"
        for level, module in _relative_imports(path):
            assert level in (1, 2), f"{path.name}: from {'.' * level}{module}"
            if level == 2:
                top = module.split(".")[0]
                assert top in SHARED or (top in CHAPTERS and int(top[2:]) < number), \
                    f"{chapter}/{path.name} imports {top}, which is not an earlier chapter"


@pytest.mark.parametrize("module", SHARED)
def test_shared_modules_belong_to_no_chapter(module):
    for level, imported in _relative_imports(ROOT / f"{module}.py"):
        assert imported.split(".")[0] in SHARED, f"{module}.py imports .{imported}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_namespace_holds_its_own_or_earlier_components(chapter):
    package = importlib.import_module(f"nndl_ref.{chapter}")
    names = getattr(package, "__all__", [])
    assert len(set(names)) == len(names)
    for name in names:
        origin = getattr(getattr(package, name), "__module__", None)
        if origin is not None:       # constants carry no module
            home = origin.split(".")[1] if origin.startswith("nndl_ref.") else ""
            assert home in CHAPTERS and home <= chapter, f"{chapter}.{name} lives in {origin}"


def test_top_level_exports_the_latest_version_of_each_name():
    from nndl_ref import ch02, ch03, ch04
    assert nndl_ref.Linear is ch04.Linear and ch02.Linear is not ch04.Linear
    assert nndl_ref.Optimizer_GD is ch04.Optimizer_GD and ch03.Optimizer_GD is not ch04.Optimizer_GD
    assert nndl_ref.RunnerV1 is ch02.RunnerV1 and nndl_ref.accuracy is ch03.accuracy
