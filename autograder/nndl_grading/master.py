"""Expand a master (jupytext percent file in ``solutions/``) into the notebook ``otter assign`` reads.

The master holds prose, public tests and directives; this module fills in what lives elsewhere, so
every component is written once:

* ``# nndl: include nndl_ref.chNN.module.name`` pastes the reference source of a function, class or
  constant; ``stub=method1,method2`` (a class) or ``stub=name`` (a function) wraps those bodies in an
  otter solution region whose student prompt is a uniform ``NotImplementedError`` banner;
  ``# nndl: include nndl_ref.chNN.module`` pastes a whole module (private helpers included): its
  imports from earlier chapters come from the student's ``nndl`` package, its imports from its own
  chapter are dropped (the notebook defines those names above);
* each question's points come from grading.yml, and its hidden tests are generated as calls of the
  checks in ``nndl_grading.hidden.<chapter>``;
* the otter ASSIGNMENT CONFIG cell is generated;
* the master's first code cell (its import cell) starts with ``STUDENT_SETUP``: Paddle's import-time
  ccache warning is silenced (only that one) and ``grader.check`` results become readable
  (``nndl/self_check.py``, a copy of ``nndl_grading/self_check.py``);
* the notebook's metadata says where it comes from (``provenance``).
"""

import ast
import importlib
import inspect
import platform
import re
import textwrap

import jupytext
import nbformat
import yaml

from .config import ConfigError

INCLUDE = re.compile(r"^# nndl: include (?P<target>[\w.]+)(?: stub=(?P<stubs>[\w,]+))?\s*$")
SECTION = re.compile(r"§\s*([\d.]+\d)")
# What ipykernel reports when JupyterLab connects; a notebook whose metadata differs is marked modified the
# moment its kernel starts. ``version`` is the building Python's (the pinned grading environment's).
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                 "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                 "pygments_lexer": "ipython3", "version": platform.python_version()}
STUDENT_SETUP = """\
# 由 make 生成：关掉飞桨导入时与你的代码无关的提示 (No ccache found)，并让 grader.check 指出你的代码出错的那一行
import warnings

warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
from nndl.self_check import readable_checks  # noqa: E402

readable_checks({extra_credit})

"""


def _stub_body(source, function_node, qualname, section):
    """Source lines of ``function_node`` with its body (after the docstring) inside a solution region."""
    lines = source.splitlines()
    body = function_node.body
    has_docstring = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
        and isinstance(body[0].value.value, str)
    if has_docstring and len(body) == 1:
        raise ValueError(f"{qualname} has only a docstring: nothing to stub")
    first = body[1 if has_docstring else 0]
    start = first.lineno - 1
    indent = re.match(r"\s*", lines[start]).group(0)
    banner = [
        f'{indent}""" # BEGIN PROMPT',
        f"{indent}# TODO: 请实现 {qualname}（见上方说明，§{section}）",
        f'{indent}raise NotImplementedError("{qualname} 尚未实现")',
        f'{indent}""" # END PROMPT',
        f"{indent}# BEGIN SOLUTION NO PROMPT",
    ]
    return start, function_node.end_lineno, banner + lines[start:function_node.end_lineno] + [f"{indent}# END SOLUTION"]


def module_source(module):
    """A reference module's source as notebook code: no module docstring, relative imports rewritten."""
    source = inspect.getsource(module)
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in reversed(tree.body):
        if isinstance(node, ast.ImportFrom) and node.level:
            if node.level == 1:
                replacement = []          # the same chapter: defined earlier in the notebook
            else:
                target = ".".join(filter(None, ["nndl", node.module]))
                names = ", ".join(alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in node.names)
                replacement = [f"from {target} import {names}"]
            lines[node.lineno - 1:node.end_lineno] = replacement
    if ast.get_docstring(tree) is not None:
        first = tree.body[0]
        lines[first.lineno - 1:first.end_lineno] = []
    return "\n".join(lines).strip()


def include_source(target, stubs=()):
    """Reference source of ``target`` (``package.module.name``, or a whole module), with the named bodies stubbed."""
    module_name, _, attribute = target.rpartition(".")
    try:
        obj = importlib.import_module(target)
    except ModuleNotFoundError:
        obj = getattr(importlib.import_module(module_name), attribute)
    if inspect.ismodule(obj):
        if stubs:
            raise ValueError(f"{target}: stub= names a function or class, not a whole module")
        return module_source(obj)
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return f"{attribute} = {obj!r}"
    source = textwrap.dedent(inspect.getsource(obj))
    if not stubs:
        return source.rstrip()
    section_match = SECTION.search(inspect.getdoc(obj) or "")
    if not section_match:
        raise ValueError(f"{target}: its docstring must name a book section (§x.y) to be stubbed")
    tree = ast.parse(source).body[0]
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    unknown = [name for name in stubs if name not in functions]
    if unknown:
        raise ValueError(f"{target}: stub names {unknown} are not functions/methods of it")
    lines = source.splitlines()
    for name in sorted(stubs, key=lambda n: functions[n].lineno, reverse=True):
        qualname = attribute if functions[name] is tree else f"{attribute}.{name}"
        start, end, new = _stub_body(source, functions[name], qualname, section_match.group(1))
        lines[start:end] = new
    return "\n".join(lines)


def _expand_includes(cell):
    """Replace each include directive line of a code cell by the source it names."""
    lines = []
    for line in cell.source.splitlines():
        match = INCLUDE.match(line.strip())
        if match:
            stubs = tuple(filter(None, (match.group("stubs") or "").split(",")))
            lines.append(include_source(match.group("target"), stubs) + "\n\n")
        else:
            lines.append(line)
    cell.source = "\n".join(lines).strip()


def _raw_kind(cell):
    if cell.cell_type != "raw":
        return None
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    match = re.match(r"#\s+(begin|end)\s+(question|tests|solution|prompt)", first, re.IGNORECASE)
    return f"{match.group(1)} {match.group(2)}".lower() if match else None


def _hidden_test_cell(chapter_key, check, forbidden=()):
    """The generated otter test of one hidden check; a question's ``forbidden`` built-ins (grading.yml) are
    baked in as the check's ``forbidden`` argument, so grading never reads grading.yml."""
    arguments = f"env, forbidden={list(forbidden)!r}" if forbidden else "env"
    return nbformat.v4.new_code_cell(
        '""" # BEGIN TEST CONFIG\nhidden: true\n""" # END TEST CONFIG\n'
        f"def test_{check}(env):\n"
        f"    from nndl_grading.hidden.{chapter_key} import {check}\n"
        f"    {check}({arguments})\n")


def assignment_config(chapter, files):
    """otter's ASSIGNMENT CONFIG. ``files`` (nndl/, data/) go with the notebook into the autograder; the
    autograder also carries ``kit/`` (nndl_ref + nndl_grading, installed from requirements.txt)."""
    config = {
        "name": chapter.key,
        "run_tests": False,
        "python_version": "3.11",
        "init_cell": True,
        "check_all_cell": False,
        "export_cell": False,
        "requirements": "requirements.txt",
        "overwrite_requirements": False,
        "files": list(files),
        "autograder_files": ["kit"],
        "tests": {"ok_format": False, "files": False},
    }
    return nbformat.v4.new_raw_cell("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, allow_unicode=True, sort_keys=False))


def expand_master(chapter, files=()):
    """The otter-assign notebook of ``chapter``: includes pasted, points set, hidden tests added."""
    notebook = jupytext.read(chapter.master, fmt="py:percent")
    hidden_module = importlib.import_module(f"nndl_grading.hidden.{chapter.key}")
    questions = {q.name: q for q in chapter.questions}
    seen, with_hidden, cells, current = [], set(), [assignment_config(chapter, files)], None
    for cell in notebook.cells:
        kind = _raw_kind(cell)
        if cell.cell_type == "code":
            _expand_includes(cell)
        if kind == "begin question":
            spec = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
            current = questions.get(spec.get("name"))
            if current is None:
                raise ConfigError(f"{chapter.master}: question {spec.get('name')!r} is not in grading.yml")
            if "points" in spec:
                raise ConfigError(f"{chapter.master}: question {current.name} sets points; they belong in grading.yml")
            spec["points"] = current.points
            cell.source = "# BEGIN QUESTION\n" + yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)
            seen.append(current.name)
        if kind == "end tests":
            for check in current.hidden:
                function = getattr(hidden_module, check, None)
                if not callable(function):
                    raise ConfigError(f"grading.yml: {chapter.key}.{current.name} lists hidden check {check!r}, "
                                      f"which nndl_grading/hidden/{chapter.key}.py does not define")
                takes_forbidden = "forbidden" in inspect.signature(function).parameters
                cells.append(_hidden_test_cell(chapter.key, check, current.forbidden if takes_forbidden else ()))
            with_hidden.add(current.name)
        if kind == "end question" and current.name not in with_hidden:
            raise ConfigError(f"{chapter.master}: question {current.name} has no '# BEGIN TESTS' … '# END TESTS' "
                              "block, so its hidden checks would be lost; give it at least one public test")
        cells.append(cell)
    missing = [name for name in questions if name not in seen]
    if missing:
        raise ConfigError(f"{chapter.master}: grading.yml lists questions {missing} that the master does not have")
    import_cell = next((cell for cell in cells if cell.cell_type == "code"), None)
    if import_cell is None:
        raise ConfigError(f"{chapter.master}: the master has no code cell to import what the chapter uses")
    import_cell.source = student_setup(chapter) + import_cell.source
    notebook.cells = cells
    notebook.metadata = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO, "nndl": provenance(chapter)}
    return notebook


def student_setup(chapter):
    """``STUDENT_SETUP`` for ``chapter``: ``readable_checks`` told which questions are extra credit."""
    extra_credit = [q.name for q in chapter.questions if q.extra_credit]
    return STUDENT_SETUP.format(extra_credit=f"extra_credit={extra_credit}" if extra_credit else "")


def provenance(chapter):
    """The notebook metadata that says which chapter it is and what it is generated from."""
    return {"chapter": chapter.key, "title": chapter.title, "source": f"solutions/{chapter.master.name}",
            "generated_by": "the NNDL Practice Kit's make; edit the source and rebuild, not this notebook"}
