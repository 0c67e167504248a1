"""Datasets for the loop: scikit-learn's bundled sets (no download), the user's tables and NPZ files.

``load_dataset(source)`` returns a :class:`Dataset` with the features, the targets, the task and what was done to
read it. Tables (CSV or any delimited text, Parquet, Arrow) are read with pyarrow (:mod:`learnloop.data.tables`) and
their columns typed into a feature pipeline (:mod:`learnloop.data.column_types`) that travels with the trained model,
so the model takes the raw rows. Missing values are never dropped silently: missing numbers are an error that names
the columns and counts the rows unless ``missing="drop"`` or ``missing="impute"`` says otherwise, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from learnloop._registry import lookup
from learnloop.data.column_types import missing_mask
from learnloop.errors import LearnloopError

BUNDLED = ("digits", "breast_cancer", "wine", "diabetes", "iris")
MISSING_TOKENS = frozenset({"", "?", "na", "n/a", "nan", "null", "none"})


@dataclass
class Dataset:
    """Features ``x`` (m, n) float64, targets ``y`` (m,), and how they were read.

    ``classes`` holds the original labels for classification (``y`` indexes into it); ``images`` is
    (m, h, w) when the samples are images (bundled digits, an NPZ with an ``images`` array). Data read from a table
    also keeps its raw ``columns`` (target and groups included), the typing ``decisions``, the file's column order
    (``source_columns``) and an unadapted ``feature_space``; ``x`` is ``None`` until :meth:`fit_features`.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    task: str
    feature_names: list[str]
    target_name: str
    classes: list | None = None
    images: np.ndarray | None = None
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    columns: dict[str, np.ndarray] | None = None
    feature_space: Any = None
    decisions: list = field(default_factory=list)
    source_columns: list[str] = field(default_factory=list)
    target_parse: dict | None = None

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes is not None else 0

    @property
    def is_table(self) -> bool:
        """True for data read from a table: raw columns, typed into a feature pipeline."""
        return self.feature_space is not None

    def fit_features(self, rows: np.ndarray) -> None:
        """Adapt the feature pipeline on the training ``rows`` (indices) only, then encode every row into ``x``."""
        if self.feature_space is None:
            return
        self.feature_space.adapt({k: v[rows] for k, v in self.columns.items()})
        self.x = self.feature_space(self.columns)
        self.feature_names = self.feature_space.get_feature_names_out()


def load_dataset(source: str, target: str | None = None, task: str = "auto", missing: str = "error",
                 group_columns: list[str] | None = None, *, categorical=(), numeric=(), drop=(),
                 encoding: str | None = None, names: list[str] | None = None,
                 delimiter: str | None = None) -> Dataset:
    """Load a bundled set by name, an ``.npz`` file, or a table file by path.

    Args:
        source: one of ``BUNDLED``, a ``.npz`` path (arrays ``x`` and ``y``, optionally ``images``), or the path of a
            table: CSV or other delimited text (any extension), Parquet, Arrow/Feather.
        target: the table column to predict (default: the last column).
        task: "auto", "classification" or "regression".
        missing: "error", "drop" (rows) or "impute" for missing numbers in a table (see :func:`load_table`).
        group_columns: table columns kept aside as subgroup labels (for a fairness audit), not used as features.
        categorical, numeric, drop: table columns forced to be categorical, numeric, or left out.
        encoding: the table's text encoding (default: detected).
        names: column names for a table (replacing its header, or naming a headerless file's columns).
        delimiter: the table's delimiter, one character or "whitespace" (default: sniffed).
    """
    if task not in ("auto", "classification", "regression"):
        raise LearnloopError(f"task must be 'auto', 'classification' or 'regression'; got {task!r}.")
    path = Path(source)
    if path.suffix.lower() == ".npz":
        return _load_npz(path, task)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return load_table(path, target=target, task=task, missing=missing, group_columns=group_columns,
                          categorical=categorical, numeric=numeric, drop=drop, encoding=encoding, names=names,
                          delimiter=delimiter)
    return _load_bundled(source, task)


def _load_bundled(name: str, task: str) -> Dataset:
    import sklearn.datasets as skd

    loaders = {n: getattr(skd, f"load_{n}") for n in BUNDLED}
    loader = lookup("dataset", loaders, name)
    bunch = loader()
    kind = "regression" if name.lower() == "diabetes" else "classification"
    task = kind if task == "auto" else task
    x, y = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target)
    classes = None
    if task == "classification":
        classes_arr, y = np.unique(y, return_inverse=True)
        names = getattr(bunch, "target_names", None)
        classes = [str(names[int(c)]) if names is not None and len(names) > int(c) else int(c)
                   for c in classes_arr] if name.lower() != "digits" else [int(c) for c in classes_arr]
    feature_names = [str(f) for f in getattr(bunch, "feature_names", [f"x{i}" for i in range(x.shape[1])])]
    return Dataset(name=name.lower(), x=x, y=y.astype(np.float64) if task == "regression" else y, task=task,
                   feature_names=feature_names, target_name="target", classes=classes,
                   images=getattr(bunch, "images", None))


def _load_npz(path: Path, task: str) -> Dataset:
    if not path.is_file():
        raise LearnloopError(f"No data file at {path}.")
    with np.load(path, allow_pickle=False) as npz:
        keys = {k.lower(): k for k in npz.files}
        if "x" not in keys or "y" not in keys:
            raise LearnloopError(f"{path}: an NPZ data file needs arrays named 'x' and 'y'; it has {npz.files}.")
        x, y = np.asarray(npz[keys["x"]], dtype=np.float64), np.asarray(npz[keys["y"]])
        images = np.asarray(npz[keys["images"]]) if "images" in keys else None
    if images is None and x.ndim in (3, 4):
        images = x
    x = x.reshape(len(x), -1)
    y = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 and y.shape[1] == 1 else y
    if len(x) != len(y):
        raise LearnloopError(f"{path}: x has {len(x)} rows but y has {len(y)}.")
    if images is not None and len(images) != len(x):
        raise LearnloopError(f"{path}: images has {len(images)} entries but x has {len(x)} rows.")
    return _finish(path.stem, x, y, task, [f"x{i}" for i in range(x.shape[1])], "y", images=images)


def _infer_task(y: np.ndarray) -> str:
    if y.dtype.kind in "OUS":
        return "classification"
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        return "regression"
    values = np.unique(y)
    integral = np.all(np.equal(np.mod(values, 1), 0))
    return "classification" if integral and len(values) <= 20 else "regression"


def _finish(name, x, y, task, feature_names, target_name, images=None, groups=None, notes=None) -> Dataset:
    task = _infer_task(y) if task == "auto" else task
    classes = None
    if task == "classification":
        if y.dtype.kind == "f" and _integral(y):
            y = y.astype(np.int64)                      # 3.0 is the class 3
        if y.dtype.kind == "O":
            from learnloop.layers._features import canonical_text

            y = np.array([canonical_text(v) for v in y], dtype=object)
        classes_arr, y = np.unique(y, return_inverse=True)
        classes = [c.item() if hasattr(c, "item") else c for c in classes_arr]
        if len(classes) < 2:
            raise LearnloopError(f"{name}: the target '{target_name}' has only one value ({classes[0]!r}); "
                                 f"classification needs at least two classes.")
    else:
        try:
            y = y.astype(np.float64)
        except ValueError:
            raise LearnloopError(f"{name}: target '{target_name}' is not numeric; use --task classification.") \
                from None
    if x is not None and not np.all(np.isfinite(x)):
        raise LearnloopError(f"{name}: the features contain NaN or inf.")
    return Dataset(name=name, x=x, y=y, task=task, feature_names=feature_names, target_name=target_name,
                   classes=classes, images=images, groups=groups or {}, notes=notes or [])


def load_table(path, target: str | None = None, task: str = "auto", missing: str = "error",
               group_columns: list[str] | None = None, *, categorical=(), numeric=(), drop=(),
               encoding: str | None = None, names: list[str] | None = None,
               delimiter: str | None = None) -> Dataset:
    """Read a table (delimited text of any extension, Parquet, Arrow) and decide how each column becomes features.

    The columns are typed by :func:`learnloop.data.column_types.decide_columns` (numbers normalized, few-valued text
    one-hot with an out-of-vocabulary slot, many-valued text hashed, ids and constants dropped; ``categorical``,
    ``numeric`` and ``drop`` override), and the decisions become the dataset's unadapted ``feature_space``:
    :meth:`Dataset.fit_features` adapts it on the training rows and encodes ``x``. Missing text values are a
    category of their own; missing numbers stop the load unless ``missing`` is "drop" (the rows) or "impute"
    (the training median plus a missing-indicator column). Rows whose target is missing are never used.
    """
    from learnloop.data.tables import read_table

    if missing not in ("error", "drop", "impute"):
        raise LearnloopError(f"missing must be 'error', 'drop' or 'impute'; got {missing!r}.")
    table = read_table(path, encoding=encoding, names=names, delimiter=delimiter)
    return table_dataset(table, target=target, task=task, missing=missing, group_columns=group_columns,
                         categorical=categorical, numeric=numeric, drop=drop)


def table_dataset(table, target: str | None = None, task: str = "auto", missing: str = "error",
                  group_columns: list[str] | None = None, *, categorical=(), numeric=(), drop=()) -> Dataset:
    """The :class:`Dataset` of a :class:`~learnloop.data.tables.Table` already read (the whole file, or a sample of
    its rows): the steps of :func:`load_table` after reading."""
    from learnloop.data.column_types import decide_columns

    path = table.path
    columns = table.columns
    header = list(columns)
    if not header or table.n_rows == 0:
        raise LearnloopError(f"{path}: expected a header row and at least one data row.")
    target = target if target is not None else header[-1]
    if target not in columns:
        raise LearnloopError(f"{path}: no column named {target!r}; the columns are {header}.")
    group_columns = list(group_columns or [])
    for g in group_columns:
        if g not in columns:
            raise LearnloopError(f"{path}: no group column named {g!r}; the columns are {header}.")
        if g == target:
            raise LearnloopError(f"{path}: {g!r} is the target; a group column must be another column.")
    notes = list(table.notes)
    keep = ~missing_mask(columns[target])
    if not keep.all():
        n = int((~keep).sum())
        if missing == "error":
            problem = f"{path}: the target column '{target}' is missing in {n} rows"
            raise LearnloopError(f"{problem}; pass missing='drop' to leave those rows out.",
                                 cli=f"{problem}; pass --missing drop to leave those rows out.")
        notes.append(f"left out {n} rows whose target '{target}' is missing")
        columns = {k: v[keep] for k, v in columns.items()}
    decisions = decide_columns(columns, target, categorical=categorical, numeric=numeric, drop=drop,
                               keep_out=group_columns, missing="drop")
    features = [d for d in decisions if d.kind != "dropped"]
    if not features:
        raise LearnloopError(f"{path}: no feature column is left besides the target '{target}'"
                             + (f" and the groups {group_columns}" if group_columns else "") + ": "
                             + "; ".join(f"{d.name}: {d.reason}" for d in decisions))
    gaps = {d.name: d.missing for d in features if d.missing and d.kind == "numeric"}
    if gaps:
        rows = _missing_rows(columns, gaps)
        detail = ", ".join(f"{c} ({n})" for c, n in gaps.items())
        if missing == "error":
            problem = (f"{path}: missing values in {len(gaps)} numeric columns: {detail}; {int(rows.sum())} of "
                       f"{len(rows)} rows are affected.")
            fix = "to leave those rows out, or {} to fill them with the training median plus a missing-indicator " \
                  "column."
            raise LearnloopError(f"{problem} Pass missing='drop' " + fix.format("missing='impute'"),
                                 cli=f"{problem} Pass --missing drop " + fix.format("--missing impute"))
        if missing == "drop":
            columns = {k: v[~rows] for k, v in columns.items()}
            notes.append(f"left out {int(rows.sum())} rows with missing values in: {detail}")
        else:
            notes.append(f"imputed missing numbers in: {detail} (training median, plus a 0/1 missing-indicator "
                         f"column each)")
    text_gaps = [f"{d.name} ({d.missing})" for d in features if d.missing and d.kind != "numeric"]
    if text_gaps:
        notes.append(f"missing text values are a category of their own ('[MISSING]') in: {', '.join(text_gaps)}")
    space = feature_space_for(features, impute=missing == "impute")
    groups = {g: np.array([_label_text(v) for v in columns[g]], dtype=str) for g in group_columns}
    y, target_parse = _target_values(columns[target], target, task, notes)
    data = _finish(Path(path).stem, None, y, task, [], target, groups=groups, notes=notes)
    data.target_parse = target_parse
    data.columns = columns
    data.feature_space = space
    data.decisions = decisions
    data.source_columns = header
    return data


def _target_values(values: np.ndarray, target: str, task: str, notes: list[str]) -> tuple[np.ndarray, dict | None]:
    """The target as the loop reads it: amounts written as text ("$250,000") become numbers unless the task is
    classification (then the text is the label); (values, the text format or None)."""
    if task == "classification" or values.dtype.kind not in "OUS":
        return values, None
    from learnloop.layers._number_text import describe, detect, parse_column

    spec = detect(values)
    if spec is None or spec["kind"] != "number":
        return values, None
    example = next(v for v in values.tolist() if v is not None)
    notes.append(f"target '{target}' read from text such as {example!r:.30}: {describe(spec)}")
    return parse_column(values, spec, target), spec


def feature_space_for(decisions, impute: bool = False):
    """The FeatureSpace the typing decisions describe: normalized numbers, one-hot or hashed text."""
    from learnloop.layers.feature_space import FeatureSpace

    features = {}
    for d in decisions:
        if d.kind == "numeric":
            features[d.name] = FeatureSpace.float_normalized(name=d.name, impute=impute,
                                                             parse=getattr(d, "parse", None))
        elif d.kind == "categorical":
            features[d.name] = FeatureSpace.string_categorical(name=d.name, impute=True)
        elif d.kind == "hashed":
            features[d.name] = FeatureSpace.string_hashed(d.num_bins, name=d.name, impute=True)
    return FeatureSpace(features, output_mode="concat")



def _missing_rows(columns: dict, names) -> np.ndarray:
    rows = np.zeros(len(next(iter(columns.values()))), dtype=bool)
    for name in names:
        rows |= missing_mask(columns[name])
    return rows


def _integral(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(np.all(finite == np.round(finite)))


def _label_text(value) -> str:
    from learnloop.layers._features import canonical_text

    return "(missing)" if value is None or (isinstance(value, float) and value != value) else canonical_text(value)
