"""nndl_ref: the complete reference implementation of the book's ``nndl`` library.

Modules are named by concept and each holds components of ONE book chapter (its ``BOOK_CHAPTER``
constant), so that a student bundle can ship exactly the chapters before the current one.

The book reuses some names across chapters (chapter-2 ``Linear`` vs chapter-4 ``Linear``). Import
through the chapter namespaces to get the book's name as that chapter means it::

    from nndl_ref.ch02 import Linear          # the chapter-2 regression operator
    from nndl_ref.ch04 import Linear          # the chapter-4 Op layer with grads
"""
