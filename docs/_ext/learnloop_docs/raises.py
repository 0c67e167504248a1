"""*Raises*, read from the code: the errors a function, method or constructor raises, with their messages.

learnloop's messages say where, what was expected and what arrived, so the ``raise`` statements are the best list of
what can go wrong. For each documented callable whose docstring has no ``Raises:`` section of its own, the
``raise X(...)`` statements of its body are listed, and those of the learnloop functions it calls
(``check_positive_int(...)``, ``self._validate(...)``, ``super().__init__(...)``, ``activations.get(...)``), two
calls deep. A message's f-string fields are shown as ``...``. Only learnloop's errors
and Python's built-in exceptions are listed; a bare ``raise`` (re-raising) is not.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
import textwrap

import learnloop.errors

DEPTH = 2
MAX_ENTRIES = 8
MAX_MESSAGE = 220
LEARNLOOP_ERRORS = {name: obj for name, obj in vars(learnloop.errors).items()
                    if inspect.isclass(obj) and issubclass(obj, BaseException)}


def _source_tree(func) -> ast.AST | None:
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return None
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _message(node: ast.expr | None) -> str:
    """The text of a message argument: constants kept, f-string fields as ``...``; "" when not a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "..." for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _message(node.left) + _message(node.right)
    return ""


class _Body(ast.NodeVisitor):
    """The raises and the private calls of one function body, not of the functions defined inside it."""

    def __init__(self):
        self.raises: list[tuple[str, str]] = []
        self.calls: list[tuple[str | None, str]] = []      # ("self" or None, name)
        self.depth = 0

    def visit_FunctionDef(self, node):
        self.depth += 1
        if self.depth == 1:
            self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        return

    def visit_ClassDef(self, node):
        return

    def visit_Raise(self, node):
        exc = node.exc
        if exc is None:
            return
        call = exc if isinstance(exc, ast.Call) else None
        target = call.func if call else exc
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name:
            message = _message(call.args[0]) if call and call.args else ""
            self.raises.append((name, message))
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name):                                      # check_positive_int(...)
            self.calls.append((None, func.id))
        elif isinstance(func, ast.Attribute):
            value = func.value
            if isinstance(value, ast.Name) and value.id in ("self", "cls") and not func.attr.startswith("__"):
                self.calls.append(("self", func.attr))                      # self._validate(...)
            elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super":
                self.calls.append(("super", func.attr))                     # super().__init__(...)
            elif isinstance(value, ast.Name):
                self.calls.append((value.id, func.attr))                    # activations.get(...)
        self.generic_visit(node)


def _owner(func):
    """The class a method was defined in, from its qualified name and module globals; None for a function."""
    parts = getattr(func, "__qualname__", "").split(".")
    if len(parts) < 2 or "<locals>" in parts:
        return None
    obj = getattr(func, "__globals__", {}).get(parts[0])
    for part in parts[1:-1]:
        obj = getattr(obj, part, None)
    return obj if inspect.isclass(obj) else None


def _static(klass, name: str):
    target = inspect.getattr_static(klass, name, None) if klass is not None else None
    if isinstance(target, (staticmethod, classmethod)):
        target = target.__func__
    if isinstance(target, property):
        target = target.fget
    return target


def _resolve(func, klass, kind: str | None, name: str):
    """The learnloop function a call names: a module-level name, a method of self's class or of its base (super()),
    or a function of a learnloop module the code imported (``activations.get``); None for anything else."""
    names = getattr(func, "__globals__", {})
    if kind == "self":
        target = _static(klass, name)
    elif kind == "super":
        bases = inspect.getmro(klass)[1:] if klass is not None else ()
        target = next((_static(b, name) for b in bases if name in vars(b)), None)
    elif kind is None:
        target = names.get(name)
    else:
        module = names.get(kind)
        target = getattr(module, name, None) if inspect.ismodule(module) else None
    target = inspect.unwrap(target) if callable(target) else None
    module = getattr(target, "__module__", "") or ""
    return target if inspect.isfunction(target) and module.startswith("learnloop") else None


def raised(func, klass=None, depth: int = DEPTH, seen: set | None = None) -> list[tuple[str, str]]:
    """[(exception name, message)] the function raises, itself or through its private helpers."""
    func = inspect.unwrap(func)
    seen = set() if seen is None else seen
    if func in seen or not inspect.isfunction(func):
        return []
    seen.add(func)
    tree = _source_tree(func)
    if tree is None:
        return []
    body = _Body()
    body.visit(tree)
    klass = klass or _owner(func)
    out = list(body.raises)
    if depth > 0:
        for kind, name in body.calls:
            helper = _resolve(func, klass, kind, name)
            if helper is not None:
                out += raised(helper, klass if kind in ("self", "super") else None, depth - 1, seen)
    return out


def _known(name: str) -> bool:
    obj = getattr(builtins, name, None) or LEARNLOOP_ERRORS.get(name)
    return inspect.isclass(obj) and issubclass(obj, BaseException) and not issubclass(obj, (StopIteration,
                                                                                             GeneratorExit))


def _escape(text: str) -> str:
    text = re.sub(r"\.\.\.\.(?!\.)", "...", re.sub(r"\s+", " ", text).strip())     # "got {x}." reads "got ..."
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE].rsplit(" ", 1)[0] + " ..."
    return re.sub(r"([\\`*_|\[\]])", r"\\\1", text)


def _target(func_or_class, what: str):
    if what == "class":
        if not inspect.isclass(func_or_class):
            return None, None
        owner = next((c for c in inspect.getmro(func_or_class) if "__init__" in vars(c)
                      and (c.__module__ or "").startswith("learnloop")), None)
        return (vars(owner)["__init__"], owner) if owner is not None else (None, None)
    if what == "property":
        return getattr(func_or_class, "fget", None), None
    if what in ("method", "function", "classmethod", "staticmethod"):
        return getattr(func_or_class, "__func__", func_or_class), None
    return None, None


def field_lines(obj, what: str) -> list[str]:
    """``:raises X: message`` lines for ``obj``, ``[]`` when it raises nothing it is known to."""
    func, klass = _target(obj, what)
    if func is None:
        return []
    entries, seen = [], set()
    for name, message in raised(func, klass):
        if not _known(name) or (name, message) in seen:
            continue
        seen.add((name, message))
        qualified = f"~learnloop.errors.{name}" if name in LEARNLOOP_ERRORS else name      # shown as its name
        entries.append(f":raises {qualified}: {_escape(message)}".rstrip())
    if len(entries) > MAX_ENTRIES:
        entries = entries[:MAX_ENTRIES] + [f":raises: and {len(entries) - MAX_ENTRIES} more (see the source)"]
    return entries


def add_raises(app, what, name, obj, options, lines) -> None:
    """autodoc-process-docstring: append the errors read from the code, unless the docstring lists its own."""
    if any(line.lstrip().startswith((":raises", ":raise ", ":except")) for line in lines):
        return
    found = field_lines(obj, what)
    if found:
        lines += ["", *found, ""]
