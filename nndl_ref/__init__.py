"""nndl_ref: the complete reference implementation of the book's ``nndl`` library.

One package per book chapter (``nndl_ref.ch01`` … ``nndl_ref.ch08``), modules named by concept inside;
a chapter package's ``__init__`` is that chapter's namespace, and a chapter imports only from earlier
chapters, so that a student bundle can ship exactly the chapters before the current one. Top-level
modules (``device``, ``plotting``, ``gradcheck``, ``archives``) belong to no chapter and ship with every
bundle.

The book reuses some names across chapters (chapter-2 ``Linear`` vs chapter-4 ``Linear``). Import
through the chapter namespaces to get the book's name as that chapter means it::

    from nndl_ref.ch02 import Linear          # the chapter-2 regression operator
    from nndl_ref.ch04 import Linear          # the chapter-4 Op layer with grads

``import nndl_ref`` exports the latest chapter's version of every name. The chapters load when first
used (``nndl_ref.X``, ``from nndl_ref import X``), not on ``import nndl_ref``: grading imports only the
chapters it checks, and ``nndl_ref.device`` or ``nndl_ref.gradcheck`` alone costs no chapter at all.
"""

import importlib

CHAPTERS = tuple(f"ch{number:02d}" for number in range(1, 9))
_latest_chapter_of = None     # name → the last chapter exporting it, once a book name was asked for


def _exported(chapter):
    """The names ``from nndl_ref.chNN import *`` gives."""
    return getattr(chapter, "__all__", None) or [name for name in vars(chapter) if not name.startswith("_")]


def _name_index():
    global _latest_chapter_of
    if _latest_chapter_of is None:
        index = {}
        for key in CHAPTERS:
            chapter = importlib.import_module(f".{key}", __name__)
            index.update(dict.fromkeys(_exported(chapter), chapter))
        _latest_chapter_of = index
    return _latest_chapter_of


def __getattr__(name):
    if name in CHAPTERS:
        return importlib.import_module(f".{name}", __name__)
    if name.startswith("__"):
        raise AttributeError(name)
    chapter = _name_index().get(name)
    if chapter is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(chapter, name)


def __dir__():
    return sorted(set(globals()) | set(CHAPTERS) | set(_name_index()))
