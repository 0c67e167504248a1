"""Read the tables people bring: delimited text of any extension and encoding, Parquet, Arrow IPC / Feather.

``read_table(path)`` returns a :class:`Table`: named 1-D columns (numbers as float64, or int64 when every value is
an integer and none is missing; text as ``str`` with ``None`` for missing), and one note per decision made while
reading (encoding, delimiter, header, skipped lines, renamed columns, trimmed spaces, missing values).

Text files are parsed by pyarrow's multithreaded CSV reader; only their first 64 KiB are looked at in Python, to
decide the encoding, the delimiter, the banner lines and the header (``learnloop.data._sniff``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from learnloop._columns import arrow_column, arrow_text
from learnloop.data._sniff import (
    MISSING_TOKENS,
    SAMPLE_BYTES,
    WHITESPACE,
    Layout,
    column_names,
    decode_sample,
    decodes,
    detect_encoding,
    first_undecodable,
    given_codec,
    layout,
    raise_undecodable,
)
from learnloop.errors import LearnloopError

PARQUET = (".parquet", ".pq")
ARROW_IPC = (".arrow", ".feather", ".ipc")
# pyarrow matches null values exactly, so every capitalisation of the tokens is listed (NA, Na, nA, na, ...);
# padded tokens (" ?") are caught after trimming.
_INTEGER = r"^[-+]?\d{1,18}$"                               # fits in int64
_FLOAT = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(?i:inf|infinity)$"
_DECIMAL_COMMA = r"^[-+]?(\d+,?\d*|,\d+)([eE][-+]?\d+)?$"
_MISSING = "^(" + "|".join(re.escape(t) for t in MISSING_TOKENS) + ")$"
_NULL_SPELLINGS = sorted({"".join(chars) for token in MISSING_TOKENS
                          for chars in itertools.product(*({c.lower(), c.upper()} for c in token))})


@dataclass
class Table:
    """Columns read from a file, and how they were read.

    Attributes:
        columns: name -> (n_rows,) array: float64 / int64 numbers (NaN for missing), object text (None missing).
        path: the file read.
        notes: one sentence per decision made while reading, for the report.
        n_rows: number of rows.
    """

    columns: dict[str, np.ndarray]
    path: Path
    notes: list[str] = field(default_factory=list)
    n_rows: int = 0


def read_table(path, *, encoding: str | None = None, delimiter: str | None = None, header: bool | str = "auto",
               names: list[str] | None = None) -> Table:
    """Read a delimited text file (.csv, .tsv, .txt, .data, any extension), a Parquet or an Arrow IPC file.

    Args:
        path: the file.
        encoding: Python codec name; default: detected (byte-order mark, then UTF-8, then cp1252 / latin-1).
        delimiter: one character, or ``"whitespace"`` for runs of spaces; default: sniffed among , tab ; | space
            and runs of spaces.
        header: ``"auto"`` (detected), ``True`` (the first table line names the columns) or ``False``.
        names: column names to use; they replace the file's header when it has one.

    Returns:
        a :class:`Table`.
    """
    path = Path(path)
    if path.is_dir():
        raise LearnloopError(f"No data file at {path}: it is a folder; pass the path of a file in it.")
    if not path.is_file():
        raise LearnloopError(f"No data file at {path}.")
    if header not in ("auto", True, False):
        raise LearnloopError(f"read_table: header must be 'auto', True or False; got {header!r}.")
    suffix = path.suffix.lower()
    if suffix in PARQUET or suffix in ARROW_IPC:
        return _read_arrow_file(path, suffix, names)
    return _read_text(path, encoding, delimiter, header, names)


# ---- Parquet and Arrow IPC -------------------------------------------------------------------------------------
def _read_arrow_file(path: Path, suffix: str, names: list[str] | None) -> Table:
    import pyarrow as pa

    try:
        if suffix in PARQUET:       # ParquetFile, not pq.read_table: that one imports pyarrow.dataset, and pandas
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            table = parquet.read()
            notes = [f"read Parquet ({parquet.metadata.num_row_groups} row groups)"]
        else:
            import pyarrow.ipc as ipc

            with pa.memory_map(str(path)) as source:
                table = ipc.open_file(source).read_all()
            notes = ["read Arrow IPC / Feather"]
    except (pa.ArrowException, OSError) as err:
        raise LearnloopError(f"{path}: not a readable {suffix[1:]} file ({err}).") from None
    if names is not None:
        _check_names(names, table.num_columns, path)
        table = table.rename_columns(list(names))
        notes.append("columns named by names=")
    if table.num_rows == 0:
        raise LearnloopError(f"{path} has columns {table.column_names[:10]} but no rows.")
    columns = {name: arrow_column(table.column(i), f"{path}: column {name!r}")
               for i, name in enumerate(table.column_names)}
    return Table(columns, path, notes, table.num_rows)


# ---- delimited text --------------------------------------------------------------------------------------------
def _read_text(path: Path, encoding, delimiter, header, names) -> Table:
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    complete = len(head) == size
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise LearnloopError(f"{path} is empty: expected a table of values separated by commas, tabs, ...")
    notes: list[str] = []
    given = encoding is not None
    if not given:
        encoding, why = detect_encoding(head, complete)
        notes.append(why)
    else:
        encoding = given_codec(encoding, head, path)
        notes.append(f"encoding {encoding} (given)")
    if delimiter is not None and delimiter != WHITESPACE and len(delimiter) != 1:
        raise LearnloopError(f"read_table: delimiter must be one character or 'whitespace'; got {delimiter!r}.")
    text = decode_sample(head, encoding, complete)
    lay = layout(text, delimiter, header)
    notes += lay.notes
    if lay.n_fields == 0:
        raise LearnloopError(f"{path} has no values, only empty lines.")
    names, name_notes = _names(lay, names, path)
    notes += name_notes

    source = _source(path, encoding, lay.delimiter)
    table, bad_utf8 = _parse(source, path, lay, names)
    if bad_utf8 and encoding == "utf-8" and not given:
        offset = first_undecodable(path, "utf-8")
        encoding = "cp1252" if decodes(path, "cp1252") else "latin-1"
        notes[0] = (f"encoding {encoding}: the first 64 KiB are UTF-8, but byte {offset} is not; pass --encoding "
                    f"if accented letters look wrong")
        table, _ = _parse(_source(path, encoding, lay.delimiter), path, lay, names)
    elif bad_utf8:
        raise_undecodable(path, encoding, first_undecodable(path, encoding))
    if table.num_rows == 0:
        raise LearnloopError(f"{path} has a header line ({', '.join(names[:8])}) but no data rows.")
    columns, column_notes = _to_columns(table, lay.delimiter, path)
    notes += column_notes
    unnamed = lay.header is None or not lay.header[-1]
    if unnamed and names[-1] == f"column_{len(names)}" and len(columns) > 1 and _empty(columns[names[-1]]):
        del columns[names[-1]]
        notes.append("dropped the last column: it is empty on every line (the lines end with the delimiter)")
    return Table(columns, path, notes, table.num_rows)


def _names(lay: Layout, names, path: Path) -> tuple[list[str], list[str]]:
    if names is None:
        return column_names(lay.header, lay.n_fields)
    names = [str(n) for n in names]
    _check_names(names, lay.n_fields, path)
    if lay.header is not None:
        return names, [f"the header line's names replaced by names= ({', '.join(lay.header[:5])}"
                       f"{', ...' if len(lay.header) > 5 else ''})"]
    return names, []


def _check_names(names, n_fields: int, path: Path) -> None:
    if len(names) != n_fields:
        raise LearnloopError(f"{path}: names= gives {len(names)} names but the table has {n_fields} columns.")
    if len(set(names)) != len(names):
        raise LearnloopError(f"{path}: names= repeats {sorted({n for n in names if list(names).count(n) > 1})}.")


def _source(path: Path, encoding: str, delimiter: str):
    """What pyarrow reads: the file itself when it is UTF-8 as it stands, else UTF-8 bytes made from it."""
    import pyarrow as pa

    if encoding in ("utf-8", "utf-8-sig") and delimiter != WHITESPACE:
        return str(path)
    data = path.read_bytes()
    if encoding not in ("utf-8", "utf-8-sig"):
        try:
            data = data.decode(encoding).encode("utf-8")
        except UnicodeDecodeError as err:
            raise_undecodable(path, encoding, err.start)
    if delimiter == WHITESPACE:
        data = _collapse_whitespace(data)
    return pa.BufferReader(data)


def _collapse_whitespace(data: bytes) -> bytes:
    """Runs of spaces and tabs as one space, none at the start or end of a line (vectorized over the bytes)."""
    b = np.frombuffer(data, dtype=np.uint8).copy()
    b[b == 0x09] = 0x20
    space = b == 0x20
    b = b[~(space & np.concatenate(([False], space[:-1])))]        # one space per run
    space = b == 0x20
    edge = (b == 0x0A) | (b == 0x0D)
    line_start = np.concatenate(([True], edge[:-1]))
    line_end = np.concatenate((edge[1:], [True]))
    return b[~(space & (line_start | line_end))].tobytes()


def _parse(source, path: Path, lay: Layout, names: list[str]):
    """(pyarrow Table, whether some text is not UTF-8)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    bad_rows = []

    def on_bad_row(row):
        bad_rows.append(row)
        return "error"

    def read(newlines_in_values: bool):
        if isinstance(source, pa.BufferReader):
            source.seek(0)
        return pcsv.read_csv(
            source,
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=lay.skip_lines, block_size=1 << 22),
            parse_options=pcsv.ParseOptions(delimiter=" " if lay.delimiter == WHITESPACE else lay.delimiter,
                                            quote_char='"' if lay.quoting else False, double_quote=True,
                                            newlines_in_values=newlines_in_values, invalid_row_handler=on_bad_row),
            convert_options=pcsv.ConvertOptions(null_values=_NULL_SPELLINGS, strings_can_be_null=True,
                                                quoted_strings_can_be_null=True, true_values=[], false_values=[]))

    try:
        try:
            table = read(lay.quoted)
        except pa.ArrowInvalid:
            if lay.quoted or not lay.quoting or not bad_rows:
                raise
            bad_rows.clear()    # a quoted newline after the sample: read again, quote-aware
            table = read(True)
    except pa.ArrowInvalid as err:
        if bad_rows:
            _raise_ragged(path, source, bad_rows[0], lay)
        raise LearnloopError(f"{path}: could not be read as a table ({err}).") from None
    bad_utf8 = any(pa.types.is_binary(c.type) or pa.types.is_large_binary(c.type) for c in table.columns)
    return table, bad_utf8


def _raise_ragged(path: Path, source, row, lay: Layout):
    text = row.text or ""
    line = "?"
    if isinstance(source, str):
        data = path.read_bytes()
    else:
        source.seek(0)
        data = source.read()
    where = data.find(text.encode("utf-8")) if text else -1
    if where >= 0:
        line = data.count(b"\n", 0, where) + 1 if b"\n" in data else data.count(b"\r", 0, where) + 1
    delim = {"\t": "tab", " ": "space", WHITESPACE: "runs of spaces"}.get(lay.delimiter, repr(lay.delimiter))
    raise LearnloopError(f"{path}: line {line} has {row.actual_columns} fields where the table has "
                         f"{row.expected_columns} ({text[:60]!r}); the delimiter used is {delim}: fix that line, or "
                         f"pass the delimiter if it is another one.")


def _empty(values: np.ndarray) -> bool:
    if values.dtype == object:
        return all(v is None for v in values)
    return values.dtype.kind == "f" and bool(np.isnan(values).all())


# ---- Arrow columns to NumPy ------------------------------------------------------------------------------------
def _to_columns(table, delimiter: str, path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """NumPy columns from pyarrow's, trimming text and reading the missing tokens that padding hid."""
    import pyarrow as pa

    if any(pa.types.is_temporal(t) for t in table.schema.types):   # pyarrow parsed ISO dates: keep them as text
        table = table.cast(pa.schema([pa.field(f.name, pa.string()) if pa.types.is_temporal(f.type) else f
                                      for f in table.schema]))
    columns, trimmed, decimal_comma, missing = {}, [], [], {}
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            values, was_trimmed, comma = _text_column(col, delimiter == ";")
            trimmed += [name] * was_trimmed
            decimal_comma += [name] * comma
        else:
            values = arrow_column(col, f"{path}: column {name!r}")
        n_missing = int(np.isnan(values).sum()) if values.dtype.kind == "f" else \
            int(np.equal(values, None).sum()) if values.dtype == object else 0
        if n_missing:
            missing[name] = n_missing
        columns[name] = values
    notes = []
    if trimmed:
        notes.append(f"trimmed spaces around the values of {_list(trimmed)}")
    if decimal_comma:
        notes.append(f"read decimal commas (1,5 as 1.5) in {_list(decimal_comma)}: the file is ';'-separated")
    if missing:
        notes.append(f"missing values (empty, ?, NA, N/A, nan, null, none) in {len(missing)} column"
                     f"{'s' * (len(missing) > 1)}: " + ", ".join(f"{n} ({k})" for n, k in missing.items()))
    return columns, notes


def _list(names: list[str]) -> str:
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return f"{len(names)} column{'s' * (len(names) > 1)} ({shown})"


def _text_column(col, decimal_comma: bool) -> tuple[np.ndarray, bool, bool]:
    """(values, whether spaces were trimmed, whether decimal commas were read) of an Arrow string column.

    Trimmed, with the missing tokens made null; numbers when every other value parses as one (pyarrow leaves a
    numeric column as text when a padded token such as " ?" sits in it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(col)
    was_trimmed = pc.sum(pc.utf8_length(col)).as_py() != pc.sum(pc.utf8_length(trimmed)).as_py()
    missing = pc.match_substring_regex(trimmed, _MISSING, ignore_case=True)
    values = pc.if_else(missing, pa.nulls(len(trimmed), trimmed.type), trimmed) if pc.any(missing).as_py() \
        else trimmed
    if values.null_count == len(values):
        return np.full(len(values), np.nan), was_trimmed, False
    # Checked by pattern before casting: a failed pyarrow cast costs a whole scan, and its error path imports pandas.
    head = values.slice(0, 256)     # most text columns fail on their first values: skip the full scan then

    def all_match(pattern: str) -> bool:
        return all(pc.all(pc.match_substring_regex(v, pattern)).as_py() is not False for v in (head, values))

    for pattern, kind in ((_INTEGER, pa.int64()), (_FLOAT, pa.float64())):
        if all_match(pattern):
            return arrow_column(pc.cast(values, kind), ""), was_trimmed, False
    if decimal_comma and all_match(_DECIMAL_COMMA):
        return arrow_column(pc.cast(pc.replace_substring(values, ",", "."), pa.float64()), ""), was_trimmed, True
    return arrow_text(values), was_trimmed, False


# ---- writing (tests and benchmarks) ----------------------------------------------------------------------------
def write_table(columns: dict[str, np.ndarray], path) -> Path:
    """Write columns as CSV (any other suffix; .tsv with tabs), Parquet (.parquet/.pq) or Arrow IPC (.arrow...).

    Missing values (NaN, None) are written as empty CSV fields / nulls.
    """
    import pyarrow as pa

    path = Path(path)
    table = pa.table({name: pa.array(np.asarray(values), from_pandas=True) for name, values in columns.items()})
    suffix = path.suffix.lower()
    if suffix in PARQUET:
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    elif suffix in ARROW_IPC:
        import pyarrow.feather as feather

        feather.write_feather(table, path)
    else:
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path, pcsv.WriteOptions(delimiter="\t" if suffix == ".tsv" else ","))
    return path
