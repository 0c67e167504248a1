"""Cross-references in docstrings: resolved when they name something documented, refused when they name nothing.

The build runs in nitpicky mode, so every reference a docstring makes is checked. A reference resolves to a link
when it names a documented object, also by a public alias (``learnloop.Sequential`` links to
``learnloop.models.Sequential``) or by a short name that only one documented object has. A reference to something
that exists in the code but is not part of the public reference (``learnloop.models.training.Trainer``) is shown as
code without a link. A reference to a name that exists nowhere stays a warning, which fails the build.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import sys

from docutils import nodes

ALIASES: dict[str, str] = {}        # filled by the extension from api.public_objects()


def _documented(env) -> dict:
    return env.get_domain("py").objects


def _resolve(env, fromdocname, builder, typ, target, node, contnode):
    return env.get_domain("py").resolve_xref(env, fromdocname, builder, typ, target, node, contnode)


@functools.cache
def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@functools.cache
def _lookup(dotted: str):
    """The object ``dotted`` names in learnloop's code, or None."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        obj = _module(".".join(parts[:cut]))
        if obj is None:
            continue
        try:
            for part in parts[cut:]:
                obj = inspect.getattr_static(obj, part) if inspect.isclass(obj) else getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None


@functools.cache
def exists_in_code(target: str, module: str | None, klass: str | None) -> bool:
    candidates = [target]
    if module:
        candidates += [f"{module}.{klass}.{target}" if klass else None, f"{module}.{target}"]
    if not target.startswith("learnloop"):
        candidates += [f"{name}.{target}" for name in list(sys.modules)
                       if name.startswith("learnloop") and sys.modules[name] is not None]
    return any(c and c.startswith("learnloop") and _lookup(c) is not None for c in candidates)


def missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    typ = node["reftype"]
    if target in ALIASES and ALIASES[target] != target:
        found = _resolve(env, node.get("refdoc", ""), app.builder, typ, ALIASES[target], node, contnode)
        if found is not None:
            return found
    if "." not in target or not target.startswith("learnloop"):
        tail = "." + target
        matches = sorted({name for name in _documented(env) if name.endswith(tail)})
        if len(matches) == 1:
            found = _resolve(env, node.get("refdoc", ""), app.builder, typ, matches[0], node, contnode)
            if found is not None:
                return found
    if exists_in_code(target, node.get("py:module"), node.get("py:class")):
        return nodes.literal(target, contnode.astext())
    return None


def drop_private_bases(app, name, obj, options, bases) -> None:
    """``Bases: _Conv`` says nothing to a reader: only the public bases are shown (api.public_bases)."""
    from learnloop_docs.api import public_bases

    bases[:] = public_bases(obj)


def skip_foreign_members(app, what, name, obj, skip, options):
    """Methods other libraries add to learnloop's classes (scikit-learn's metadata-routing setters) are theirs."""
    module = getattr(obj, "__module__", None) or ""
    if module.startswith(("sklearn", "starlette", "fastapi")):
        return True
    return None


_TYPE = re.compile(r"[\w.]+(\[.*\])?( \| [\w.]+(\[.*\])?)*")


def keep_prose_attribute_lines() -> None:
    """Napoleon reads a property's first line ``text: more text`` as ``type: description``; the docstrings here
    start with a sentence, so a "type" that is not a type expression is put back into the description."""
    from sphinx.ext.napoleon.docstring import GoogleDocstring

    original = GoogleDocstring._consume_inline_attribute
    if getattr(original, "_learnloop", False):
        return

    def consume(self):
        first = self._lines[0] if self._lines else ""
        _type, descs = original(self)
        if _type and not _TYPE.fullmatch(_type.strip()):
            return "", [first.strip(), *descs[1:]]
        return _type, descs

    consume._learnloop = True
    GoogleDocstring._consume_inline_attribute = consume


def drop_type_docstrings(app, what, name, obj, options, lines) -> None:
    """A constant (``layers.REGISTRY``, ``fairness.METRICS``) has no docstring of its own; autodoc would show its
    type's (``dict``'s), which describes the type, not the constant."""
    if what not in ("data", "attribute") or inspect.isclass(obj) or inspect.isroutine(obj):
        return
    own = inspect.getdoc(obj)
    if own is not None and own == inspect.getdoc(type(obj)):
        lines.clear()
