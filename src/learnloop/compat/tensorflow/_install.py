"""``install()``: make ``import tensorflow`` (and ``from tensorflow.keras... import ...``) resolve to learnloop in
this process, helper modules included; ``uninstall()`` undoes it."""

from __future__ import annotations

import importlib.abc
import sys

from learnloop.errors import LearnloopError

_state: dict = {"aliases": {}, "finder": None}


def _ours(module) -> bool:
    return getattr(module, "__name__", "").startswith("learnloop.compat.tensorflow")


def _foreign(prefix: str) -> list[str]:
    return sorted(name for name, module in list(sys.modules.items())
                  if (name == prefix or name.startswith(prefix + ".")) and module is not None and not _ours(module))


class _Finder(importlib.abc.MetaPathFinder):
    """Answers for ``tensorflow.*`` (and ``keras.*``) names the aliases do not hold: an error naming the module."""

    def __init__(self, prefixes: tuple[str, ...]):
        self.prefixes = prefixes

    def find_spec(self, fullname, path=None, target=None):
        if not any(fullname == p or fullname.startswith(p + ".") for p in self.prefixes):
            return None
        module = _state["aliases"].get(fullname)
        if module is not None:
            sys.modules[fullname] = module
            return module.__spec__ if getattr(module, "__spec__", None) else None
        from learnloop.compat.tensorflow._missing import HINTS

        hint = HINTS.get(fullname.rsplit(".", 1)[-1])
        raise ModuleNotFoundError(
            f"No module named {fullname!r}: " + (hint or (
                f"learnloop's TensorFlow names (installed by learnloop.compat.tensorflow.install()) cover the modules "
                f"{sorted(n for n in _state['aliases'] if n.count('.') <= 2)}. Import the public names (import "
                f"tensorflow as tf; tf.keras.layers.Dense), or call learnloop.compat.tensorflow.uninstall() and "
                f"restart to use the real TensorFlow.")), name=fullname)


def install(modules: dict, keras: bool = False) -> None:
    """Register ``modules`` ({"tensorflow": module, "tensorflow.keras": ..., ...}) in ``sys.modules``.

    Refuses when the real TensorFlow (or, with ``keras=True``, the real Keras) is already imported: code holding it
    would then mix two libraries. Installing twice is harmless.
    """
    prefixes = ("tensorflow", "keras") if keras else ("tensorflow",)
    for prefix in prefixes:
        foreign = _foreign(prefix)
        if foreign:
            real = sys.modules.get(prefix)
            where = getattr(real, "__file__", None) or "?"
            version = getattr(real, "__version__", "")
            raise LearnloopError(
                f"The real {prefix} {version} is already imported in this process (from {where}; modules "
                f"{foreign[:3]}{'...' if len(foreign) > 3 else ''}), so `import {prefix}` can no longer resolve "
                f"to learnloop: code that already holds it would mix the two. Restart Python (in Jupyter: Kernel > "
                f"Restart) and run `import learnloop.compat.tensorflow as _tf; _tf.install()` (or "
                f"`%load_ext learnloop.compat.tensorflow`) before anything imports {prefix}.")
    aliases = {name: module for name, module in modules.items() if keras or not name.startswith("keras")}
    for name, module in aliases.items():
        sys.modules[name] = module
    _state["aliases"].update(aliases)
    if _state["finder"] is None:
        _state["finder"] = _Finder(prefixes)
        sys.meta_path.insert(0, _state["finder"])
    else:
        _state["finder"].prefixes = tuple(sorted(set(_state["finder"].prefixes) | set(prefixes)))


def uninstall() -> None:
    """Remove the aliases and the finder; modules that already imported ``tensorflow`` keep what they hold."""
    for name, module in _state["aliases"].items():
        if sys.modules.get(name) is module:
            del sys.modules[name]
    _state["aliases"] = {}
    if _state["finder"] is not None:
        if _state["finder"] in sys.meta_path:
            sys.meta_path.remove(_state["finder"])
        _state["finder"] = None


def installed() -> bool:
    return sys.modules.get("tensorflow") is _state["aliases"].get("tensorflow", object())
