"""Numbers written as text: amounts (``"$1,234.50"``, ``"12.5%"``, ``"(300)"``, ``"1.234,5 €"``) and dates
(``"2020-01-31"``, ``"01/31/2020 14:05"``, ``"31-Jan-2020"``), read as float64.

A *text format* is a small JSON dict saved with the feature that reads the column, so a served row's ``"$200.87"``
is read exactly as the training rows were:

- ``{"kind": "number", "decimal": "." | ",", "thousands": "," | "." | ""}``: currency symbols ($ € £ ¥ ₹),
  spaces and a trailing ``%`` are removed (``"12.5%"`` reads 12.5: the number as written), parentheses mean a
  negative amount, and digit groups must sit where the thousands separator puts them (``"1,23"`` is not a US amount).
- ``{"kind": "date", "format": "iso" | a strptime format}``: the number of days since 1970-01-01 (a fraction of a day
  for a time), so a date is a point on a line the network can use; month or weekday effects need columns of their own.

:func:`detect` finds a format every present value of a text column reads in (or None); :func:`parse` reads values in
one, refusing the first that does not fit with the row named. The work is vectorized with pyarrow.compute.
"""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError

Array = np.ndarray

CURRENCY = "$€£¥₹"
_STRIP = "[\\s\u00a0" + CURRENCY + "%()]"          # spaces (no-break too), currency symbols, percent, parentheses
# after stripping: an optional sign, digits grouped by the separator or not at all, decimals, an exponent
# (spaces are stripped first, so a space as thousands separator reads as none)
_NUMBER = {
    (".", ","): r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?$",
    (".", ""): r"^[+-]?\d*(?:\.\d+)?(?:[eE][+-]?\d+)?$",
    (",", "."): r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)?(?:,\d+)?$",
    (",", ""): r"^[+-]?\d*(?:,\d+)?$",
}
_NUMBER_STYLES = ((".", ","), (",", "."))      # tried in this order: "1,234" is a US amount, "12,5" a European one
_ISO = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?Z?$"
DATE_FORMATS = ("iso", "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%m/%d/%y", "%d/%m/%y", "%m/%d/%Y %H:%M",
                "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y",
                "%d %B %Y", "%B %d, %Y")
_SAMPLE = 1000
SECONDS_PER_DAY = 86_400


def check_format(spec, where: str = "text format") -> dict:
    """``spec`` if it is a text format this module reads (a saved file's included), else a LearnloopError."""
    if not isinstance(spec, dict):
        raise LearnloopError(f"{where}: expected a dict such as {{'kind': 'number', 'decimal': '.', 'thousands': "
                             f"','}}; got {spec!r:.80}.")
    kind = spec.get("kind")
    if kind == "number" and set(spec) == {"kind", "decimal", "thousands"} and \
            (spec["decimal"], spec["thousands"]) in _NUMBER:
        return dict(spec)
    if kind == "date" and set(spec) == {"kind", "format"} and spec["format"] in DATE_FORMATS:
        return dict(spec)
    raise LearnloopError(f"{where}: {spec!r:.120} is not a text format learnloop reads: expected {{'kind': 'number', "
                         f"'decimal': '.' or ',', 'thousands': ',', '.' or ''}} or {{'kind': 'date', 'format': "
                         f"one of {list(DATE_FORMATS)}}}.")


def describe(spec: dict) -> str:
    """A few words for a report: ``numbers written as text (decimal '.', comma thousands separator; ...)`` or
    ``dates, as days since 1970-01-01 (format %m/%d/%Y)``."""
    if spec["kind"] == "date":
        return "dates, as days since 1970-01-01" + ("" if spec["format"] == "iso" else f" (format {spec['format']})")
    separator = {",": "comma", ".": "point", "": "no"}[spec["thousands"]]
    return f"numbers written as text (decimal {spec['decimal']!r}, {separator} thousands separator; currency " \
           f"symbols, '%' and spaces removed; parentheses negative)"


# ---- detection -----------------------------------------------------------------------------------------------
def detect(values: Array) -> dict | None:
    """The text format every present value of a text column reads in, or None (also for a column of codes with
    leading zeros such as ZIP codes, which stay text). Tried on the first 1,000 present values, then on all."""
    text = _arrow_text(values)
    if text is None:
        return None
    present = text.drop_null()
    if len(present) == 0:
        return None
    sample = present.slice(0, _SAMPLE)
    for spec in _candidates(sample):
        if _reads_all(sample, spec) and _reads_all(present, spec):
            return spec
    return None


def _candidates(sample):
    import pyarrow.compute as pc

    stripped = pc.replace_substring_regex(sample, _STRIP, "")
    if not pc.any(pc.match_substring_regex(stripped, r"\d")).as_py():
        return
    if not pc.any(pc.match_substring_regex(stripped, r"^[+-]?0\d")).as_py():      # leading zeros: codes
        for decimal, thousands in _NUMBER_STYLES:
            yield {"kind": "number", "decimal": decimal, "thousands": thousands}
    for fmt in DATE_FORMATS:
        yield {"kind": "date", "format": fmt}


def _reads_all(text, spec: dict) -> bool:
    try:
        _parse_arrow(text, spec)
    except LearnloopError:
        return False
    return True


# ---- parsing ---------------------------------------------------------------------------------------------------
def parse(values: Array, spec: dict, column: str) -> tuple[Array, Array]:
    """(float64 values, missing mask) of a text column read in ``spec``; numbers pass as they are. A value that
    does not read raises a FeatureValueError naming the column and the row."""
    from learnloop.layers._features import FeatureValueError, is_missing

    if values.dtype.kind in "fiub":
        out = values.astype(np.float64)
        return out, np.isnan(out)
    text = _arrow_text(values)
    if text is not None:                               # text and missing values only: one vectorized pass
        missing = ~text.is_valid().to_numpy(zero_copy_only=False)
        try:
            return _parse_arrow(text, spec), missing
        except _Unreadable as err:
            row = err.index
            raise FeatureValueError(f"Column {column!r} holds {describe(spec)}; row {row} has {values[row]!r:.40}, "
                                    f"which does not read as one.", column, row, _expected(spec)) from None
    missing = is_missing(values)
    numbers = np.fromiter((type(v) in (int, float) or isinstance(v, (np.integer, np.floating)) for v in values),
                          dtype=bool, count=values.size) if values.dtype.kind == "O" else np.zeros(values.size, bool)
    out = np.full(values.size, np.nan)
    if numbers.any():
        out[numbers & ~missing] = values[numbers & ~missing].astype(np.float64)
    rest = ~(numbers | missing)
    if rest.any():
        strings = values[rest]
        if not all(isinstance(v, str) for v in strings.tolist()):
            row = int(np.flatnonzero(rest)[next(i for i, v in enumerate(strings.tolist()) if not isinstance(v, str))])
            raise FeatureValueError(f"Column {column!r} holds {describe(spec)}; row {row} has {values[row]!r:.40}.",
                                    column, row, _expected(spec))
        try:
            out[rest] = _parse_arrow(_arrow_text(strings.astype(object)), spec)
        except _Unreadable as err:
            row = int(np.flatnonzero(rest)[err.index])
            raise FeatureValueError(f"Column {column!r} holds {describe(spec)}; row {row} has {values[row]!r:.40}, "
                                    f"which does not read as one.", column, row, _expected(spec)) from None
    return out, missing


def parse_column(values: Array, spec: dict, column: str) -> Array:
    """(n,) float64 of a column read in ``spec``, NaN where a value is missing."""
    out, missing = parse(values, spec, column)
    out[missing] = np.nan
    return out


class _Unreadable(LearnloopError):
    def __init__(self, index: int):
        super().__init__(f"value {index} does not read")
        self.index = index


def _expected(spec: dict) -> str:
    return "a date" if spec["kind"] == "date" else "a number (or text such as '$1,234.50')"


def _arrow_text(values: Array):
    """A pyarrow string array of a column of text (None missing), or None when it holds other values."""
    import pyarrow as pa

    if values.dtype.kind in "US":
        values = values.astype(object)
    if values.dtype.kind != "O":
        return None
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _parse_arrow(text, spec: dict) -> Array:
    """float64 values of a pyarrow string array (nulls -> NaN); _Unreadable names the first value that fails."""
    import pyarrow as pa
    import pyarrow.compute as pc

    present = pc.is_valid(text)
    if spec["kind"] == "number":
        negative = pc.match_substring_regex(text, r"^\s*[-+]?\s*[" + CURRENCY + r"]?\s*\(.*\)\s*[" + CURRENCY +
                                            r"%]?\s*$")
        stripped = pc.replace_substring_regex(text, _STRIP, "")
        ok = pc.and_(pc.match_substring_regex(stripped, _NUMBER[(spec["decimal"], spec["thousands"])]),
                     pc.match_substring_regex(stripped, r"\d"))
        _check(ok, present)
        if spec["thousands"]:
            stripped = pc.replace_substring(stripped, spec["thousands"], "")
        if spec["decimal"] == ",":
            stripped = pc.replace_substring(stripped, ",", ".")
        out = pc.cast(stripped, pa.float64()).to_numpy(zero_copy_only=False)
        flip = negative.to_numpy(zero_copy_only=False)
        flip = np.asarray(np.where(np.equal(flip, None), False, flip), dtype=bool)
        return np.where(flip, -np.abs(out), out)
    if spec["format"] == "iso":
        _check(pc.match_substring_regex(text, _ISO), present)
        iso = pc.replace_substring_regex(text, "Z$", "")
        try:
            stamps = pc.cast(iso, pa.timestamp("ns"))
        except pa.ArrowInvalid:                    # well formed but not a day (2020-02-30): find it
            for i, value in enumerate(iso.to_pylist()):
                try:
                    pc.cast(pa.array([value], pa.string()), pa.timestamp("ns"))
                except pa.ArrowInvalid:
                    raise _Unreadable(i) from None
            raise
        nanos = pc.cast(stamps, pa.int64()).to_numpy(zero_copy_only=False)
        return np.asarray([np.nan if v is None else v for v in nanos] if nanos.dtype == object else nanos,
                          dtype=np.float64) / (SECONDS_PER_DAY * 1e9)
    stamps = pc.strptime(pc.utf8_trim_whitespace(text), format=spec["format"], unit="s", error_is_null=True)
    _check(pc.is_valid(stamps), present)
    seconds = pc.cast(stamps, pa.int64()).to_numpy(zero_copy_only=False)
    seconds = np.asarray([np.nan if v is None else v for v in seconds] if seconds.dtype == object else seconds,
                         dtype=np.float64)
    return seconds / SECONDS_PER_DAY


def _check(ok, present) -> None:
    """_Unreadable at the first present value that is not ``ok`` (a null ``ok`` on a present value fails too)."""
    import pyarrow.compute as pc

    good = pc.fill_null(ok, False).to_numpy(zero_copy_only=False)
    there = present.to_numpy(zero_copy_only=False)
    bad = there & ~good.astype(bool)
    if bad.any():
        raise _Unreadable(int(np.argmax(bad)))
