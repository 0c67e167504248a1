"""Training-time reference statistics, and drift of served traffic measured against them.

The reference is a plain JSON-able dict that travels inside the saved model (``reference_statistics`` needs only
NumPy, so training code can call it without the ``serve`` extra)::

    {"version": 1, "n_samples": 1797, "input_shape": [64],
     "features": {"names": ["f0", ...], "bin_edges": [[e0, ..., eB], ...], "counts": [[c1, ..., cB], ...]},
     "sample": [[...64 values...], ...],                 # up to ``sample_size`` rows of training inputs, for KS tests
     "outputs": {"kind": "classes", "labels": [0, ...], "counts": [178, ...]}}
     #      or  {"kind": "values", "bin_edges": [...], "counts": [...]}   for a regressor

A model that takes raw table columns (a FeatureSpace first) gets the raw-column form instead, one entry per column
(numbers binned and sampled, categories counted): ``reference_statistics`` of a dict of columns or a DataFrame, see
:mod:`learnloop.serving.drift_columns`.

Bin edges are training-set quantiles; the outer bins are open (a served value below the first edge counts in the
first bin), so every served value falls in some bin. The server keeps a sliding window of the most recent served
rows (:class:`DriftWindow`) and :func:`drift_report` compares it with the reference: the population stability index
(PSI) per feature and of the predicted classes, and a two-sample Kolmogorov-Smirnov test per feature.
"""

from __future__ import annotations

import threading

import numpy as np

from learnloop.errors import LearnloopError

Array = np.ndarray
PSI_EPSILON = 1e-4          # floor on bin fractions, so an empty bin gives a large but finite PSI
PSI_MODERATE, PSI_SIGNIFICANT = 0.1, 0.25   # the usual rule of thumb: < 0.1 stable, > 0.25 shifted
KS_ALPHA = 0.01
MIN_WINDOW = 100            # instances before a window's drift gets a verdict (PSI over 10 bins needs them)
MAX_SAMPLE_VALUES = 2_000_000   # reference sample values (the KS tests sort them on each report)


def _as_rows(x, where: str) -> Array:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 1 or x.shape[0] == 0:
        raise LearnloopError(f"{where}: expected an array of shape (samples, ...) with at least one sample; "
                         f"got shape {x.shape}.")
    return x.reshape(x.shape[0], -1)


def _bin_edges(column: Array, bins: int) -> Array:
    """Unique quantile edges of one feature; a constant feature gets one bin around its value."""
    edges = np.unique(np.quantile(column, np.linspace(0.0, 1.0, bins + 1)))
    if edges.size < 2:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return edges


def bin_counts(values: Array, edges: Array) -> Array:
    """Counts of ``values`` (n,) in the bins of ``edges`` (B+1,), outer bins open: returns (B,) int64."""
    idx = np.searchsorted(edges[1:-1], values, side="right")
    return np.bincount(idx, minlength=edges.size - 1)


def reference_statistics(x, y_pred, *, bins: int = 10, sample_size: int = 1000, seed: int = 0,
                         feature_names: list[str] | None = None, task: str | None = None,
                         column_types: dict[str, str] | None = None, max_categories: int = 64) -> dict:
    """Reference statistics of a model's training inputs and outputs, to store with the model.

    Args:
        x: (n, ...) training inputs; features are the flattened trailing axes. Or the raw training columns of a
            table model (a dict of columns, a list of row dicts, a DataFrame or an Arrow table): then each column
            is described as it arrives (the raw-column form, see :mod:`learnloop.serving.drift_columns`).
        y_pred: the model's predictions on ``x``: (n,) class labels for a classifier, or (n,) / (n, k) output
            values for a regressor. Integer labels (or ``task="classification"``) are treated as classes;
            (n, k) float outputs with k > 1 and ``task="classification"`` are reduced with argmax.
        bins: quantile bins per feature (fewer when a feature has fewer distinct values).
        sample_size: rows of ``x`` kept (drawn without replacement with ``seed``) for the KS tests.
        feature_names: one name per flattened feature; ``f0, f1, ...`` by default.
        task: ``"classification"``, ``"regression"`` or None to infer from the dtype of ``y_pred``.
        column_types: raw columns only: the columns to describe, each ``"numeric"`` or ``"categorical"``
            (``FeatureSpace.input_schema()`` words work too: ``number``; ``integer`` and ``string`` are
            categories; :func:`~learnloop.serving.drift_columns.column_types` gives them for a FeatureSpace). By
            default every column, numeric when its values are numbers.
        max_categories: raw columns only: the most frequent categories kept per categorical column (the rest are
            counted together as ``other``); ``sample_size`` bounds each numeric column's sample.

    Returns:
        A JSON-able dict (see the module docstring).
    """
    from learnloop.serving.drift_columns import column_statistics, is_table

    if is_table(x):
        n, columns = column_statistics(x, types=column_types, bins=bins, sample_size=sample_size, seed=seed,
                                       max_categories=max_categories)
        y = np.asarray(y_pred)
        if y.shape[0] != n:
            raise LearnloopError(f"reference_statistics: x has {n} rows but y_pred has {y.shape[0]}.")
        return {"version": 2, "kind": "columns", "n_samples": int(n), "columns": columns,
                "outputs": _output_statistics(y, bins, task)}
    rows = _as_rows(x, "reference_statistics(x)")
    n, d = rows.shape
    names = list(feature_names) if feature_names is not None else [f"f{j}" for j in range(d)]
    if len(names) != d:
        raise LearnloopError(f"reference_statistics: {len(names)} feature names for {d} features.")
    edges = [_bin_edges(rows[:, j], bins) for j in range(d)]
    counts = [bin_counts(rows[:, j], e) for j, e in enumerate(edges)]
    rng = np.random.default_rng(seed)
    keep = rng.choice(n, size=min(n, sample_size), replace=False) if n > sample_size else np.arange(n)
    y = np.asarray(y_pred)
    if y.shape[0] != n:
        raise LearnloopError(f"reference_statistics: x has {n} samples but y_pred has {y.shape[0]}.")
    return {
        "version": 1,
        "n_samples": int(n),
        "input_shape": [int(s) for s in np.shape(x)[1:]],
        "features": {"names": names, "bin_edges": [e.tolist() for e in edges],
                     "counts": [c.tolist() for c in counts]},
        "sample": np.round(rows[np.sort(keep)], 6).tolist(),
        "outputs": _output_statistics(y, bins, task),
    }


def _output_statistics(y: Array, bins: int, task: str | None) -> dict:
    classes = task == "classification" or (task is None and y.dtype.kind in "iub")
    if classes:
        labels = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
        values, counts = np.unique(labels.astype(np.int64), return_counts=True)
        return {"kind": "classes", "labels": values.tolist(), "counts": counts.tolist()}
    flat = y.reshape(y.shape[0], -1)[:, 0].astype(np.float64)     # drift of the first output
    edges = _bin_edges(flat, bins)
    return {"kind": "values", "bin_edges": edges.tolist(), "counts": bin_counts(flat, edges).tolist()}


def psi(expected_counts, actual_counts) -> float:
    """Population stability index sum((a - e) * ln(a / e)) over bins of fractions, floored at 1e-4."""
    e = np.asarray(expected_counts, dtype=np.float64)
    a = np.asarray(actual_counts, dtype=np.float64)
    e = np.maximum(e / max(e.sum(), 1.0), PSI_EPSILON)
    a = np.maximum(a / max(a.sum(), 1.0), PSI_EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


class DriftWindow:
    """The last ``size`` served rows (flattened inputs) and their predicted labels or first output values.

    ``add`` is called on the request path, so it only copies into preallocated ring buffers under a lock.
    """

    def __init__(self, n_features: int, size: int = 2000):
        self.size = int(size)
        self._x = np.zeros((self.size, n_features), dtype=np.float64)
        self._y = np.zeros(self.size, dtype=np.float64)
        self._next = 0
        self.count = 0          # rows seen since start (the window holds min(count, size))
        self._lock = threading.Lock()

    def add(self, x: Array, y: Array) -> None:
        """Append rows ``x`` (m, n_features) with outputs ``y`` (m,); only the last ``size`` rows are kept."""
        m = x.shape[0]
        if m > self.size:
            x, y, m = x[-self.size:], y[-self.size:], self.size
        with self._lock:
            start = self._next
            first = min(m, self.size - start)
            self._x[start:start + first] = x[:first]
            self._y[start:start + first] = y[:first]
            if first < m:
                self._x[:m - first] = x[first:]
                self._y[:m - first] = y[first:]
            self._next = (start + m) % self.size
            self.count += m

    def snapshot(self) -> tuple[Array, Array]:
        """Copies of the rows currently in the window, oldest first: (w, n_features), (w,)."""
        with self._lock:
            if self.count < self.size:
                return self._x[:self._next].copy(), self._y[:self._next].copy()
            order = np.r_[self._next:self.size, 0:self._next]
            return self._x[order], self._y[order]


def drift_report(reference: dict, x: Array, y: Array, *, top: int = 10) -> dict:
    """Compare the window ``x`` (w, d), ``y`` (w,) with ``reference`` (from :func:`reference_statistics`).

    Returns a JSON-able dict: ``window_size``, per-feature ``features`` (name, psi, ks_statistic, ks_pvalue), the
    ``top`` most shifted features, ``max_psi``, ``drifted_features`` (PSI > 0.25 or KS p-value below 0.01 after a
    Bonferroni correction over features), ``prediction`` (PSI of the output distribution) and a ``status``:
    ``"no_data"``, ``"stable"``, ``"moderate"`` or ``"drift"``. With a raw-column reference, ``x`` holds the
    window's column codes (:class:`~learnloop.serving.drift_columns.ColumnCoder`), each feature row also has its
    ``type``, ``missing`` fraction and ``unseen`` count (categories), and ``unseen_values`` sums the unseen ones.
    """
    from scipy import stats

    w = int(x.shape[0])
    if w == 0:
        return {"window_size": 0, "status": "no_data", "features": [], "top": [], "max_psi": None,
                "drifted_features": 0, "prediction": None}
    if reference.get("kind") == "columns":
        from learnloop.serving.drift_columns import column_drift

        rows, drifted = column_drift(reference, x, ks_alpha=KS_ALPHA)
        return _summary(rows, len(drifted), reference["outputs"], y, w, top)
    feats = reference["features"]
    sample = np.asarray(reference.get("sample") or [], dtype=np.float64)
    d = len(feats["bin_edges"])
    rows = []
    for j in range(d):
        edges = np.asarray(feats["bin_edges"][j])
        p = psi(feats["counts"][j], bin_counts(x[:, j], edges))
        ks_stat, ks_p = (np.nan, np.nan)
        if sample.size:
            res = stats.ks_2samp(x[:, j], sample[:, j])
            ks_stat, ks_p = float(res.statistic), float(res.pvalue)
        rows.append({"name": feats["names"][j], "psi": round(p, 6), "ks_statistic": _finite(ks_stat),
                     "ks_pvalue": _finite(ks_p)})
    alpha = KS_ALPHA / max(d, 1)
    drifted = [r for r in rows if r["psi"] > PSI_SIGNIFICANT or (r["ks_pvalue"] is not None and r["ks_pvalue"] < alpha)]
    return _summary(rows, len(drifted), reference["outputs"], y, w, top)


def _summary(rows: list[dict], drifted: int, outputs: dict, y: Array, w: int, top: int) -> dict:
    max_psi = max(r["psi"] for r in rows) if rows else 0.0
    prediction = _prediction_drift(outputs, y)
    worst = max(max_psi, prediction["psi"])
    status = "drift" if drifted or worst > PSI_SIGNIFICANT else "moderate" if worst > PSI_MODERATE else "stable"
    if w < MIN_WINDOW:                     # measured, but too few instances to call it
        status = "insufficient_data"
    out = {"window_size": w, "status": status, "max_psi": round(max_psi, 6), "drifted_features": drifted,
           "top": sorted(rows, key=lambda r: -r["psi"])[:top], "features": rows, "prediction": prediction}
    unseen = {r["name"]: r["unseen"] for r in rows if r.get("unseen")}
    if any("unseen" in r for r in rows):
        out["unseen_values"] = {"total": sum(unseen.values()), "by_feature": unseen}
    return out


def _prediction_drift(outputs: dict, y: Array) -> dict:
    if outputs["kind"] == "classes":
        labels = list(outputs["labels"])
        served = np.asarray([np.sum(y == lab) for lab in labels], dtype=np.float64)
        other = float(y.size - served.sum())            # labels never predicted in training
        expected = np.asarray(outputs["counts"], dtype=np.float64)
        if other:
            served, expected = np.append(served, other), np.append(expected, 0.0)
            labels = labels + ["other"]
        total = max(served.sum(), 1.0)
        return {"kind": "classes", "psi": round(psi(expected, served), 6),
                "reference": dict(zip(map(str, labels), (expected / expected.sum()).round(6).tolist())),
                "window": dict(zip(map(str, labels), (served / total).round(6).tolist()))}
    edges = np.asarray(outputs["bin_edges"])
    return {"kind": "values", "psi": round(psi(outputs["counts"], bin_counts(y, edges)), 6)}


def _finite(v: float) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 6)


def _numbers(value, where: str, *, minimum: float | None = None, size: int | None = None) -> str | None:
    if not isinstance(value, list) or (size is not None and len(value) != size):
        return f"{where} must be a list" + (f" of {size} numbers" if size is not None else " of numbers")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or \
                (minimum is not None and v < minimum):
            return f"{where} must hold finite numbers" + (f" >= {minimum}" if minimum is not None else "")
    return None


def _edges_and_counts(entry: dict, where: str) -> str | None:
    edges, counts = entry.get("bin_edges"), entry.get("counts")
    problem = _numbers(edges, f"{where}.bin_edges")
    if problem or len(edges) < 2 or any(b < a for a, b in zip(edges, edges[1:])):
        return problem or f"{where}.bin_edges must be at least two sorted numbers"
    return _numbers(counts, f"{where}.counts", minimum=0, size=len(edges) - 1)


def check_reference(reference: dict) -> str | None:
    """What is wrong with reference statistics (from a model file, so from anyone), or None when a drift report can
    be computed from them: the shapes and types every statistic must have, finite numbers, sorted bin edges."""
    outputs = reference.get("outputs")
    if not isinstance(outputs, dict):
        return "outputs must be an object"
    if outputs.get("kind") == "classes":
        labels = outputs.get("labels")
        if not isinstance(labels, list) or not all(isinstance(v, (int, float, str)) for v in labels):
            return "outputs.labels must be a list of labels"
        problem = _numbers(outputs.get("counts"), "outputs.counts", minimum=0, size=len(labels))
    elif outputs.get("kind") == "values":
        problem = _edges_and_counts(outputs, "outputs")
    else:
        problem = "outputs.kind must be 'classes' or 'values'"
    if problem:
        return problem
    if reference.get("kind") == "columns":
        for name, column in reference["columns"].items():
            where = f"columns.{name}"
            if not isinstance(column, dict):
                return f"{where} must be an object"
            if column.get("type") == "numeric":
                problem = _edges_and_counts(column, where) or \
                    _numbers([column.get("missing")], f"{where}.missing", minimum=0) or \
                    _numbers(column.get("sample", []), f"{where}.sample")
                if column.get("median") is not None:
                    problem = problem or _numbers([column["median"]], f"{where}.median")
                if not problem and len(column.get("sample", [])) > MAX_SAMPLE_VALUES:
                    problem = f"{where}.sample holds more than {MAX_SAMPLE_VALUES:,} values"
            elif column.get("type") == "categorical":
                categories = column.get("categories")
                if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
                    return f"{where}.categories must be a list of strings"
                problem = _numbers(column.get("counts"), f"{where}.counts", minimum=0, size=len(categories)) or \
                    _numbers([column.get("other", 0), column.get("missing")], f"{where}.other/missing", minimum=0)
            else:
                problem = f"{where}.type must be 'numeric' or 'categorical'"
            if problem:
                return problem
        return None
    features = reference["features"]
    edges, counts, names = features.get("bin_edges"), features.get("counts"), features.get("names")
    d = len(edges)
    if not isinstance(names, list) or len(names) != d or not all(isinstance(n, str) for n in names):
        return f"features.names must be {d} strings"
    if not isinstance(counts, list) or len(counts) != d:
        return f"features.counts must hold {d} lists"
    for j in range(d):
        problem = _edges_and_counts({"bin_edges": edges[j], "counts": counts[j]}, f"features[{j}]")
        if problem:
            return problem
    sample = reference.get("sample") or []
    if not isinstance(sample, list) or len(sample) * d > MAX_SAMPLE_VALUES:
        return f"sample must be a list of at most {MAX_SAMPLE_VALUES // max(d, 1):,} rows"
    for i, row in enumerate(sample):
        problem = _numbers(row, f"sample[{i}]", size=d)
        if problem:
            return problem
    return None
