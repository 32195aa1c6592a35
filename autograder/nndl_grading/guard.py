"""Keep a submission from changing the code that judges it.

The worker snapshots the namespaces of the libraries the checks rely on before the student's code
runs; ``restore()`` puts back every attribute (and ``sys.modules`` entry) that was replaced since and
names what it restored. Run after the notebook and after every test case, it undoes monkeypatching of
numpy, builtins, otter's test classes or the checks themselves, and a case during which something was
replaced fails. Limits: code that patches and un-patches within one test case is not seen, and the
student's code shares the process — the verdict is computed where the student's code runs.
"""

import pkgutil
import sys

from .checks import REFERENCE_PACKAGES

GUARDED = ("builtins", "math", "inspect", "json", "os", "os.path", "traceback", "unittest", "numpy",
           "numpy.testing", "numpy.linalg", "paddle", "paddle.nn.functional",
           "otter.test_files", "otter.test_files.abstract_test", "otter.test_files.exception_test")


def import_hidden_checks():
    """Import every hidden-check module now, so that they are snapshotted before student code runs."""
    import nndl_grading.hidden as hidden
    for module in pkgutil.iter_modules(hidden.__path__):
        __import__(f"nndl_grading.hidden.{module.name}")


class ModuleGuard:
    def __init__(self):
        names = [n for n in GUARDED if n in sys.modules]
        names += [n for n in sys.modules if n.startswith(REFERENCE_PACKAGES)]
        self.modules = {name: sys.modules[name] for name in names}
        self.saved = {name: dict(vars(module)) for name, module in self.modules.items()}
        # Python classes defined in those modules (their methods can be patched too)
        self.classes = {value: dict(vars(value)) for name, module in self.modules.items()
                        for value in vars(module).values()
                        if isinstance(value, type) and getattr(value, "__module__", None) == name}

    def restore(self):
        """Undo replacements since the snapshot; return the dotted names that had been replaced."""
        replaced = []
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                replaced.append(name)
            current = vars(module)
            for key, value in self.saved[name].items():
                if current.get(key, _MISSING) is not value:
                    current[key] = value
                    replaced.append(f"{name}.{key}")
        for cls, saved in self.classes.items():
            current = vars(cls)
            for key in [k for k in current if k not in saved]:
                delattr(cls, key)
                replaced.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
            for key, value in saved.items():
                if current.get(key, _MISSING) is not value:
                    setattr(cls, key, value)
                    replaced.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
        return replaced


_MISSING = object()
