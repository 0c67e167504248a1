"""Error analysis: look at the examples the model gets wrong, sort them into categories, count the categories.

The notes' recipe: take the misclassified cv examples (a random sample of 100-200 is usually enough), tag each
with what it has in common with others (pharma spam, phishing, deliberate misspellings...), one example possibly
carrying several tags, and count. The biggest counts say where more data, features or work will pay off::

    ea = ErrorAnalysis.from_model(model, x_cv, y_cv, texts=cv_texts,
                                  tags={"has URL": lambda t: "http" in t or "www" in t})
    print(ea)                       # counts per tag, share of the sampled errors, per-class error
    ea.tag_table()                  # [TagRow(tag='has URL', count=21, share=0.21), ...]

Tags are predicates (``{name: fn(item) -> bool}``, where item is the example's text, row of ``x`` or image) or a
CSV a person filled in while reading the sampled errors: two columns, example id and tag, one row per tag (see
:meth:`ErrorAnalysis.write_tag_template`). For regression the "errors" are the worst ``worst_fraction`` of the
examples by absolute residual.

On a table the raw columns are tags already: given ``rows`` (the examples' raw columns), :meth:`ErrorAnalysis.slices`
gives the error rate by value of each column (by quantile bin for numbers), largest gap first (see
:mod:`learnloop.diagnostics.error_slices`), and :meth:`ErrorAnalysis.error_rows` the wrong rows with their values.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from learnloop._html import render as render_html
from learnloop.errors import LearnloopError

Array = np.ndarray
Tags = Mapping[str, Callable[[Any], bool]] | str | Path | None


class TagRow(NamedTuple):
    """One category of errors: how many sampled errors carry the tag, and their share of the sample."""

    tag: str
    count: int
    share: float


class ClassError(NamedTuple):
    """Error rate within one true class."""

    label: Any
    n: int
    errors: int
    rate: float


def predicted_labels(outputs: Array, *, from_logits: bool | None = None, threshold: float | None = None) -> Array:
    """Class labels from a model's outputs: argmax of (n, k) scores, a threshold on (n,) or (n, 1) scores.

    A single output column is thresholded at 0 for logits and at 0.5 for probabilities; when ``from_logits`` is
    unknown, outputs outside [0, 1] are taken as logits. Integer-valued outputs (labels already) pass through.
    """
    out = np.asarray(outputs)
    if out.ndim == 2 and out.shape[1] > 1:
        return np.argmax(out, axis=1)
    out = out.reshape(len(out))
    if out.dtype.kind not in "f":
        return out
    if threshold is None:
        if from_logits is None:
            if np.all(out == np.round(out)) and out.min() >= 0 and out.max() > 1:
                return out.astype(np.int64)                    # multi-class labels already
            from_logits = bool(out.min() < 0 or out.max() > 1)
        threshold = 0.0 if from_logits else 0.5
    return (out >= threshold).astype(np.int64)


def _labels_1d(y: Array, name: str) -> Array:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:                         # one-hot targets
        return np.argmax(y, axis=1)
    if y.ndim == 2 and y.shape[1] == 1 or y.ndim == 1:
        return y.reshape(len(y))
    raise LearnloopError(f"ErrorAnalysis expects {name} of shape (n,), (n, 1) or one-hot (n, k); got {y.shape}.")


def read_tag_csv(path: str | Path, n: int, ids: Sequence | None = None) -> dict[int, set[str]]:
    """Manual tags from a CSV with columns (example id, tag[, anything]); a header row is optional.

    Ids are row positions 0..n-1 in the cv set, or values of ``ids`` when given. A tag cell may hold several tags
    separated by ";". Returns {position: {tags}}.
    """
    path = Path(path)
    if not path.is_file():
        raise LearnloopError(f"Tag file {path} not found; expected a CSV with columns: example id, tag.")
    lookup = {str(v): i for i, v in enumerate(ids)} if ids is not None else {str(i): i for i in range(n)}
    tags: dict[int, set[str]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for line_no, row in enumerate(csv.reader(fh), start=1):
            if not row or not row[0].strip():
                continue
            key = row[0].strip()
            if key not in lookup:
                if line_no == 1:
                    continue                                    # a header row
                raise LearnloopError(f"{path}, line {line_no}: unknown example id {key!r}; expected "
                                     f"{'one of the given ids' if ids is not None else f'a row number 0..{n - 1}'}.")
            names = {t.strip() for t in (row[1] if len(row) > 1 else "").split(";") if t.strip()}
            tags.setdefault(lookup[key], set()).update(names)
    return tags


class ErrorAnalysis:
    """The misclassified (or worst-predicted) cv examples, a seeded sample of them, and tags on that sample.

    Args:
        y_true, y_pred: (n,) labels (or (n, 1) / one-hot), or regression targets and predictions.
        x: (n, ...) the inputs; predicates get a row when there are no texts; images may come from here.
        texts: n strings (e.g. the messages of a spam classifier); predicates get the text.
        images: (n, h, w[, c]) pictures for :meth:`plot_misclassified` (an ``x`` of rank 3 or 4 is pictures too).
        rows: the examples' raw table columns, name -> (n,) values, for :meth:`slices` and :meth:`error_rows`.
        column_kinds: name -> "numeric", "categorical" or "skip" for :meth:`slices` (default: from the values).
        tags: ``{name: predicate}``, or a path to a CSV of manual tags (columns: example id, tag).
        ids: n example identifiers used by the tag CSV (default: row positions 0..n-1).
        sample_size: how many errors to review (the notes: 100-200 is usually enough).
        seed: the sample's seed; the same seed gives the same sample, so a tag template stays valid.
        task: "classification" or "regression"; by default inferred from the values.
        worst_fraction: for regression, the share of examples with the largest ``abs(residual)`` counted as errors.
        class_names: names to print for labels (a mapping or a sequence indexed by label).
    """

    def __init__(self, y_true, y_pred, *, x=None, texts: Sequence[str] | None = None, images=None, tags: Tags = None,
                 ids: Sequence | None = None, sample_size: int = 100, seed: int = 0, task: str | None = None,
                 worst_fraction: float = 0.1, class_names=None, rows: Mapping[str, Any] | None = None,
                 column_kinds: Mapping[str, str] | None = None, examples: str = "cv examples"):
        self.examples = str(examples)
        self.y_true, self.y_pred = _labels_1d(y_true, "y_true"), _labels_1d(y_pred, "y_pred")
        n = len(self.y_true)
        if len(self.y_pred) != n or n == 0:
            raise LearnloopError(f"ErrorAnalysis got {n} true values and {len(self.y_pred)} predictions; "
                                 f"expected the same non-zero number.")
        rows = None if rows is None else {str(k): np.asarray(v) for k, v in rows.items()}
        named = [(f"rows[{k!r}]", v) for k, v in (rows or {}).items()]
        for name, value in [("x", x), ("texts", texts), ("images", images), ("ids", ids), *named]:
            if value is not None and len(value) != n:
                raise LearnloopError(f"ErrorAnalysis: {name} has {len(value)} entries but y_true has {n}.")
        self.rows, self.column_kinds = rows, dict(column_kinds or {})
        if int(sample_size) != sample_size or sample_size < 1:
            raise LearnloopError(f"ErrorAnalysis sample_size must be a positive int; got {sample_size!r}.")
        self.x, self.texts, self.images, self.ids = x, texts, images, ids
        self.sample_size, self.seed, self.class_names = int(sample_size), seed, class_names
        self.task = task or self._infer_task()
        if self.task not in ("classification", "regression"):
            raise LearnloopError(f"ErrorAnalysis task must be 'classification' or 'regression'; got {task!r}.")
        if self.task == "classification":
            self.errors = np.flatnonzero(self.y_true != self.y_pred)
        else:
            if not 0 < worst_fraction <= 1:
                raise LearnloopError(f"ErrorAnalysis worst_fraction must be in (0, 1]; got {worst_fraction}.")
            residual = np.abs(self.y_pred.astype(np.float64) - self.y_true.astype(np.float64))
            order = np.argsort(-residual, kind="stable")
            self.errors = order[:max(1, int(round(worst_fraction * n)))]
        if len(self.errors) <= self.sample_size:
            self.sample = self.errors.copy()
        else:
            picked = np.random.default_rng(seed).choice(len(self.errors), self.sample_size, replace=False)
            self.sample = self.errors[np.sort(picked)]
        self.tags: dict[int, set[str]] = {int(i): set() for i in self.sample}
        self.tag_names: list[str] = []
        if tags is not None:
            self.add_tags(tags)

    @classmethod
    def from_model(cls, model, x_cv, y_cv, *, texts=None, images=None, tags: Tags = None, sample_size: int = 100,
                   seed: int = 0, task: str | None = None, threshold: float | None = None, **kwargs) -> ErrorAnalysis:
        """Predict ``x_cv`` with ``model`` (a learnloop model or any estimator with ``predict``) and analyse.

        Scores become labels by :func:`predicted_labels`, which asks the model's loss whether they are logits.
        """
        outputs = np.asarray(model.predict(x_cv))
        y_cv = np.asarray(y_cv)
        regression = task == "regression" or (task is None and y_cv.dtype.kind == "f" and
                                               not np.all(y_cv == np.round(y_cv)))
        if regression:
            y_pred = outputs.reshape(len(outputs), -1)[:, 0] if outputs.ndim > 1 else outputs
        else:
            from_logits = getattr(getattr(model, "loss", None), "from_logits", None)
            y_pred = predicted_labels(outputs, from_logits=from_logits, threshold=threshold)
        return cls(y_cv, y_pred, x=x_cv, texts=texts, images=images, tags=tags, sample_size=sample_size, seed=seed,
                   task="regression" if regression else "classification", **kwargs)

    def _infer_task(self) -> str:
        values = [v for v in (self.y_true, self.y_pred) if v.dtype.kind == "f"]
        return "regression" if any(not np.all(v == np.round(v)) for v in values) else "classification"

    # ---- tags ----------------------------------------------------------------------------------------------
    def _item(self, i: int):
        if self.texts is not None:
            return self.texts[i]
        if self.x is not None:
            return self.x[i]
        if self.images is not None:
            return self.images[i]
        raise LearnloopError("Tag predicates need the examples: pass texts=, x= or images= to ErrorAnalysis.")

    def add_tags(self, tags: Tags) -> None:
        """Tag the sampled errors with ``{name: predicate}`` or a CSV of manual tags (see the module docstring)."""
        if isinstance(tags, (str, Path)):
            manual = read_tag_csv(tags, len(self.y_true), self.ids)
            outside = sorted(set(manual) - set(self.tags))
            if outside:
                shown = [self._id(i) for i in outside[:5]]
                raise LearnloopError(
                    f"{tags}: examples {shown}{' ...' if len(outside) > 5 else ''} are not among the "
                    f"{len(self.sample)} sampled errors (seed={self.seed}); tag the examples listed by "
                    f"write_tag_template().")
            for i, names in manual.items():
                self.tags[i].update(names)
            self.tag_names += sorted({t for names in manual.values() for t in names} - set(self.tag_names))
            return
        if not isinstance(tags, Mapping):
            raise LearnloopError(f"tags must be a {{name: predicate}} dict or a CSV path; got {type(tags).__name__}.")
        for name, predicate in tags.items():
            if not callable(predicate):
                raise LearnloopError(f"Tag {name!r} must be a callable taking one example; got {predicate!r}.")
            for i in self.tags:
                try:
                    hit = predicate(self._item(i))
                except LearnloopError:
                    raise
                except Exception as exc:
                    raise LearnloopError(f"Tag {name!r} failed on example {i}: {type(exc).__name__}: {exc}") from exc
                if hit:
                    self.tags[i].add(str(name))
            if str(name) not in self.tag_names:
                self.tag_names.append(str(name))

    def tag_table(self) -> list[TagRow]:
        """(tag, count, share of the sampled errors), biggest count first; shares may add up to more than 1."""
        counts = Counter(t for names in self.tags.values() for t in names)
        rows = [TagRow(t, counts.get(t, 0), counts.get(t, 0) / max(1, len(self.sample))) for t in self.tag_names]
        return sorted(rows, key=lambda r: (-r.count, r.tag))

    @property
    def untagged(self) -> list[int]:
        """Sampled errors no tag matched: read them, they may suggest a new category."""
        return [i for i in self.sample.tolist() if not self.tags[i]]

    def write_tag_template(self, path: str | Path) -> Path:
        """Write the sampled errors as a CSV (id, tag, true, predicted, text or the raw columns) for a person to
        fill the tag column."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = list(self.rows or {})
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["id", "tag", "true", "predicted", *(raw or ["text"])])
            for i in self.sample.tolist():
                values = [_plain(self.rows[c][i]) for c in raw] if raw else \
                    [self.texts[i] if self.texts is not None else ""]
                out.writerow([self._id(i), ";".join(sorted(self.tags[i])),
                              self._name(self.y_true[i]), self._name(self.y_pred[i]),
                              *("" if v is None else v for v in values)])
        return path

    # ---- raw table columns ---------------------------------------------------------------------------------
    def error_rows(self, n: int = 20) -> list[dict]:
        """Up to ``n`` wrong examples with their raw columns: the sampled misclassified rows in order, or for a
        regression the largest errors first (with ``error`` = predicted - true)."""
        chosen = self.sample.tolist() if self.task == "classification" else self.errors.tolist()
        out = []
        for i in chosen[:n]:
            row = {"id": _plain(self._id(i)), "true": self._name(self.y_true[i]),
                   "predicted": self._name(self.y_pred[i])}
            if self.task == "regression":
                row = {"id": row["id"], "true": float(self.y_true[i]), "predicted": float(self.y_pred[i]),
                       "error": float(self.y_pred[i]) - float(self.y_true[i])}
            out.append({**row, **{c: _plain(v[i]) for c, v in (self.rows or {}).items()}})
        return out

    def slices(self, bins: int = 4, min_count: int | None = None) -> list:
        """The error rate (mean ``abs(error)`` for a regression) by value or quantile bin of each raw column, largest
        gap first: a list of :class:`~learnloop.diagnostics.error_slices.Slice`. Needs ``rows``."""
        from learnloop.diagnostics.error_slices import error_slices

        if self.rows is None:
            raise LearnloopError("slices() needs the raw columns: pass rows={name: values} to ErrorAnalysis.")
        return error_slices(self.rows, self._per_example_error(), kinds=self.column_kinds, bins=bins,
                            min_count=min_count)

    def _per_example_error(self) -> Array:
        if self.task == "classification":
            return (self.y_true != self.y_pred).astype(np.float64)
        return np.abs(self.y_pred.astype(np.float64) - self.y_true.astype(np.float64))

    # ---- summaries -----------------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.y_true)

    @property
    def error_rate(self) -> float:
        """Fraction of the cv set misclassified (for regression: the worst_fraction counted as errors)."""
        return len(self.errors) / self.n

    def _name(self, label) -> str:
        if self.class_names is None:
            return str(label.item() if hasattr(label, "item") else label)
        try:
            return str(self.class_names[label.item() if hasattr(label, "item") else label])
        except (KeyError, IndexError, TypeError):
            return str(label)

    def _id(self, i: int):
        return self.ids[i] if self.ids is not None else i

    def _require_classification(self, what: str) -> None:
        if self.task != "classification":
            raise LearnloopError(f"{what} applies to classification; this analysis is of a regression task.")

    def labels(self) -> list:
        """The classes seen in y_true or y_pred, sorted."""
        return sorted(set(self.y_true.tolist()) | set(self.y_pred.tolist()))

    def confusion_matrix(self, normalize: str | None = None) -> Array:
        """(k, k) counts, rows = true class, columns = predicted, in the order of :meth:`labels` (scikit-learn)."""
        from sklearn.metrics import confusion_matrix

        self._require_classification("confusion_matrix()")
        return confusion_matrix(self.y_true, self.y_pred, labels=self.labels(), normalize=normalize)

    def per_class_error(self) -> list[ClassError]:
        """Error rate within each true class, in the order of :meth:`labels` (classes never true are skipped)."""
        self._require_classification("per_class_error()")
        rows = []
        for label in self.labels():
            mask = self.y_true == label
            if mask.any():
                wrong = int(np.sum(self.y_pred[mask] != label))
                rows.append(ClassError(label, int(mask.sum()), wrong, wrong / int(mask.sum())))
        return rows

    def misclassified_texts(self, n: int | None = None) -> list[tuple[int, str, str, str]]:
        """(id, true, predicted, text) for the sampled errors (the first ``n`` of them); id from ``ids`` if given."""
        if self.texts is None:
            raise LearnloopError("misclassified_texts() needs texts=: pass the cv examples' texts to ErrorAnalysis.")
        chosen = self.sample.tolist()[:n]
        return [(self._id(i), self._name(self.y_true[i]), self._name(self.y_pred[i]), self.texts[i]) for i in chosen]

    @property
    def has_images(self) -> bool:
        """True when the examples are pictures: ``images`` given, or an ``x`` of rank 3 or 4 (never guessed from a
        square number of features: a table with 16 columns is not a 4x4 picture)."""
        return self.images is not None or (self.x is not None and np.ndim(self.x) in (3, 4))

    def _images(self) -> Array:
        if not self.has_images:
            raise LearnloopError("plot_misclassified() needs pictures: pass images= (an (n, h, w[, c]) array), or "
                                 "an x of shape (n, h, w[, c]).")
        return np.asarray(self.images if self.images is not None else self.x)

    def plot_misclassified(self, path: str | Path, n: int = 25, cols: int = 5) -> Path:
        """A PNG grid of (up to ``n``) sampled errors, each titled with its id, true and predicted label."""
        from learnloop.diagnostics.error_plots import misclassified_grid

        return misclassified_grid(self, self._images(), path, n=n, cols=cols)

    def plot_confusion_matrix(self, path: str | Path) -> Path:
        """A PNG of :meth:`confusion_matrix` (rows true, columns predicted), drawn by scikit-learn's display."""
        from learnloop.diagnostics.error_plots import confusion_matrix_plot

        return confusion_matrix_plot(self, path)

    _repr_html_ = render_html                       # a notebook shows the dict below as a table

    def to_dict(self) -> dict:
        """A JSON-ready summary: counts, the tag table and (for classification) the per-class error."""
        out = {"task": self.task, "n": self.n, "n_errors": int(len(self.errors)), "error_rate": self.error_rate,
               "sampled": int(len(self.sample)), "seed": self.seed,
               "tags": [r._asdict() for r in self.tag_table()], "untagged": len(self.untagged)}
        if self.task == "classification":
            out["per_class"] = [{**r._asdict(), "label": self._name(r.label)} for r in self.per_class_error()]
        if self.rows is not None:
            out["error_rows"] = self.error_rows()
            out["slices"] = [s.as_dict() for s in self.slices()]
            out["slice_measure"] = "error rate" if self.task == "classification" else "mean |error|"
        return out

    def __str__(self) -> str:
        what = "misclassified" if self.task == "classification" else f"worst (|residual| >= " \
            f"{abs(float(self.y_pred[self.errors[-1]]) - float(self.y_true[self.errors[-1]])):.3g})"
        lines = [f"Error analysis: {len(self.errors)} of {self.n} {self.examples} {what} ({self.error_rate:.1%}); "
                 f"reviewing a sample of {len(self.sample)} (seed {self.seed})."]
        table = self.tag_table()
        if table:
            width = max(len("tag"), *(len(r.tag) for r in table))
            lines.append(f"  {'tag':<{width}}  count  share  ~all errors")
            scale = len(self.errors) / max(1, len(self.sample))
            lines += [f"  {r.tag:<{width}}  {r.count:>5}  {r.share:>5.0%}  {r.count * scale:>11.0f}" for r in table]
            lines.append(f"  {len(self.untagged)} sampled errors carry no tag.")
        if self.task == "classification":
            worst = sorted(self.per_class_error(), key=lambda r: -r.rate)[:5]
            lines.append("  error by true class (worst first): " + ", ".join(
                f"{self._name(r.label)} {r.errors}/{r.n} ({r.rate:.1%})" for r in worst))
        if self.rows is not None:
            from learnloop.diagnostics.error_slices import format_slices

            measure = "error rate" if self.task == "classification" else "mean |error|"
            found = format_slices(self.slices(), top=10, measure=measure)
            lines += [f"  {measure} by column value (largest gaps first):", *found] if found else \
                ["  no column value has enough rows to compare."]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<ErrorAnalysis task={self.task}, n={self.n}, errors={len(self.errors)}, sampled={len(self.sample)}>"


def _plain(value):
    """A NumPy scalar as a Python one (JSON and CSV), NaN as None."""
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and value != value else value
