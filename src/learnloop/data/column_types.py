"""How each column of a table becomes features, decided the way a careful practitioner would, with the reason.

``decide_columns(columns, target)`` returns one :class:`ColumnDecision` per feature candidate (every column but the
target and the ``keep_out`` columns, which are not features and get no decision): ``"numeric"`` (normalized
downstream), ``"categorical"`` (one-hot with an out-of-vocabulary slot), ``"hashed"`` (text with too many distinct
values for a one-hot: hashed into ``num_bins``) or ``"dropped"`` (ids, constants, empty columns). The rules, in order:

1. ``drop=``, ``categorical=``, ``numeric=`` decide first (``numeric=`` checks every value is a number).
2. A column with no value, or with one value, is dropped: it cannot tell rows apart.
3. Text unique in (nearly) every row is an id (or free text, suggested for vectorizing): dropped, since a value seen
   in one training row only teaches the network that row. Whole numbers unique in every row that count up (a row
   number) are dropped for the same reason; other unique numbers stay numeric, with a hint in the reason.
4. Numbers are numeric; whole numbers with very few distinct values are flagged as possible codes in the reason.
5. Text with few distinct values (at most ``CATEGORICAL_MAX_LEVELS``, and either at most ``FEW_LEVELS`` or with
   ``MIN_ROWS_PER_LEVEL`` rows per value on average) is categorical; other text is hashed.

The statistics are vectorized (one sort or bincount per numeric column, one set per text column): a 1M-row x
22-column table is typed in about a second.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass

import numpy as np

from learnloop.errors import LearnloopError

Array = np.ndarray

KINDS = ("numeric", "categorical", "hashed", "dropped")

# A one-hot column per value: past 100 values the encoded width dwarfs the other features (every row carries the
# full width through the first layer), and the tail of such columns is mostly values too rare to learn from; hashing
# caps the width instead. 100 keeps the categoricals of the usual tables one-hot: US states (51), countries seen in a
# survey (Adult's native-country: 41), occupations, product categories.
CATEGORICAL_MAX_LEVELS = 100
# A value needs several rows for its one-hot weight to be learned rather than memorized; on average fewer than 5 rows
# per value means most values are seen once or twice (a high-cardinality column for this table's size).
MIN_ROWS_PER_LEVEL = 5
# Up to 10 values are one-hot whatever the table's size: hashing so few values could only make them collide, and a
# small table's one-hot is narrow anyway.
FEW_LEVELS = 10
# Hashed bins: about 2 per distinct value (so most values get a bin of their own: with b bins and d values, a value
# shares its bin with probability ~ 1 - exp(-d/b), 39% at b = 2d), at least MIN_ROWS_PER_LEVEL rows per bin on
# average, a power of two, between 16 and 1024 (the width budget of one column; 1024 keeps 1M rows x 1024 float32
# inputs to batches built on the fly, not a matrix held in memory).
HASH_MIN_BINS = 16
HASH_MAX_BINS = 1024
# Text with at least 95% distinct values repeats too rarely to learn from (each value is in one training row): an id
# when short, free text when long. Below 20 rows, distinct values in every row is as likely a small sample of a
# category, so the rule waits for 20 rows.
ID_MIN_SHARE = 0.95
ID_MIN_ROWS = 20
# Whole numbers with at most 10 distinct values may be codes (regions, product types, ratings) rather than amounts;
# they stay numeric (which is right for counts and ordered scales) and the reason says how to make them categorical.
CODE_MAX_LEVELS = 10
# High-cardinality text whose values have a median of 4 or more words is free text (comments, messages, titles):
# hashing whole strings uses none of its words, a bag of words or TF-IDF would.
FREE_TEXT_MIN_WORDS = 4
FREE_TEXT_SAMPLE = 1000


@dataclass(frozen=True)
class ColumnDecision:
    """How one column becomes features.

    Attributes:
        name: the column.
        kind: "numeric", "categorical", "hashed" or "dropped".
        reason: one sentence for the report.
        distinct: number of distinct non-missing values.
        missing: number of missing values (the caller drops or imputes them).
        num_bins: hash bins for a "hashed" column, else None.
        parse: for a "numeric" column of text (``"$1,234.50"``, ``"12%"``, dates), the text format its values are
            read in (:mod:`learnloop.layers._number_text`), else None.
    """

    name: str
    kind: str
    reason: str
    distinct: int
    missing: int
    num_bins: int | None = None
    parse: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def decide_columns(columns: dict[str, Array], target: str | None, *, categorical=(), numeric=(), drop=(),
                   keep_out=(), missing: str = "error") -> list[ColumnDecision]:
    """One decision per feature candidate, in the columns' order.

    Args:
        columns: name -> (n,) array, as ``learnloop._columns.as_columns`` or ``read_table`` make them (float64 /
            int64 numbers with NaN for missing, object text with None for missing).
        target: the column to predict (no decision), or None.
        categorical: columns to one-hot whatever they hold (e.g. numeric codes).
        numeric: columns to read as numbers (every non-missing value must be one).
        drop: columns to leave out.
        keep_out: columns kept aside, not features (fairness groups...): no decision.
        missing: "error" raises when a feature or the target has missing values; "drop" and "impute" only count them
            (the caller drops the rows or imputes).

    Returns:
        list of :class:`ColumnDecision`, target and ``keep_out`` columns excluded.
    """
    if missing not in ("error", "drop", "impute"):
        raise LearnloopError(f"decide_columns: missing must be 'error', 'drop' or 'impute'; got {missing!r}.")
    overrides = _check_overrides(columns, target, categorical=categorical, numeric=numeric, drop=drop,
                                 keep_out=keep_out)
    aside = set(overrides["keep_out"]) | {target}
    decisions = [_decide(name, values, overrides.get(name)) for name, values in columns.items() if name not in aside]
    if missing == "error":
        _refuse_missing(columns, target, decisions)
    return decisions


# ---- overrides --------------------------------------------------------------------------------------------------
def _check_overrides(columns: dict, target, **lists) -> dict:
    """{column: the override naming it} plus {"keep_out": [...]}; unknown or repeated names are errors."""
    names = list(columns)
    if target is not None and target not in columns:
        raise LearnloopError(f"decide_columns: no target column {target!r}; the columns are {names}."
                             + _did_you_mean(target, names))
    by_name: dict = {}
    out: dict = {"keep_out": []}
    for arg, given in lists.items():
        given = [given] if isinstance(given, str) else list(given or ())
        unknown = [n for n in given if n not in columns]
        if unknown:
            raise LearnloopError(f"decide_columns: {arg}= names {unknown}, which the table does not have; the "
                                 f"columns are {names}." + _did_you_mean(unknown[0], names))
        for name in given:
            if name in by_name and by_name[name] != arg:
                raise LearnloopError(f"decide_columns: column {name!r} is named in both {by_name[name]}= and "
                                     f"{arg}=; name it in one.")
            if name == target and arg != "keep_out":
                raise LearnloopError(f"decide_columns: {name!r} is the target, so it is not a feature; remove it "
                                     f"from {arg}=.")
            by_name[name] = arg
        if arg == "keep_out":
            out["keep_out"] = given
    out.update({name: arg for name, arg in by_name.items() if arg != "keep_out"})
    return out


def _did_you_mean(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(str(name), [str(n) for n in names], n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


def _refuse_missing(columns: dict, target, decisions: list[ColumnDecision]) -> None:
    gaps = {d.name: d.missing for d in decisions if d.missing and d.kind != "dropped"}
    if target is not None:
        n_target = int(missing_mask(columns[target]).sum())
        if n_target:
            gaps[target] = n_target
    if not gaps:
        return
    rows = np.zeros(len(columns[next(iter(gaps))]), dtype=bool)
    for name in gaps:
        rows |= missing_mask(columns[name])
    detail = ", ".join(f"{name} ({n})" for name, n in gaps.items())
    raise LearnloopError(
        f"Missing values in {len(gaps)} column{'s' * (len(gaps) > 1)}: {detail}; {int(rows.sum())} of {len(rows)} "
        f"rows are affected. Pass --missing drop to drop those rows, or --missing impute to fill them (median plus "
        f"a missing-indicator column for numbers, a 'missing' category for text).")


def missing_mask(values: Array) -> Array:
    """(n,) bool: missing values of a column as ``read_table`` / ``as_columns`` make it (NaN in numbers, None in
    text)."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype == object:
        return np.equal(values, None)
    return np.zeros(len(values), dtype=bool)


# ---- one column -------------------------------------------------------------------------------------------------
def _decide(name: str, values: Array, override: str | None) -> ColumnDecision:
    values = np.asarray(values)
    if values.ndim != 1:
        raise LearnloopError(f"decide_columns: column {name!r} has shape {values.shape}; expected one value per row.")
    text = values.dtype == object or values.dtype.kind in "US"
    parse = None
    if text and override in (None, "numeric"):
        from learnloop.layers._number_text import describe, detect, parse_column

        parse = detect(values)
        if parse is not None:
            example = next(v for v in values.tolist() if v is not None)
            values, text = parse_column(values, parse, name), False
    stats = _text_stats(values) if text else _number_stats(values)
    distinct, n_missing, n = stats["distinct"], stats["missing"], len(values)

    def decision(kind: str, reason: str, num_bins: int | None = None) -> ColumnDecision:
        if parse is not None and kind == "numeric":
            reason = f"{reason}; read from text such as {example!r:.30}: {describe(parse)}"
        return ColumnDecision(name, kind, reason, distinct, n_missing, num_bins, parse if kind == "numeric" else None)

    if override == "drop":
        return decision("dropped", "dropped (asked for)")
    if override == "categorical":
        return decision("categorical", f"categorical (asked for): {_values(distinct)}, one-hot plus a slot for "
                                       f"values not seen in training")
    if override == "numeric":
        if text:
            _check_numbers(name, values)
        return decision("numeric", "numeric (asked for)")
    if distinct == 0:
        return decision("dropped", "dropped: every value is missing")
    if distinct == 1:
        extra = f"; {n_missing} missing" if n_missing else ""
        return decision("dropped", f"dropped: constant (every value is {stats['example']!r}{extra})")
    if text:
        return _decide_text(name, values, stats, n, decision)
    if parse is not None and parse["kind"] == "date":
        # a date unique per row and increasing is a time line (a trend), not a row number: kept
        return decision("numeric", f"numeric ({_values(distinct)}, {_span(stats)})")
    return _decide_number(name, stats, n, decision)


def _span(stats: dict) -> str:
    from datetime import date, timedelta

    low, high = (date(1970, 1, 1) + timedelta(days=int(np.floor(stats[k]))) for k in ("low", "high"))
    return f"{low.isoformat()}..{high.isoformat()}"


def _decide_number(name: str, stats: dict, n: int, decision) -> ColumnDecision:
    distinct, present = stats["distinct"], n - stats["missing"]
    if stats["integral"] and distinct == present and present >= ID_MIN_ROWS:
        if stats["high"] - stats["low"] == present - 1:
            return decision("dropped", f"dropped: whole numbers {stats['low']:.0f}..{stats['high']:.0f}, each "
                                       f"once (a row number or id)")
        if stats["monotonic"]:
            return decision("dropped", "dropped: whole numbers unique in every row and increasing row by row "
                                       "(an id or a row number)")
    if stats["integral"] and distinct <= CODE_MAX_LEVELS and distinct > 2:
        return decision("numeric", f"numeric; whole numbers with only {distinct} values ({stats['low']:.0f}.."
                                   f"{stats['high']:.0f}): if they are codes rather than amounts, pass "
                                   f"--categorical {name}")
    if stats["integral"] and distinct == present and present >= ID_MIN_ROWS:
        return decision("numeric", f"numeric; whole numbers unique in every row: if they are ids, pass --drop "
                                   f"{name}")
    return decision("numeric", f"numeric ({_values(distinct)})")


def _decide_text(name: str, values: Array, stats: dict, n: int, decision) -> ColumnDecision:
    distinct, present = stats["distinct"], n - stats["missing"]
    if distinct <= CATEGORICAL_MAX_LEVELS and (distinct <= FEW_LEVELS or distinct * MIN_ROWS_PER_LEVEL <= present):
        return decision("categorical", f"categorical: text with {_values(distinct)}, one-hot plus a slot for "
                                       f"values not seen in training")
    words = _median_words(values)
    free_text = words >= FREE_TEXT_MIN_WORDS
    if present >= ID_MIN_ROWS and distinct >= ID_MIN_SHARE * present:
        share = "unique in every row" if distinct == present else f"{distinct / present:.0%} distinct"
        if free_text:
            return decision("dropped", f"dropped: free text ({share}, a median of {words:g} words); vectorize it "
                                       f"(bag of words, TF-IDF) to use its words")
        return decision("dropped", f"dropped: text {share} (an id)")
    bins = hash_bins(distinct, present)
    if free_text:
        return decision("hashed", f"hashed into {bins} bins: free text with {_values(distinct)} (a median of "
                                  f"{words:g} words); vectorize it (bag of words, TF-IDF) to use its words", bins)
    why = f"more than {CATEGORICAL_MAX_LEVELS}" if distinct > CATEGORICAL_MAX_LEVELS else \
        f"fewer than {MIN_ROWS_PER_LEVEL} rows per value"
    return decision("hashed", f"hashed into {bins} bins: text with {_values(distinct)} ({why})", bins)


def hash_bins(distinct: int, rows: int) -> int:
    """Bins for a hashed column: ~2 per distinct value, >= MIN_ROWS_PER_LEVEL rows per bin, a power of two in
    [HASH_MIN_BINS, HASH_MAX_BINS]."""
    by_values = 1 << int(np.ceil(np.log2(max(2 * distinct, 1))))
    by_rows = 1 << int(np.floor(np.log2(max(rows // MIN_ROWS_PER_LEVEL, 1))))
    return int(np.clip(min(by_values, by_rows), HASH_MIN_BINS, HASH_MAX_BINS))


def _values(distinct: int) -> str:
    return f"{distinct:,} distinct value{'s' * (distinct != 1)}"


def _check_numbers(name: str, values: Array) -> None:
    present = ~missing_mask(values)
    try:
        values[present].astype(np.float64)
    except (TypeError, ValueError):
        for i in np.flatnonzero(present):
            try:
                float(values[i])
            except (TypeError, ValueError):
                raise LearnloopError(f"decide_columns: numeric= names {name!r}, but its value {values[i]!r} (row "
                                     f"{i + 1}) is not a number.") from None


# ---- statistics -------------------------------------------------------------------------------------------------
def _number_stats(values: Array) -> dict:
    x = values.astype(np.int64) if values.dtype.kind == "b" else values
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        n_missing = int(nan.sum())
        if n_missing:
            x = x[~nan]
    else:
        n_missing = 0
    stats = {"missing": n_missing, "distinct": 0, "integral": False, "monotonic": False, "example": None}
    if not len(x):
        return stats
    low, high = x.min(), x.max()
    stats.update(low=float(low), high=float(high), example=x[0].item())
    integral = x.dtype.kind in "iub" or (np.isfinite(low) and np.isfinite(high) and bool(np.all(np.floor(x) == x)))
    stats["integral"] = integral
    if low == high:
        stats["distinct"] = 1
    elif integral and high - low < 4 * len(x) + 1024:        # a counting pass beats sorting
        stats["distinct"] = int(np.count_nonzero(np.bincount((x - low).astype(np.int64))))
    else:
        ordered = np.sort(x)
        stats["distinct"] = 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))
    if integral and stats["distinct"] == len(x):
        steps = np.diff(x)
        stats["monotonic"] = bool((steps > 0).all() or (steps < 0).all())
    return stats


def _text_stats(values: Array) -> dict:
    """Missing and distinct counts of a text column. Distinct values are counted on their 64-bit hashes (Python
    caches a string's hash; sorting 1M integers is 10x faster than building a set of 1M strings); two strings with
    the same hash are one chance in 2^64 per pair."""
    if values.dtype.kind in "US":
        values = values.astype(object)
    missing = np.equal(values, None)
    n_missing = int(missing.sum())
    present = values[~missing] if n_missing else values
    if not len(present):
        return {"missing": n_missing, "distinct": 0, "example": None}
    hashes = np.sort(np.fromiter(map(hash, present.tolist()), dtype=np.int64, count=len(present)))
    distinct = 1 + int(np.count_nonzero(hashes[1:] != hashes[:-1]))
    return {"missing": n_missing, "distinct": distinct, "example": present[0]}


def _median_words(values: Array) -> float:
    step = max(len(values) // FREE_TEXT_SAMPLE, 1)
    sample = [v for v in values[::step][:FREE_TEXT_SAMPLE].tolist() if v is not None]
    return float(np.median([len(str(v).split()) for v in sample])) if sample else 0.0
