"""Where the errors of a table model gather: the error rate by value of each raw column, largest gaps first.

The notes' error analysis tags errors by hand; on a table the raw columns already are tags. Each categorical
column is cut by value and each numeric one by quantile bin, and each slice's error rate (the mean absolute error
for a regression) is set against the whole set's::

    slices = error_slices({"sex": sex, "age": age}, wrong)    # wrong: (n,) bool, the misclassified rows
    slices[0]    # Slice(column='age', value='[37, 48)', n=812, rate=0.24, gap=0.09, interval=(0.06, 0.12))

``gap`` is the slice's rate minus the overall rate, and ``interval`` its 95% interval: the overall rate mixes the
slice and the other rows, so the gap is (1 - share) x (slice - rest), and the interval is that of slice - rest
(Newcombe's for error rates, Welch's normal interval for absolute errors) scaled the same way. The intervals are
simultaneous over all the slices listed (Bonferroni: with 40 slices each is a 99.875% interval), because the
largest gaps were picked by looking at every slice; a gap whose interval excludes 0 is beyond noise.

Values with fewer than ``min_count`` rows are pooled as ``(other)``; a missing value is its own slice,
``(missing)``; a slice still under ``min_count`` rows is not listed (its rows count in the rest).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from learnloop.diagnostics import intervals as iv
from learnloop.errors import LearnloopError

Array = np.ndarray
BINS = 4                # quartiles: enough rows per bin on a cv set of a few hundred rows
CODE_MAX_LEVELS = 10    # whole numbers with this few distinct values are sliced by value, not by bin


class Slice(NamedTuple):
    """One value (or bin) of one column, with the error measured on its rows."""

    column: str
    value: str
    n: int
    rate: float
    gap: float
    interval: tuple[float, float] | None

    @property
    def beyond_noise(self) -> bool:
        """True when the gap's interval excludes 0."""
        return self.interval is not None and (self.interval[0] > 0 or self.interval[1] < 0)

    def as_dict(self) -> dict:
        return {"column": self.column, "value": self.value, "n": self.n, "rate": self.rate, "gap": self.gap,
                "interval": None if self.interval is None else list(self.interval), "beyond_noise": self.beyond_noise}


def error_slices(columns: Mapping[str, Array], errors: Array, *, kinds: Mapping[str, str] | None = None,
                 bins: int = BINS, min_count: int | None = None) -> list[Slice]:
    """The error by slice of every column, the slices where errors gather most first.

    Args:
        columns: name -> (n,) raw values (numbers, or text with ``None`` for missing).
        errors: (n,) 0/1 (or bool) misclassified per row, or (n,) absolute errors of a regression.
        kinds: name -> "numeric", "categorical" or "skip"; by default numbers with more than ``CODE_MAX_LEVELS``
            distinct values are numeric and the rest categorical.
        bins: quantile bins per numeric column.
        min_count: rows a value needs to be a slice of its own (default max(10, n // 100)).

    Returns:
        :class:`Slice` rows: first those with more errors beyond noise, then those within noise, then those with
        fewer errors beyond noise; largest gap first within each (a small slice's large gap is often noise).
    """
    errors = np.asarray(errors, dtype=np.float64).reshape(-1)
    n = len(errors)
    if n == 0:
        raise LearnloopError("error_slices needs at least one row.")
    binary = bool(np.all((errors == 0) | (errors == 1)))
    min_count = max(10, n // 100) if min_count is None else int(min_count)
    overall = float(errors.mean())
    found: list[tuple[str, str, Array]] = []
    for name, values in columns.items():
        values = np.asarray(values)
        if len(values) != n:
            raise LearnloopError(f"error_slices: column {name!r} has {len(values)} values; errors has {n}.")
        kind = (kinds or {}).get(name) or _kind(values)
        if kind == "skip":
            continue
        codes, names = _bins(values, bins) if kind == "numeric" else _values(values)
        codes, names = _pool_rare(codes, names, min_count)
        if len(names) < 2:
            continue                                # one slice is the whole set: nothing to compare
        for k, value in enumerate(names):
            mask = codes == k
            if mask.sum() >= min_count:             # fewer rows say nothing; they still count in the rest
                found.append((str(name), value, mask))
    level = 1 - (1 - iv.LEVEL) / max(1, len(found))
    out: list[Slice] = []
    for name, value, mask in found:
        inside, rest = errors[mask], errors[~mask]
        rate = float(inside.mean())
        ci = _interval(inside, rest, binary, level)
        share = float(mask.mean())
        out.append(Slice(name, value, int(mask.sum()), rate, rate - overall,
                         None if ci is None else ((1 - share) * ci[0], (1 - share) * ci[1])))
    out.sort(key=lambda s: (_tier(s), -s.gap, -s.n, s.column, s.value))
    return out


def _tier(s: Slice) -> int:
    """0: errors gather here beyond noise; 1: within noise; 2: fewer errors here, beyond noise."""
    return 1 if not s.beyond_noise else 0 if s.gap > 0 else 2


def _kind(values: Array) -> str:
    if values.dtype.kind in "fiu":
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        distinct = np.unique(finite)
        whole = bool(np.all(distinct == np.round(distinct)))
        return "categorical" if whole and len(distinct) <= CODE_MAX_LEVELS else "numeric"
    return "categorical"


def _values(values: Array) -> tuple[Array, list[str]]:
    """(code per row, slice names): one slice per distinct value, ``(missing)`` last."""
    from learnloop.layers._features import canonical_text, is_missing

    missing = is_missing(values)
    text = np.array([canonical_text(v) for v in values[~missing].tolist()], dtype=object)
    names, inverse = np.unique(text, return_inverse=True) if len(text) else (np.array([], dtype=object), [])
    codes = np.full(len(values), len(names), dtype=np.int64)
    codes[~missing] = np.asarray(inverse).reshape(-1)
    return codes, [str(v) for v in names] + ["(missing)"] * bool(missing.any())


def _bins(values: Array, bins: int) -> tuple[Array, list[str]]:
    """(code per row, slice names): ``[low, high)`` between quantile edges (the last bin closed), ``(missing)``.
    Numbers written as text (``"$1,234"``, dates) are read as the model's pipeline reads them; other text is
    sliced by value."""
    show = _g
    if values.dtype.kind in "OUS":
        from learnloop.layers._number_text import detect, parse_column

        spec = detect(values)
        if spec is None:
            return _values(values)
        values = parse_column(values, spec, "error_slices")
        show = _day if spec["kind"] == "date" else _g
    x = values.astype(np.float64)
    finite = np.isfinite(x)
    codes = np.zeros(len(x), dtype=np.int64)
    names: list[str] = []
    if finite.any():
        edges = np.unique(np.quantile(x[finite], np.linspace(0, 1, bins + 1)))
        if len(edges) < 2:
            names = [show(edges[0])]
        else:
            codes[finite] = np.clip(np.searchsorted(edges, x[finite], side="right") - 1, 0, len(edges) - 2)
            last = len(edges) - 2
            names = [f"[{show(edges[i])}, {show(edges[i + 1])}{']' if i == last else ')'}" for i in range(last + 1)]
    if not finite.all():
        codes[~finite] = len(names)
        names.append("(missing)")
    return codes, names


def _pool_rare(codes: Array, names: list[str], min_count: int) -> tuple[Array, list[str]]:
    """Values with fewer than ``min_count`` rows pooled into ``(other)`` (missing stays its own slice)."""
    counts = np.bincount(codes, minlength=len(names))
    rare = [k for k, c in enumerate(counts) if c < min_count and names[k] != "(missing)"]
    if not rare:
        return codes, names
    keep = [k for k in range(len(names)) if k not in set(rare)]
    remap = np.full(len(names), len(keep), dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    return remap[codes], [names[k] for k in keep] + ["(other)"]


def _interval(inside: Array, rest: Array, binary: bool, level: float) -> tuple[float, float] | None:
    """The interval of mean(inside) - mean(rest) at ``level``."""
    if not len(rest):
        return None
    if binary:
        ci = iv.newcombe(int(inside.sum()), len(inside), int(rest.sum()), len(rest), level)
        return (ci.low, ci.high)
    diff = float(inside.mean() - rest.mean())
    se = math.sqrt(inside.var(ddof=1) / len(inside) + rest.var(ddof=1) / len(rest)) \
        if len(inside) > 1 and len(rest) > 1 else math.nan
    if not math.isfinite(se):
        return None
    z = iv.z_value(level)
    return (diff - z * se, diff + z * se)


def _g(v: float) -> str:
    return f"{v:.4g}"


def _day(v: float) -> str:
    """A day count since 1970-01-01 as its date (and time, when not midnight)."""
    from datetime import datetime, timedelta

    moment = datetime(1970, 1, 1) + timedelta(days=float(v))
    return moment.date().isoformat() if moment.time() == datetime.min.time() else moment.isoformat(" ", "minutes")


def format_slices(slices: list[Slice], top: int = 10, measure: str = "error rate") -> list[str]:
    """The first ``top`` slices as aligned text lines (for the command line)."""
    if not slices:
        return []
    shown = slices[:top]
    width = max(len(f"{s.column} = {s.value}") for s in shown)
    pct = measure == "error rate"

    def fmt(v: float) -> str:
        return f"{v:+.1%}" if pct else f"{v:+.3g}"

    w = max(10, len(measure))
    lines = [f"  {'slice':<{width}}  {'rows':>6}  {measure:>{w}}  {'gap':>7}  gap interval (95%, simultaneous)"]
    for s in shown:
        rate = f"{s.rate:.1%}" if pct else f"{s.rate:.4g}"
        ci = "" if s.interval is None else f"[{fmt(s.interval[0])}, {fmt(s.interval[1])}]" + \
            ("" if s.beyond_noise else " within noise")
        lines.append(f"  {f'{s.column} = {s.value}':<{width}}  {s.n:>6}  {rate:>{w}}  {fmt(s.gap):>7}  {ci}")
    return lines
