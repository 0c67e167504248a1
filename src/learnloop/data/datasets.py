"""Datasets for the loop: scikit-learn's bundled sets (no download), the user's CSV or NPZ files.

``load_dataset(source)`` returns a :class:`Dataset` with a numeric feature matrix, the targets, the task and what
was done to read it. CSV files may mix numeric and categorical columns (categoricals are one-hot encoded with
scikit-learn); missing values are never dropped silently: by default they are an error that names the columns and
counts the rows, and ``missing="drop"`` or ``missing="impute"`` handle them explicitly, with a note saying so.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from learnloop._registry import lookup
from learnloop.errors import LearnloopError

BUNDLED = ("digits", "breast_cancer", "wine", "diabetes", "iris")
MISSING_TOKENS = frozenset({"", "?", "na", "n/a", "nan", "null", "none"})


@dataclass
class Dataset:
    """Features ``x`` (m, n) float64, targets ``y`` (m,), and how they were read.

    ``classes`` holds the original labels for classification (``y`` indexes into it); ``images`` is
    (m, h, w) when the samples are images (bundled digits).
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

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes is not None else 0


def load_dataset(source: str, target: str | None = None, task: str = "auto", missing: str = "error",
                 group_columns: list[str] | None = None) -> Dataset:
    """Load a bundled set by name, or a ``.csv``/``.npz`` file by path.

    Args:
        source: one of ``BUNDLED`` or a path.
        target: the CSV column to predict (default: the last column).
        task: "auto", "classification" or "regression".
        missing: "error", "drop" (rows) or "impute" (median / most frequent) for missing CSV values.
        group_columns: CSV columns kept aside as subgroup labels (for a fairness audit), not used as features.
    """
    if task not in ("auto", "classification", "regression"):
        raise LearnloopError(f"task must be 'auto', 'classification' or 'regression'; got {task!r}.")
    path = Path(source)
    if path.suffix.lower() == ".csv":
        data = load_csv(path, target=target, task=task, missing=missing, group_columns=group_columns)
    elif path.suffix.lower() == ".npz":
        data = _load_npz(path, task)
    else:
        data = _load_bundled(source, task)
    return data


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
    images = x if x.ndim == 3 else None
    x = x.reshape(len(x), -1)
    y = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 and y.shape[1] == 1 else y
    if len(x) != len(y):
        raise LearnloopError(f"{path}: x has {len(x)} rows but y has {len(y)}.")
    return _finish(path.stem, x, y, task, [f"x{i}" for i in range(x.shape[1])], "y", images=images)


def _infer_task(y: np.ndarray) -> str:
    if y.dtype.kind in "OUS":
        return "classification"
    values = np.unique(y)
    integral = np.all(np.equal(np.mod(values, 1), 0))
    return "classification" if integral and len(values) <= 20 else "regression"


def _finish(name, x, y, task, feature_names, target_name, images=None, groups=None, notes=None) -> Dataset:
    task = _infer_task(y) if task == "auto" else task
    classes = None
    if task == "classification":
        classes_arr, y = np.unique(y, return_inverse=True)
        classes = [c.item() if hasattr(c, "item") else c for c in classes_arr]
    else:
        try:
            y = y.astype(np.float64)
        except ValueError:
            raise LearnloopError(f"{name}: target '{target_name}' is not numeric; use --task classification.") \
                from None
    if not np.all(np.isfinite(x)):
        raise LearnloopError(f"{name}: the features contain NaN or inf.")
    return Dataset(name=name, x=x, y=y, task=task, feature_names=feature_names, target_name=target_name,
                   classes=classes, images=images, groups=groups or {}, notes=notes or [])


def _is_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def load_csv(path: Path, target: str | None = None, task: str = "auto", missing: str = "error",
             group_columns: list[str] | None = None) -> Dataset:
    """Read a CSV with a header row; see :func:`load_dataset`."""
    if missing not in ("error", "drop", "impute"):
        raise LearnloopError(f"missing must be 'error', 'drop' or 'impute'; got {missing!r}.")
    path = Path(path)
    if not path.is_file():
        raise LearnloopError(f"No data file at {path}.")
    with path.open(newline="", encoding="utf-8-sig") as f:
        sample = f.read(65536)
        f.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = [[cell.strip() for cell in row] for row in csv.reader(f, dialect) if row]
    if len(rows) < 2:
        raise LearnloopError(f"{path}: expected a header row and at least one data row.")
    header, body = rows[0], rows[1:]
    bad = [i + 2 for i, row in enumerate(body) if len(row) != len(header)]
    if bad:
        raise LearnloopError(f"{path}: rows {bad[:5]} have a different number of fields than the header "
                             f"({len(header)}).")
    target = target if target is not None else header[-1]
    if target not in header:
        raise LearnloopError(f"{path}: no column named {target!r}; the columns are {header}.")
    group_columns = list(group_columns or [])
    for g in group_columns:
        if g not in header:
            raise LearnloopError(f"{path}: no group column named {g!r}; the columns are {header}.")
    columns = {name: [row[i] for row in body] for i, name in enumerate(header)}
    notes: list[str] = []

    is_missing = {name: np.array([v.lower() in MISSING_TOKENS for v in values]) for name, values in columns.items()}
    if is_missing[target].any():
        n = int(is_missing[target].sum())
        if missing == "error":
            raise LearnloopError(f"{path}: the target column '{target}' is missing in {n} rows; pass "
                                 f"missing='drop' (--missing drop) to drop them.")
        notes.append(f"dropped {n} rows whose target '{target}' is missing")
    feature_cols = [c for c in header if c != target and c not in group_columns]
    counts = {c: int(is_missing[c].sum()) for c in feature_cols if is_missing[c].any()}
    keep = ~is_missing[target]
    if counts:
        rows_with = int(np.any([is_missing[c] for c in counts], axis=0).sum())
        detail = ", ".join(f"{c} ({n})" for c, n in counts.items())
        if missing == "error":
            raise LearnloopError(
                f"{path}: missing values in {len(counts)} columns: {detail}; {rows_with} of {len(body)} rows are "
                f"affected. Choose missing='drop' to drop those rows or missing='impute' to fill them "
                f"(median for numbers, most frequent value for categories).")
        if missing == "drop":
            for c in counts:
                keep &= ~is_missing[c]
            notes.append(f"dropped {rows_with} rows with missing values in: {detail}")
        else:
            notes.append(f"imputed missing values in: {detail}")
    idx = np.flatnonzero(keep)

    numeric = [c for c in feature_cols if all(_is_number(v) for v, miss in zip(columns[c], is_missing[c]) if not miss)]
    categorical = [c for c in feature_cols if c not in numeric]
    blocks, names = [], []
    if numeric:
        num = np.array([[float(columns[c][i]) if not is_missing[c][i] else np.nan for c in numeric] for i in idx])
        if np.isnan(num).any():
            num = np.where(np.isnan(num), np.nanmedian(num, axis=0), num)
        blocks.append(num)
        names += numeric
    if categorical:
        from sklearn.preprocessing import OneHotEncoder

        cat = np.array([[columns[c][i] for c in categorical] for i in idx], dtype=object)
        for j, c in enumerate(categorical):
            miss = is_missing[c][idx]
            if miss.any():
                values, counts_ = np.unique(cat[~miss, j].astype(str), return_counts=True)
                cat[miss, j] = values[np.argmax(counts_)]
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        blocks.append(encoder.fit_transform(cat.astype(str)))
        names += [str(n) for n in encoder.get_feature_names_out(categorical)]
        notes.append(f"one-hot encoded {len(categorical)} categorical columns: {categorical}")
    if not blocks:
        raise LearnloopError(f"{path}: no feature columns besides the target '{target}'.")
    x = np.hstack(blocks)
    raw_y = np.array([columns[target][i] for i in idx])
    y = raw_y.astype(np.float64) if all(_is_number(v) for v in raw_y) else raw_y
    groups = {g: np.array([columns[g][i] for i in idx]) for g in group_columns}
    return _finish(path.stem, x, y, task, names, target, groups=groups, notes=notes)
