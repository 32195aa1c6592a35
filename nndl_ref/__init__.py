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

``import nndl_ref`` exports the latest chapter's version of every name.
"""

from .ch01 import *  # noqa: F401,F403
from .ch02 import *  # noqa: F401,F403
from .ch03 import *  # noqa: F401,F403
from .ch04 import *  # noqa: F401,F403
from .ch05 import *  # noqa: F401,F403
from .ch06 import *  # noqa: F401,F403
from .ch07 import *  # noqa: F401,F403
from .ch08 import *  # noqa: F401,F403
