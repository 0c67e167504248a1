"""Drift of a table model's raw columns: the reference statistics, the served values' codes, and the report.

The raw-column form of the reference statistics (``reference_statistics`` of a dict of columns) describes each
column the model reads as it arrives, before the feature pipeline::

    {"version": 2, "kind": "columns", "n_samples": 19536,
     "columns": {
        "age": {"type": "numeric", "bin_edges": [17.0, 22.0, ..., 90.0], "counts": [...], "missing": 0,
                "median": 37.0, "sample": [39.0, 50.0, ...]},          # up to ``sample_size`` present values
        "workclass": {"type": "categorical", "categories": ["Private", ...], "counts": [13589, ...],
                      "other": 0, "missing": 1100}},                  # the ``max_categories`` most frequent
     "outputs": {"kind": "classes", "labels": [0, 1], "counts": [...]}}

A numeric column is compared by PSI over its training-quantile bins plus a bucket for missing values, and by a
two-sample KS test against the sample; a categorical column by PSI over its training categories plus three buckets:
``other`` (training categories beyond the stored ones), ``unseen`` (values the model never saw: they take the
feature's out-of-vocabulary slot) and ``missing``. The server's window holds one code per column and served row:
the number itself (NaN when missing) or the bucket index.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from learnloop.errors import LearnloopError

Array = np.ndarray
MAX_CATEGORIES = 64
NUMERIC, CATEGORICAL = "numeric", "categorical"
_SCHEMA_WORDS = {"number": NUMERIC, "numeric": NUMERIC, "integer": CATEGORICAL, "string": CATEGORICAL,
                 "categorical": CATEGORICAL}


def is_table(x) -> bool:
    """A dict of columns, a list of row dicts, a DataFrame or an Arrow table (not an array)."""
    if isinstance(x, Mapping):
        return True
    module = type(x).__module__.split(".")[0]
    if (module == "pandas" and hasattr(x, "columns")) or (module == "pyarrow" and hasattr(x, "schema")):
        return True
    return isinstance(x, (list, tuple)) and bool(x) and isinstance(x[0], Mapping)


def column_types(feature_space) -> dict[str, str]:
    """Column -> ``"numeric"`` or ``"categorical"`` as a FeatureSpace reads it (integer categories are
    categorical)."""
    return {name: _SCHEMA_WORDS[spec["type"]] for name, spec in feature_space.input_schema().items()}


def _numbers(raw, name: str):
    """(float64 values, missing mask) of a numeric column; numbers written as text (``"$1,234"``, dates) are read
    as a FeatureSpace with ``parse`` reads them."""
    from learnloop.layers._features import read_float
    from learnloop.layers._number_text import detect, parse

    spec = detect(raw) if raw.dtype.kind in "OUS" else None
    return parse(raw, spec, name) if spec is not None else read_float(raw, name)


def column_statistics(x, *, types: Mapping[str, str] | None, bins: int, sample_size: int, seed: int,
                      max_categories: int = MAX_CATEGORIES) -> tuple[int, dict]:
    """(rows, per-column statistics) of tabular ``x``; see the module docstring."""
    from learnloop._columns import as_columns
    from learnloop.layers._features import read_text
    from learnloop.serving.monitor import _bin_edges, bin_counts

    columns = as_columns(x, "reference_statistics(x)")
    names = list(types) if types is not None else list(columns)
    n = len(next(iter(columns.values())))
    rng = np.random.default_rng(seed)
    out = {}
    for name in names:
        if name not in columns:
            raise LearnloopError(f"reference_statistics: column_types names {name!r}, which the data lacks; the "
                                 f"data has {sorted(columns)[:20]}.")
        raw = columns[name]
        kind = _SCHEMA_WORDS.get((types or {}).get(name) or (NUMERIC if raw.dtype.kind in "fiu" else CATEGORICAL))
        if kind is None:
            raise LearnloopError(f"reference_statistics: column type {types[name]!r} of {name!r}; expected "
                                 f"'numeric' or 'categorical'.")
        if kind == NUMERIC:
            values, missing = _numbers(raw, name)
            present = values[~missing]
            edges = _bin_edges(present, bins) if present.size else np.array([-0.5, 0.5])
            keep = rng.choice(present.size, size=sample_size, replace=False) if present.size > sample_size \
                else np.arange(present.size)
            out[name] = {"type": NUMERIC, "bin_edges": edges.tolist(), "counts": bin_counts(present, edges).tolist(),
                         "missing": int(missing.sum()),
                         "median": float(np.median(present)) if present.size else None,
                         "sample": np.round(present[np.sort(keep)], 6).tolist()}
        else:
            values, missing = read_text(raw, name)
            found, counts = np.unique(values[~missing].astype(str), return_counts=True)
            order = np.lexsort((found, -counts))[:max_categories]           # most frequent first, ties by name
            out[name] = {"type": CATEGORICAL, "categories": found[order].tolist(), "counts": counts[order].tolist(),
                         "other": int(counts.sum() - counts[order].sum()), "missing": int(missing.sum())}
    return n, out


def model_vocabularies(feature_space) -> dict[str, set]:
    """Column -> the categories (as text) a FeatureSpace's lookup knows; columns without a vocabulary (numbers,
    hashed text) are left out."""
    from learnloop.layers._features import canonical_text

    out = {}
    for name in feature_space.column_names:
        vocabulary = getattr(feature_space.features[name].preprocessor, "get_vocabulary", None)
        if vocabulary is not None:
            out[name] = {canonical_text(t) for t in vocabulary(include_special_tokens=False)}
    return out


class ColumnCoder:
    """Served values -> the window's codes, for the columns of a raw-column reference.

    Args:
        reference: the raw-column reference statistics.
        known: column -> the categories the model knows (its lookup vocabulary, as text); a value outside is
            ``unseen``. Without it (hashed features), a value outside the stored categories is ``unseen`` when the
            reference stores every training category, else ``other``.
    """

    def __init__(self, reference: dict, known: Mapping[str, set] | None = None):
        from learnloop.layers._features import canonical_text

        self._text = canonical_text
        self.names = list(reference["columns"])
        self.columns = []          # (name, is numeric, lookup, fallback code, number of stored categories)
        for name, ref in reference["columns"].items():
            if ref["type"] == NUMERIC:
                self.columns.append((name, True, None, None, 0))
                continue
            k = len(ref["categories"])
            lookup = {c: i for i, c in enumerate(ref["categories"])}
            vocabulary = (known or {}).get(name)
            if vocabulary is not None:
                for term in vocabulary:
                    lookup.setdefault(term, k)                              # known to the model: other
                fallback = k + 1
            else:
                fallback = k + 1 if not ref.get("other") else k
            self.columns.append((name, False, lookup, fallback, k))
        self.key = tuple((name, numeric, None if lookup is None else tuple(sorted(lookup.items())), fallback)
                         for name, numeric, lookup, fallback, _ in self.columns)

    @property
    def width(self) -> int:
        return len(self.columns)

    def encode(self, values: Mapping[str, list], n: int) -> tuple[Array, dict[str, int]]:
        """((n, width) codes, column -> unseen values among them) of ``values`` (column -> one value per row)."""
        text = self._text
        out = np.empty((n, len(self.columns)), dtype=np.float64)
        unseen = {}
        for j, (name, numeric, lookup, fallback, k) in enumerate(self.columns):
            column = values.get(name)
            if column is None:
                out[:, j] = np.nan if numeric else k + 2
            elif numeric:
                out[:, j] = np.array(column, dtype=np.float64)                # None -> NaN
            else:
                codes = [k + 2 if v is None else lookup.get(v if type(v) is str else text(v), fallback)
                         for v in column]
                out[:, j] = codes
                count = codes.count(k + 1)
                if count:
                    unseen[name] = count
        return out, unseen


def column_drift(reference: dict, x: Array, *, ks_alpha: float) -> tuple[list[dict], set[str]]:
    """(one row per column: name, type, psi, ks_statistic, ks_pvalue, missing, unseen; names of drifted columns)
    of the window codes ``x`` (w, columns) against the raw-column ``reference``."""
    from scipy import stats

    from learnloop.serving.monitor import PSI_SIGNIFICANT, _finite, bin_counts, psi

    rows, numeric = [], sum(ref["type"] == NUMERIC for ref in reference["columns"].values())
    alpha = ks_alpha / max(numeric, 1)
    drifted = set()
    for j, (name, ref) in enumerate(reference["columns"].items()):
        codes = x[:, j]
        if ref["type"] == NUMERIC:
            missing = np.isnan(codes)
            present = codes[~missing]
            edges = np.asarray(ref["bin_edges"])
            expected = list(ref["counts"]) + [ref["missing"]]
            actual = np.append(bin_counts(present, edges), int(missing.sum()))
            ks_stat = ks_p = np.nan
            if present.size and ref.get("sample"):
                res = stats.ks_2samp(present, np.asarray(ref["sample"], dtype=np.float64))
                ks_stat, ks_p = float(res.statistic), float(res.pvalue)
            row = {"name": name, "type": NUMERIC, "psi": round(psi(expected, actual), 6),
                   "ks_statistic": _finite(ks_stat), "ks_pvalue": _finite(ks_p),
                   "missing": round(float(missing.mean()), 6), "unseen": None}
        else:
            k = len(ref["categories"])
            actual = np.bincount(codes.astype(np.int64), minlength=k + 3)
            expected = list(ref["counts"]) + [ref.get("other", 0), 0, ref["missing"]]
            row = {"name": name, "type": CATEGORICAL, "psi": round(psi(expected, actual), 6), "ks_statistic": None,
                   "ks_pvalue": None, "missing": round(float(actual[k + 2] / max(codes.size, 1)), 6),
                   "unseen": int(actual[k + 1])}
        if row["psi"] > PSI_SIGNIFICANT or (row["ks_pvalue"] is not None and row["ks_pvalue"] < alpha):
            drifted.add(name)
        rows.append(row)
    return rows, drifted
