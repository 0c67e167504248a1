"""Fairness audit: a model's metrics by subgroup, and the gaps between groups (fairlearn's MetricFrame, in NumPy).

``audit(y_true, y_pred, groups)`` computes each metric on every sample (``overall``) and on each group
(``by_group``); ``difference()`` and ``ratio()`` sum a metric's spread up in one number per metric. Several
sensitive features (e.g. sex and race) give one group per observed intersection, keyed by a tuple.

Metrics are plain ``f(y_true, y_pred)`` functions. The rates need binary labels; a rate whose denominator is empty
in a group (TPR in a group with no positive samples, FPR in a group with no negatives) is undefined and reported as
NaN. (fairlearn >= 0.10 reports 0.0 there, because scikit-learn's normalized confusion matrix turns 0/0 into 0; a
NaN cannot pass for a real rate of zero.) ``difference`` and ``ratio`` skip NaN groups, as pandas does in fairlearn.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from learnloop._html import render as render_html
from learnloop.diagnostics.fairness_metrics import (  # noqa: F401  (public names of learnloop.fairness)
    DEFAULT_METRICS,
    METRICS,
    REGRESSION_METRICS,
    Array,
    Metric,
    _needs_binary,
    accuracy,
    check_binary,
    error_rate,
    false_negative_rate,
    false_positive_rate,
    resolve_metrics,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from learnloop.errors import LearnloopError

_METHODS = ("between_groups", "to_overall")


# ---- groups ------------------------------------------------------------------------------------------------------
def _as_labels(name: str, values, n: int | None) -> Array:
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise LearnloopError(f"audit expects {name} as a 1-D array of labels; got an array of shape {arr.shape}."
                             + (" For class scores, take argmax(axis=1) or threshold them first."
                                if name == "y_pred" and arr.ndim == 2 else ""))
    if n is not None and len(arr) != n:
        raise LearnloopError(f"audit expects one {name} value per sample ({n}); got {len(arr)}.")
    return arr


def split_groups(groups, n: int) -> tuple[list[str], list[Array]]:
    """Sensitive features as (names, 1-D arrays of length n) from one array, several, a 2-D array or a dict."""
    if hasattr(groups, "columns") and hasattr(groups, "__getitem__"):           # a DataFrame, without importing pandas
        groups = {str(c): np.asarray(groups[c]) for c in groups.columns}
    if isinstance(groups, Mapping):
        names, columns = [str(k) for k in groups], list(groups.values())
    elif isinstance(groups, (list, tuple)) and groups and all(np.ndim(g) >= 1 for g in groups):
        columns = list(groups)
        names = [str(getattr(g, "name", None) or f"group_{i}") for i, g in enumerate(columns)]
    else:
        arr = np.asarray(groups)
        if arr.ndim == 2 and arr.shape[1] > 1:
            columns, names = [arr[:, j] for j in range(arr.shape[1])], [f"group_{j}" for j in range(arr.shape[1])]
        else:
            columns, names = [arr], [str(getattr(groups, "name", None) or "group")]
    if not columns:
        raise LearnloopError("audit needs at least one sensitive feature in groups; got none.")
    arrays = [_as_labels(f"groups {name!r}", col, n) for name, col in zip(names, columns)]
    return names, arrays


def _unique(name: str, values: Array) -> tuple[Array, Array]:
    try:
        return np.unique(values, return_inverse=True)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in values})
        raise LearnloopError(f"audit cannot sort the values of groups {name!r}: they mix types {kinds} (a missing "
                             "value as None?). Fill or drop missing values first.") from None


def _encode(names: list[str], arrays: list[Array]) -> tuple[list[Hashable], Array]:
    """Observed groups (sorted; tuples for several features) and each sample's group index."""
    uniques, codes = zip(*(_unique(n, a) for n, a in zip(names, arrays)))
    combined = np.ravel_multi_index([c.ravel() for c in codes], [len(u) for u in uniques])
    observed, inverse = np.unique(combined, return_inverse=True)
    parts = np.unravel_index(observed, [len(u) for u in uniques])
    keys = [tuple(u[p].item() for u, p in zip(uniques, idx)) for idx in zip(*parts)]
    return [k[0] if len(arrays) == 1 else k for k in keys], inverse.ravel()


# ---- the report --------------------------------------------------------------------------------------------------
@dataclass
class FairnessReport:
    """Metrics overall and by group, with the gaps between groups.

    Attributes:
        metrics: the metric names, in order.
        features: the sensitive feature names (e.g. ``["sex", "race"]``).
        overall: metric -> value on every sample.
        by_group: group -> {metric -> value}; a group is a value, or a tuple of values for several features.
        counts: group -> number of samples.
    """

    metrics: list[str]
    features: list[str]
    overall: dict[str, float]
    by_group: dict[Hashable, dict[str, float]]
    counts: dict[Hashable, int]
    pos_label: Any = 1
    _y_true: Array = field(default=None, repr=False)
    _y_pred: Array = field(default=None, repr=False)
    _inverse: Array = field(default=None, repr=False)

    @property
    def groups(self) -> list[Hashable]:
        return list(self.by_group)

    def _values(self, metric: str) -> Array:
        if metric not in self.overall:
            raise LearnloopError(f"This audit has no metric {metric!r}; it has {self.metrics}.")
        return np.array([row[metric] for row in self.by_group.values()], dtype=float)

    def metric_by_group(self, fn: Metric) -> dict[Hashable, float]:
        """Any ``f(y_true, y_pred)`` evaluated on each group of this audit."""
        return {g: float(fn(self._y_true[self._inverse == i], self._y_pred[self._inverse == i]))
                for i, g in enumerate(self.by_group)}

    def difference(self, method: str = "between_groups") -> dict[str, float]:
        """Per metric: max - min over groups, or the largest ``abs(group - overall)`` (``method="to_overall"``)."""
        _check_method(method)
        out = {}
        for m in self.metrics:
            v = self._values(m)
            v = v[~np.isnan(v)]
            if not v.size:
                out[m] = math.nan
            elif method == "between_groups":
                out[m] = float(v.max() - v.min())
            else:
                out[m] = float(np.max(np.abs(v - self.overall[m])))
        return out

    def ratio(self, method: str = "between_groups") -> dict[str, float]:
        """Per metric: min / max over groups, or the smallest group/overall ratio taken below 1 (``to_overall``)."""
        _check_method(method)
        out = {}
        with np.errstate(divide="ignore", invalid="ignore"):
            for m in self.metrics:
                v = self._values(m)
                v = v[~np.isnan(v)]
                if not v.size:
                    out[m] = math.nan
                elif method == "between_groups":
                    out[m] = float(np.divide(v.min(), v.max()))
                else:
                    r = v / np.float64(self.overall[m])
                    r = np.where(r > 1, 1 / r, r)
                    out[m] = float(np.nanmin(r)) if not np.all(np.isnan(r)) else math.nan
        return out

    def demographic_parity_difference(self, method: str = "between_groups") -> float:
        """The spread of selection rates (fraction predicted positive) across groups."""
        return _spread(self.metric_by_group(functools.partial(selection_rate, pos_label=self.pos_label)),
                       selection_rate(self._y_true, self._y_pred, self.pos_label), method)

    def equalized_odds_difference(self, method: str = "between_groups") -> float:
        """The larger of the TPR spread and the FPR spread across groups (fairlearn's ``worst_case``)."""
        spreads = []
        for fn in (true_positive_rate, false_positive_rate):
            f = functools.partial(fn, pos_label=self.pos_label)
            spreads.append(_spread(self.metric_by_group(f), f(self._y_true, self._y_pred), method))
        return float(np.nanmax(spreads)) if not np.all(np.isnan(spreads)) else math.nan

    def gaps(self, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> dict:
        """Per metric: the gap between the highest and the lowest group with its bootstrap interval, and whether
        it is within noise (see :mod:`learnloop.diagnostics.fairness_gaps`)."""
        from learnloop.diagnostics.fairness_gaps import group_gaps

        return group_gaps(self, n_boot=n_boot, level=level, seed=seed)

    def undefined(self) -> list[tuple[Hashable, str]]:
        """(group, metric) pairs whose value is NaN: a rate with no sample of the class it divides by."""
        return [(g, m) for g, row in self.by_group.items() for m in self.metrics if math.isnan(row[m])]

    def rows(self) -> list[dict[str, Any]]:
        """The table as plain dicts: one per group, with each feature's value, ``count`` and each metric."""
        out = []
        for g, row in self.by_group.items():
            values = g if len(self.features) > 1 else (g,)
            out.append({**dict(zip(self.features, values)), "count": self.counts[g], **row})
        return out

    _repr_html_ = render_html                       # a notebook shows the dict below as a table

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary: overall, rows, differences (with their intervals) and ratios."""
        return {"features": self.features, "metrics": self.metrics, "pos_label": _plain(self.pos_label),
                "overall": self.overall, "rows": [{k: _plain(v) for k, v in r.items()} for r in self.rows()],
                "difference": self.difference(), "ratio": self.ratio(),
                "gaps": {m: gap.as_dict() for m, gap in self.gaps().items()},
                "demographic_parity_difference": None if self.regression else self.demographic_parity_difference(),
                "equalized_odds_difference": None if self.regression else self._eod_or_none()}

    @property
    def regression(self) -> bool:
        """True when every metric is a regression's (MAE, MSE, mean prediction): no classes, no selection rate."""
        return set(self.metrics) <= set(REGRESSION_METRICS)

    def _eod_or_none(self) -> float | None:
        try:
            return self.equalized_odds_difference()
        except LearnloopError:
            return None

    def __str__(self) -> str:
        return format_report(self)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _check_method(method: str) -> None:
    if method not in _METHODS:
        raise LearnloopError(f"method must be one of {list(_METHODS)}; got {method!r}.")


def _spread(by_group: dict, overall: float, method: str) -> float:
    _check_method(method)
    v = np.array(list(by_group.values()), dtype=float)
    v = v[~np.isnan(v)]
    if not v.size:
        return math.nan
    return float(v.max() - v.min()) if method == "between_groups" else float(np.max(np.abs(v - overall)))


def audit(y_true, y_pred, groups, metrics: Sequence | Mapping = DEFAULT_METRICS, pos_label=1) -> FairnessReport:
    """Evaluate ``metrics`` on all samples and on each group of ``groups``.

    Args:
        y_true: true labels, shape (n,).
        y_pred: predicted labels, shape (n,) (threshold probabilities first).
        groups: the sensitive feature(s): one array (n,), a list of arrays, an (n, k) array, or a dict
            name -> array (n,). Several features give one group per observed combination, keyed by a tuple.
        metrics: names (see ``METRICS``), ``f(y_true, y_pred)`` callables, or a dict name -> either.
        pos_label: the label counted as positive by the rates and the selection rate.

    Returns:
        A :class:`FairnessReport`.
    """
    y_true = _as_labels("y_true", y_true, None)
    y_pred = _as_labels("y_pred", y_pred, len(y_true))
    if not len(y_true):
        raise LearnloopError("audit got no samples (y_true is empty).")
    resolved = resolve_metrics(metrics, pos_label)
    binary = [name for name, fn in resolved.items() if _needs_binary(fn)]
    if binary:
        check_binary(y_true, y_pred, pos_label, where=f"audit metric(s) {binary}")
    names, arrays = split_groups(groups, len(y_true))
    keys, inverse = _encode(names, arrays)
    overall = {m: float(fn(y_true, y_pred)) for m, fn in resolved.items()}
    by_group, counts = {}, {}
    for i, key in enumerate(keys):
        mask = inverse == i
        yt, yp = y_true[mask], y_pred[mask]
        by_group[key] = {m: float(fn(yt, yp)) for m, fn in resolved.items()}
        counts[key] = int(mask.sum())
    return FairnessReport(list(resolved), names, overall, by_group, counts, pos_label, y_true, y_pred, inverse)


def demographic_parity_difference(y_true, y_pred, groups, method: str = "between_groups", pos_label=1) -> float:
    """The spread of selection rates across groups (fairlearn's function of the same name)."""
    return audit(y_true, y_pred, groups, ["selection_rate"], pos_label).demographic_parity_difference(method)


def equalized_odds_difference(y_true, y_pred, groups, method: str = "between_groups", pos_label=1) -> float:
    """max(TPR spread, FPR spread) across groups (fairlearn's function of the same name, ``agg="worst_case"``)."""
    return audit(y_true, y_pred, groups, ["tpr", "fpr"], pos_label).equalized_odds_difference(method)


# ---- text --------------------------------------------------------------------------------------------------------
def _fmt(v: float) -> str:
    return "nan" if math.isnan(v) else f"{v:.4f}"


def format_report(report: FairnessReport) -> str:
    """A fixed-width table: overall, each group, then the between-group difference and ratio."""
    def label(g) -> str:
        return ", ".join(map(str, g)) if isinstance(g, tuple) else str(g)

    total = sum(report.counts.values())
    lines_in = [("overall", total, report.overall)]
    lines_in += [(label(g), report.counts[g], row) for g, row in report.by_group.items()]
    first = max(12, *(len(t[0]) for t in lines_in))
    widths = [max(10, len(m)) for m in report.metrics]
    head = f"{' / '.join(report.features):<{first}}  {'count':>7}  " + "  ".join(
        f"{m:>{w}}" for m, w in zip(report.metrics, widths))
    out = [f"Fairness audit by {', '.join(report.features)}: {total} samples, {len(report.by_group)} groups",
           head, "-" * len(head)]
    for name, n, row in lines_in:
        out.append(f"{name:<{first}}  {n:>7}  " + "  ".join(
            f"{_fmt(row[m]):>{w}}" for m, w in zip(report.metrics, widths)))
    out.append("-" * len(head))
    for title, values in (("difference", report.difference()), ("ratio", report.ratio())):
        out.append(f"{title:<{first}}  {'':>7}  " + "  ".join(
            f"{_fmt(values[m]):>{w}}" for m, w in zip(report.metrics, widths)))
    noise = [f"{m} {gap.difference:.4f} [{gap.interval.low:.4f}, {gap.interval.high:.4f}]"
             + (" within noise" if gap.within_noise else "")
             for m, gap in report.gaps().items() if gap.interval is not None]
    if noise:
        out.append("gaps with simultaneous 95% intervals: " + "; ".join(noise))
    if report.regression:
        return "\n".join(out)
    out.append(f"demographic parity difference: {_fmt(report.demographic_parity_difference())}")
    eod = report._eod_or_none()
    if eod is not None:
        out.append(f"equalized odds difference:     {_fmt(eod)}")
    undefined = report.undefined()
    if undefined:
        shown = "; ".join(f"{m} for {label(g)}" for g, m in undefined[:6])
        out.append(f"nan: undefined, the group has no sample of the class the rate divides by ({shown}"
                   f"{'; ...' if len(undefined) > 6 else ''}); difference and ratio skip it.")
    return "\n".join(out)
