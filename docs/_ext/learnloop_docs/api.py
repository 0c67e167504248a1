"""The API reference: one page per public module, every public name documented once, at its home.

A module's public names are its ``__all__``, or else the classes and functions it defines whose names do not start
with an underscore (the rule autodoc follows). A name exported by several modules (``learnloop.Sequential`` is
``learnloop.models.Sequential``) is documented on the page of the module closest to where it is defined, and listed
with a link on the others. ``public_objects()`` is what tests/docs check the built site's inventory against.
"""

from __future__ import annotations

import importlib
import inspect
import types
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    module: str
    title: str
    intro: str
    inherited: tuple[str, ...] = ()     # classes documented with the members they inherit


# Order matters only for the navigation; where a name is documented follows from where it is defined.
PAGES = (
    Page("learnloop", "learnloop", "The top-level names: what `import learnloop` gives, all documented where they "
         "live."),
    Page("learnloop.models", "Models", "`Sequential`, `load_model`, `clone_model`: building, training, evaluating, "
         "predicting and saving.", inherited=("Sequential",)),
    Page("learnloop.layers", "Layers", "Layers with Keras's names and weight shapes, including the preprocessing "
         "layers and `FeatureSpace` for tables."),
    Page("learnloop.activations", "Activations", "Activation functions, by name (`\"relu\"`) or as functions."),
    Page("learnloop.losses", "Losses", "Losses with numerically stable `from_logits` paths."),
    Page("learnloop.metrics", "Metrics", "Metrics for `compile(metrics=...)`."),
    Page("learnloop.optimizers", "Optimizers", "Optimizers: each is its update rule."),
    Page("learnloop.callbacks", "Callbacks", "Callbacks for `fit`."),
    Page("learnloop.regularizers", "Regularizers", "Weight penalties (Keras's λ: see the README's note on the "
         "course's λ/(2m))."),
    Page("learnloop.initializers", "Initializers", "Weight initializers, seeded."),
    Page("learnloop.utils", "Utilities", "Seeding, `PyDataset`, and `FeatureSpace` (exported here as in Keras)."),
    Page("learnloop.data", "Data", "Splits, augmentation, tables and batch sources over files larger than memory."),
    Page("learnloop.data.augment", "Data augmentation (arrays)", "Augmenting image arrays outside a model."),
    Page("learnloop.diagnostics", "Diagnostics", "The development loop: J measures with intervals, bias/variance, "
         "curves, model selection, advice, error analysis, fairness."),
    Page("learnloop.diagnostics.findings", "Findings", "Coded findings (see the [finding codes](../../findings.md))."),
    Page("learnloop.diagnostics.intervals", "Intervals", "95% intervals for J measures and their differences."),
    Page("learnloop.fairness", "Fairness", "Fairness audits by subgroup."),
    Page("learnloop.transfer", "Transfer learning", "Replace a network's head and fine-tune it."),
    Page("learnloop.wrappers", "scikit-learn wrappers", "learnloop models as scikit-learn estimators."),
    Page("learnloop.reference", "Reference forward propagation", "The notes' forward propagation, written plainly."),
    Page("learnloop.saving", "Saving", "The model file: one zip, no pickle."),
    Page("learnloop.serving", "Serving", "The HTTP server's application factory and drift statistics; the "
         "endpoints are on the [HTTP API](../http-api.md) page."),
    Page("learnloop.serving.monitor", "Drift monitor", "Reference statistics and the drift summary."),
    Page("learnloop.export", "Export", "ONNX export."),
    Page("learnloop.compat.tensorflow", "TensorFlow names", "TensorFlow's names over learnloop, for the course's "
         "notebooks."),
    Page("learnloop.testing", "Gradient checks", "Finite-difference gradient checks for layers, losses and "
         "activations."),
    Page("learnloop.config", "Numeric policy", "The default float dtype."),
    Page("learnloop.errors", "Errors", "The errors learnloop raises."),
    Page("learnloop.shapes", "Shapes", "Symbolic tensors and shapes (`model.input.shape.as_list()`)."),
    Page("learnloop.cli", "Command line (Python)", "The `learnloop` command's parser; each command has its own "
         "[page](../cli/index.md)."),
)
# learnloop's lazily exposed submodules that have no page, and why.
NOT_PAGES = {
    "commands": "the commands are documented per command, from their parsers, under Command line",
    "compat": "its one member, compat.tensorflow, has a page",
    "report": "the report is written by `learnloop run`; its plotting helpers are internal",
}


def _is_module(obj) -> bool:
    return isinstance(obj, types.ModuleType)


def public_names(module: types.ModuleType) -> list[str]:
    """The names documented for ``module``: ``__all__``, or the classes and functions defined in it."""
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not _is_module(getattr(module, n))]
    return [n for n, obj in vars(module).items()
            if not n.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
            and getattr(obj, "__module__", None) == module.__name__]


def _home_score(page: str, obj) -> tuple:
    """Prefer the page whose module is the longest prefix of where ``obj`` is defined."""
    defined = getattr(obj, "__module__", "") or ""
    return (defined == page or defined.startswith(page + "."), len(page) if defined.startswith(page) else 0)


def _key(obj, module: str, name: str):
    """Identity of a documented thing: the object itself for classes and functions, else the place."""
    return id(obj) if (inspect.isclass(obj) or inspect.isroutine(obj)) else (module, name)


def homes() -> dict:
    """{(module, name): home module} for every public name of every page."""
    owners: dict = {}
    names: dict = {}
    for page in PAGES:
        module = importlib.import_module(page.module)
        for name in public_names(module):
            obj = getattr(module, name)
            key = _key(obj, page.module, name)
            names[(page.module, name)] = key
            best = owners.get(key)
            if best is None or _home_score(page.module, obj) > _home_score(best, obj):
                owners[key] = page.module
    return {place: owners[key] for place, key in names.items()}


def public_objects() -> dict[str, str]:
    """{public dotted name: the dotted name it is documented under}."""
    return {f"{m}.{n}": f"{home}.{n}" for (m, n), home in homes().items()}


def _slug(module: str) -> str:
    return module


def _private(base) -> bool:
    module = getattr(base, "__module__", "") or ""
    return base.__name__.startswith("_") or any(part.startswith("_") for part in module.split(".")[1:])


def public_bases(cls) -> list:
    """The bases worth a ``Bases:`` line: ``Bases: _Conv`` or ``Bases: object`` says nothing to a reader, so a
    private base is replaced by its own public bases (``Conv2D(_Conv)`` shows ``KernelLayer``)."""
    out: list = []
    for base in getattr(cls, "__bases__", ()):
        for shown in (public_bases(base) if _private(base) else [base]):
            if shown is not object and shown not in out:
                out.append(shown)
    return out


def _directive(module: str, name: str, obj, inherited: bool) -> list[str]:
    """The autodoc directive for one public name. Each name gets its own, so names a module only exposes lazily
    (``learnloop.data.read_table``), aliases (``losses.MAE``) and functions without a docstring are documented too."""
    target = f"{module}.{name}"
    if inspect.isclass(obj):
        return [f".. autoclass:: {target}", "   :members:", *(["   :inherited-members:"] if inherited else []),
                *(["   :show-inheritance:"] if public_bases(obj) else [])]
    if inspect.isroutine(obj):
        return [f".. autofunction:: {target}"]
    long_value = len(repr(obj)) > 80
    return [f".. autodata:: {target}", *(["   :no-value:"] if long_value else [])]


def page_text(page: Page, where: dict) -> str:
    module = importlib.import_module(page.module)
    names = public_names(module)
    elsewhere = [n for n in names if where[(page.module, n)] != page.module]
    lines = [f"# {page.title}: `{page.module}`", "", page.intro, ""]
    if elsewhere:
        lines += ["Also available here (documented where they are defined):", "",
                  "| name | documented as |", "|---|---|"]
        for n in elsewhere:
            home = where[(page.module, n)]
            lines.append(f"| `{page.module}.{n}` | {{py:obj}}`{home}.{n}` |")
        lines.append("")
    lines += ["```{eval-rst}", f".. automodule:: {page.module}"]
    for name in names:
        if name not in elsewhere:
            lines += ["", *_directive(page.module, name, getattr(module, name), name in page.inherited)]
    lines += ["```", ""]
    return "\n".join(lines)


def write_pages(folder) -> list[str]:
    """Write reference/api/<module>.md for every page, and the index; returns the document names written."""
    folder.mkdir(parents=True, exist_ok=True)
    where = homes()
    written = []
    for page in PAGES:
        _write(folder / f"{_slug(page.module)}.md", page_text(page, where))
        written.append(_slug(page.module))
    rows = "\n".join(f"| [`{p.module}`]({_slug(p.module)}.md) | {p.intro} |" for p in PAGES)
    toc = "\n".join(_slug(p.module) for p in PAGES)
    _write(folder / "index.md", "# Python API\n\nEvery public name, generated from the docstrings. Arrays are NumPy "
           "arrays; shapes are written `(samples, features)`-style with `None` for any size. A name that behaves "
           "differently from Keras says so in a *Differs from Keras* note (the [Keras parity table]"
           "(../keras-parity.md) lists them all). Under *Raises* are the errors a function, method or constructor "
           "raises with their messages (`...` where the message shows a value), read from its `raise` statements and "
           "those of the private helpers it calls; every error a user can cause is a "
           "{py:class}`~learnloop.errors.LearnloopError`, a `ValueError`."
           "\n\n| module | what it holds |\n|---|---|\n" + rows +
           "\n\n```{toctree}\n:hidden:\n\n" + toc + "\n```\n")
    return written


def _write(path, text: str) -> None:
    """Write only when the text changed, so an unchanged page is not read again."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
