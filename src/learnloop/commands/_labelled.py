"""Labelled data for a saved model, raw in and raw out: what ``learnloop audit`` and ``learnloop errors`` share.

A *table model* (one that starts with a FeatureSpace, as ``learnloop run`` writes for a table) takes the file's raw
columns and applies its own pipeline, imputation included; its metadata names the training file's ``columns`` in
order, so a headerless file with as many fields gets those names. An *array model* takes the columns its metadata
``feature_names`` lists, or from an ``.npz`` its ``x`` as is when the width fits.

True values are mapped to the model's classes (the original labels in its metadata): text as it is, numbers by
value (3.0 is the class 3); a label that matches a class only once surrounding spaces and a trailing period are
removed (UCI's ``>50K.``) is mapped with a note; any other label is an error that lists the classes. Rows whose
target or group value is missing are left out and counted. Predictions come back as the same original labels.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.models.outputs import class_indices

_REGRESSION_LOSSES = ("MeanSquaredError", "MeanAbsoluteError", "Huber", "LogCosh", "MeanSquaredLogarithmicError")
_UNNAMED = re.compile(r"column_(\d+)")


# ---- the model -------------------------------------------------------------------------------------------------
@dataclass
class ModelView:
    """What a command needs to know about a saved model to feed it and read its outputs.

    Attributes:
        model: the loaded model.
        task: "classification" or "regression".
        classes: the original labels, in the order of the model's outputs (``None`` when the file does not say).
        table: True for a model that starts with a FeatureSpace (it takes raw columns).
        feature_columns: the raw columns a table model reads; the feature names an array model was trained on.
        columns: the training file's columns in order (table models written by ``learnloop run``).
        target: the training file's target column, when recorded.
    """

    model: object
    task: str
    classes: list | None
    table: bool
    feature_columns: list[str]
    columns: list[str] | None
    target: str | None
    column_types: dict[str, str] = field(default_factory=dict)
    target_parse: dict | None = None

    @classmethod
    def of(cls, model) -> ModelView:
        meta = getattr(model, "metadata", None) or {}
        space = getattr(model, "feature_space", None)
        classes = meta.get("classes")
        task = meta.get("task")
        if task not in ("classification", "regression"):
            loss = type(getattr(model, "loss", None)).__name__
            task = "classification" if classes or loss not in _REGRESSION_LOSSES else "regression"
        features = list(meta.get("feature_columns") or space.column_names) if space is not None else \
            [str(n) for n in meta.get("feature_names") or []]
        kinds = {d["name"]: ("skip" if d.get("kind") == "dropped" else
                             "numeric" if d.get("kind") == "numeric" else "categorical")
                 for d in meta.get("column_types") or [] if isinstance(d, dict) and "name" in d}
        target_parse = meta.get("target_parse")
        if target_parse is not None:
            from learnloop.layers._number_text import check_format

            target_parse = check_format(target_parse, "the model's metadata target_parse")
        return cls(model, task, list(classes) if classes else None, space is not None, features,
                   list(meta["columns"]) if meta.get("columns") else None, meta.get("target"), kinds, target_parse)

    def describe(self) -> str:
        what = "table model reading the raw columns " + ", ".join(self.feature_columns) if self.table else \
            "array model" + (f" on {len(self.feature_columns)} features" if self.feature_columns else "")
        classes = f", classes {', '.join(map(repr, self.classes))}" if self.classes else ""
        return f"{self.task}{classes}; {what}"


# ---- the data --------------------------------------------------------------------------------------------------
@dataclass
class Labelled:
    """The labelled rows a model is measured on.

    Attributes:
        columns: name -> raw values of the kept rows (tables; ``None`` for an .npz).
        x: the array model's input rows (``None`` for a table model).
        images: pictures of the rows, when the data holds pictures.
        y: the true values of the kept rows: original labels (classification) or numbers (regression).
        rows: (n,) the kept rows' positions among the file's data rows, from 0.
        n_read: data rows in the file.
        left_out: why rows were left out -> how many ({"target": 3, "group sex": 1}).
        notes: what was decided while reading, one sentence each.
        target: the target column (``None`` for an .npz).
        groups: group column -> values of the kept rows.
    """

    path: Path
    columns: dict[str, np.ndarray] | None
    x: np.ndarray | None
    images: np.ndarray | None
    y: np.ndarray
    rows: np.ndarray
    n_read: int
    left_out: dict[str, int]
    notes: list[str]
    target: str | None = None
    groups: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.y)


def load_labelled(path, view: ModelView, target: str | None, groups=(), encoding: str | None = None,
                  last_is_target: bool = False) -> Labelled:
    """Read ``path`` (a table, or an .npz with x, y and optional images) for ``view``'s model.

    The target is ``target``, else the model's target column, else (with ``last_is_target``) the last column.
    Rows whose target or group value is missing are left out (counted in ``left_out``); the target is mapped to
    the model's classes (see the module docstring).
    """
    path = Path(path)
    if path.suffix.lower() == ".npz":
        if groups:
            raise LearnloopError(f"{path}: an .npz holds x and y only; --group needs a table with the group columns.")
        return _load_npz(path, view)
    from learnloop.data.tables import read_table

    table = read_table(path, encoding=encoding)
    columns, notes = _name_columns(table.columns, view, path, table.notes)
    header = list(columns)
    target = target or (view.target if view.target in columns else header[-1] if last_is_target else None)
    if target is None:
        raise LearnloopError(f"{path}: pass --target with the column that holds the true labels; the columns are "
                             f"{header}.")
    for name, role in [(target, "target"), *((g, "group") for g in groups)]:
        if name not in columns:
            raise LearnloopError(f"{path} has no {role} column {name!r}; its columns are {header}.")
    keep = np.ones(table.n_rows, dtype=bool)
    left_out = {}
    for name, role in [(target, "target"), *((g, f"group {g}") for g in groups)]:
        missing = _missing(columns[name]) & keep
        left_out[role] = int(missing.sum())
        keep &= ~missing
    if not keep.any():
        raise LearnloopError(f"{path}: every row misses its target or a group value; nothing is left to measure.")
    rows = np.flatnonzero(keep)
    kept = {k: v[rows] for k, v in columns.items()} if not keep.all() else columns
    y, label_notes = true_values(kept[target], view, path, target)
    x = None if view.table else _array_features(kept, view, target, list(groups), path)
    group_values = {g: kept[g] for g in groups}
    return Labelled(path, kept, x, None, y, rows, table.n_rows, left_out, notes + label_notes, target, group_values)


def _load_npz(path: Path, view: ModelView) -> Labelled:
    if not path.is_file():
        raise LearnloopError(f"No data file at {path}.")
    if view.table:
        raise LearnloopError(f"{path}: this model takes the raw columns {view.feature_columns}; pass a table "
                             f"(CSV, Parquet...) with those columns to --data, not an .npz.")
    with np.load(path, allow_pickle=False) as npz:
        keys = {k.lower(): k for k in npz.files}
        if "x" not in keys or "y" not in keys:
            raise LearnloopError(f"{path}: an .npz needs arrays named 'x' and 'y'; it has {npz.files}.")
        x, y = np.asarray(npz[keys["x"]]), np.asarray(npz[keys["y"]])
        images = np.asarray(npz[keys["images"]]) if "images" in keys else None
    if images is None and x.ndim in (3, 4):
        images = x
    y = y.reshape(len(y), -1)[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1 or len(x) != len(y) or (images is not None and len(images) != len(x)):
        raise LearnloopError(f"{path}: x has {len(x)} rows, y has shape {y.shape}"
                             + ("" if images is None else f", images {len(images)} rows")
                             + "; expected one label per row of x.")
    keep = ~_missing(y)
    rows = np.flatnonzero(keep)
    y_true, notes = true_values(y[rows], view, path, "y")
    x = x[rows].astype(np.float32, copy=False)
    return Labelled(path, None, x, None if images is None else images[rows], y_true, rows, len(y),
                    {"target": int((~keep).sum())}, notes)


def _name_columns(columns: dict, view: ModelView, path: Path, notes: list[str]) -> tuple[dict, list[str]]:
    """A headerless file (columns column_1 ... column_k) with as many fields as the model's training file gets
    that file's column names; the reader's notes then speak of those names."""
    names = list(columns)
    unnamed = all(_UNNAMED.fullmatch(n) and int(_UNNAMED.fullmatch(n)[1]) == i + 1 for i, n in enumerate(names))
    if not unnamed or not view.columns or view.columns == names:
        return columns, list(notes)
    if len(view.columns) != len(names):
        return columns, [*notes, f"no header line, and {len(names)} fields where the model's training file had "
                                 f"{len(view.columns)} columns ({', '.join(view.columns)}): columns left unnamed"]
    renamed = dict(zip(view.columns, columns.values()))
    said = (f"no header line: the {len(names)} columns are named as in the model's training file ("
            + ", ".join(view.columns) + ")")
    kept = [re.sub(r"\bcolumn_(\d+)\b", lambda m: view.columns[int(m[1]) - 1], note) for note in notes
            if not note.startswith("no header line")]
    return renamed, [*kept, said]


def _missing(values: np.ndarray) -> np.ndarray:
    from learnloop.layers._features import is_missing

    return is_missing(np.asarray(values))


# ---- labels ----------------------------------------------------------------------------------------------------
def _loose(text: str) -> str:
    """The label without surrounding spaces and one trailing period (UCI adult.test writes '>50K.')."""
    text = text.strip()
    return text[:-1].strip() if text.endswith(".") else text


def to_class(value: str, classes: list, what: str) -> tuple[object, bool]:
    """(the class ``value`` names, whether only the loose match found it); raises when none does."""
    from learnloop.layers._features import canonical_text

    exact = {canonical_text(c): c for c in classes}
    if value in exact:
        return exact[value], False
    loose = {}
    for c in classes:
        loose.setdefault(_loose(canonical_text(c)), []).append(c)
    found = loose.get(_loose(value), [])
    if len(found) == 1:
        return found[0], True
    raise LearnloopError(f"{what} {value!r} is not one of the model's classes {classes}.")


def true_values(values: np.ndarray, view: ModelView, path, target: str) -> tuple[np.ndarray, list[str]]:
    """The target's values as the model's classes (classification) or numbers (regression), with notes."""
    if view.task == "regression":
        from learnloop.layers._features import read_float

        if view.target_parse is not None and np.asarray(values).dtype.kind in "OUS":
            from learnloop.layers._number_text import parse_column

            try:
                return parse_column(np.asarray(values), view.target_parse, target), []
            except LearnloopError as err:
                raise LearnloopError(f"{path}: the model's target was read from text; {err}") from None
        try:
            return read_float(np.asarray(values), target)[0], []
        except LearnloopError:
            raise LearnloopError(f"{path}: the model is a regression, but target column {target!r} holds text "
                                 f"(e.g. {next(v for v in values if isinstance(v, str))!r}).") from None
    if view.classes is None:
        return _unmapped(values), []
    from learnloop.layers._features import canonical_text

    distinct, inverse = np.unique(np.array([canonical_text(v) for v in values.tolist()], dtype=object),
                                  return_inverse=True)
    mapped, loose, unknown = [], [], []
    for text in distinct.tolist():
        try:
            cls, was_loose = to_class(text, view.classes, "label")
        except LearnloopError:
            unknown.append(text)
            continue
        mapped.append(cls)
        if was_loose:
            loose.append((text, cls))
    if unknown:
        shown = unknown[:10] + (["..."] if len(unknown) > 10 else [])
        raise LearnloopError(f"{path}: target column {target!r} holds labels {shown} that are none of the model's "
                             f"classes {view.classes}; check that --target names the right column and that the "
                             f"model was trained on these labels.")
    notes = []
    if loose:
        counts = np.bincount(np.asarray(inverse).reshape(-1), minlength=len(distinct))
        n = sum(int(counts[list(distinct).index(t)]) for t, _ in loose)
        pairs = ", ".join(f"{t!r} as {c!r}" for t, c in loose)
        notes.append(f"target {target!r}: {n} labels match the model's classes only after removing surrounding "
                     f"spaces and a trailing period; read {pairs}")
    labels = np.asarray(view.classes)
    index = {_key(c): i for i, c in enumerate(view.classes)}
    codes = np.array([index[_key(c)] for c in mapped], dtype=np.int64)
    return labels[codes[np.asarray(inverse).reshape(-1)]], notes


def _key(c):
    return (type(c).__name__, c)


def _unmapped(values: np.ndarray) -> np.ndarray:
    """Labels of a model whose file names no classes: whole numbers as integers, other values as they are."""
    values = np.asarray(values)
    if values.dtype.kind == "f" and np.all(values == np.round(values)):
        return values.astype(np.int64)
    if values.dtype.kind == "O":
        return np.array([str(v) for v in values.tolist()])
    return values


# ---- features and predictions ----------------------------------------------------------------------------------
def _array_features(columns: dict, view: ModelView, target: str, groups: list[str], path) -> np.ndarray:
    """(n, features) float32 for an array model: the columns its metadata names, else the numeric columns."""
    if view.feature_columns:
        names = view.feature_columns
        absent = [n for n in names if n not in columns]
        if absent:
            raise LearnloopError(f"The model was trained on columns {absent} that {path} does not have; it has "
                                 f"{list(columns)}.")
    else:
        names = [n for n, v in columns.items() if n != target and n not in groups and v.dtype.kind in "fiu"]
        if not names:
            raise LearnloopError(f"{path} has no numeric feature column besides the target and group columns.")
    out = []
    for n in names:
        values = columns[n]
        if values.dtype.kind not in "fiu" or (values.dtype.kind == "f" and np.isnan(values).any()):
            bad = next((v for v in values.tolist() if v is None or isinstance(v, str) or v != v), None)
            raise LearnloopError(f"Feature column {n!r} of {path} must be numeric with no missing values; found "
                                 f"{'a missing value' if bad is None or bad != bad else repr(bad)}.")
        out.append(values.astype(np.float64))
    return np.column_stack(out).astype(np.float32)


def model_outputs(view: ModelView, data: Labelled) -> np.ndarray:
    """``model.predict`` on the rows: raw columns for a table model, ``x`` in the input shape for an array model."""
    from learnloop.layers._features import FeatureValueError

    model = view.model
    if view.table:
        absent = [c for c in view.feature_columns if c not in data.columns]
        if absent:
            raise LearnloopError(f"{data.path} has no column {absent[0]!r}, which the model reads; the model reads "
                                 f"{view.feature_columns}, the file has {list(data.columns)}.")
        try:
            return np.asarray(model.predict(data.columns))
        except FeatureValueError as err:
            row = None if err.row is None else int(data.rows[err.row])
            where = f"{data.path}" + ("" if row is None else f", data row {row} (from 0)")
            value = None if err.row is None else data.columns[err.column][err.row]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                raise LearnloopError(f"{where}: column {err.column!r} is missing, and the model was trained "
                                     f"without missing values there, so it does not fill them (learnloop run "
                                     f"--missing impute trains a model that does).") from None
            raise LearnloopError(f"{where}: column {err.column!r} has {value!r}; the model expects "
                                 f"{err.expected or 'another kind of value'} there.") from None
    return np.asarray(model.predict(_shaped(model, data.x, data.path)))


def _shaped(model, x: np.ndarray, path) -> np.ndarray:
    shape = tuple(model.input_shape)[1:] if getattr(model, "built", False) else None
    if shape and all(d is not None for d in shape):
        width = int(np.prod(x.shape[1:]))
        if math.prod(shape) != width:
            raise LearnloopError(f"{path}: the model expects samples of shape {shape} ({math.prod(shape)} values); "
                                 f"the data has {width} values per example.")
        return x.reshape((len(x),) + shape)
    return x


def output_indices(view: ModelView, outputs: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Class indices from outputs: argmax, or a single output cut at ``threshold`` (as a logit for logits)."""
    out = np.asarray(outputs)
    from_logits = getattr(getattr(view.model, "loss", None), "from_logits", None)
    if from_logits is None:                  # no compiled loss: values outside [0, 1] can only be logits
        from_logits = bool(out.size and (out.min() < 0 or out.max() > 1))
    threshold = 0.5 if threshold is None else threshold
    if not 0.0 < threshold < 1.0:
        raise LearnloopError(f"--threshold must be in (0, 1); got {threshold!r}.")
    return class_indices(out, from_logits, threshold)


def predicted_values(view: ModelView, outputs: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """The model's predictions as the true values are written: original labels, or numbers for a regression."""
    if view.task == "regression":
        out = np.asarray(outputs, dtype=np.float64)
        return out.reshape(len(out), -1)[:, 0]
    index = output_indices(view, outputs, threshold)
    if view.classes is None:
        return index
    if index.max(initial=0) >= len(view.classes):
        raise LearnloopError(f"the model predicts class {int(index.max())} but its file names "
                             f"{len(view.classes)} classes {view.classes}.")
    return np.asarray(view.classes)[index]
