"""A table file read block by block in bounded memory, with ``read_table``'s rules: Parquet (by row group), Arrow IPC
(by record batch) and delimited text (pyarrow's streaming CSV reader, after the same sniffing of encoding, delimiter,
banner lines and header that ``read_table`` does on the first 64 KiB).

Columns come as ``read_table`` gives them (numbers as float64 / int64 with NaN for missing, text as ``str`` with
``None``), decided block by block. Columns asked for as ``numeric`` are read value by value instead: a value that is
not a number (after trimming; missing tokens are NaN) becomes NaN and is flagged in ``Block.invalid``, so that one bad
value costs one row, not the whole column.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from learnloop._columns import arrow_column
from learnloop.data._sniff import SAMPLE_BYTES, WHITESPACE, decode_sample, detect_encoding, given_codec, layout
from learnloop.errors import LearnloopError

PARQUET = (".parquet", ".pq")
ARROW_IPC = (".arrow", ".feather", ".ipc")
TEXT_CHUNK = 1 << 23            # bytes of text parsed at a time


@dataclass
class Block:
    """Rows ``start`` .. ``start + n - 1`` of the table (data rows counted from 0).

    Attributes:
        columns: name -> (n,) values.
        invalid: numeric column -> (n,) bool, True where the file holds something that is not a number.
        text: numeric column -> the file's text of its values (object array), to quote a bad value.
        raw: the columns asked for as they were read (pyarrow arrays: a text file's values as text).
    """

    start: int
    n: int
    columns: dict[str, np.ndarray]
    invalid: dict[str, np.ndarray] = field(default_factory=dict)
    text: dict[str, np.ndarray] = field(default_factory=dict)
    raw: dict = field(default_factory=dict)


class TableStream:
    """A table file opened for reading in blocks.

    Args:
        path: a Parquet, Arrow IPC / Feather or delimited text file (any extension).
        encoding, delimiter, header: as for :func:`~learnloop.data.tables.read_table` (text files).
        names: column names for a text file without a header line (replacing ``column_1``, ...) when their number
            matches its fields.
        skip_ragged: skip the text lines whose field count differs from the table's (listed in ``ragged``)
            instead of raising.

    Attributes:
        names: the columns, in file order.
        num_rows: data rows, when the file says (Parquet, Arrow); ``None`` for text.
        notes: how a text file was read.
    """

    def __init__(self, path, *, encoding: str | None = None, delimiter: str | None = None, header="auto",
                 names: list[str] | None = None, skip_ragged: bool = False):
        self.path = Path(path)
        self.skip_ragged = skip_ragged
        self.ragged: list[tuple] = []      # (line or None, text, fields, fields expected) of each ragged line
        if not self.path.is_file():
            raise LearnloopError(f"No data file at {self.path}.")
        suffix = self.path.suffix.lower()
        self.kind = "parquet" if suffix in PARQUET else "arrow" if suffix in ARROW_IPC else "text"
        self.notes: list[str] = []
        self.num_rows: int | None = None
        if self.kind == "parquet":
            import pyarrow.parquet as pq

            try:
                self._parquet = pq.ParquetFile(self.path)
            except Exception as err:           # pyarrow raises several types for a file that is not Parquet
                raise LearnloopError(f"{self.path}: not a readable Parquet file ({err}).") from None
            self.names = self._parquet.schema_arrow.names
            self.num_rows = self._parquet.metadata.num_rows
        elif self.kind == "arrow":
            import pyarrow as pa
            import pyarrow.ipc as ipc

            try:
                self._ipc = ipc.open_file(pa.memory_map(str(self.path)))
            except (pa.ArrowException, OSError) as err:
                raise LearnloopError(f"{self.path}: not a readable Arrow IPC file ({err}).") from None
            self.names = self._ipc.schema.names
            self.num_rows = sum(self._ipc.get_batch(i).num_rows for i in range(self._ipc.num_record_batches))
        else:
            self._sniff_text(encoding, delimiter, header, names)

    def _sniff_text(self, encoding, delimiter, header, names) -> None:
        with self.path.open("rb") as f:
            head = f.read(SAMPLE_BYTES)
        complete = len(head) < SAMPLE_BYTES or self.path.stat().st_size == len(head)
        if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
            raise LearnloopError(f"{self.path} is empty: expected a table of values separated by commas, tabs, ...")
        if encoding is None:
            encoding, why = detect_encoding(head, complete)
        else:
            encoding, why = given_codec(encoding, head, self.path), f"encoding {encoding} (given)"
        self.encoding = encoding
        self.notes.append(why)
        if delimiter is not None and delimiter != WHITESPACE and len(delimiter) != 1:
            raise LearnloopError(f"{self.path}: the delimiter must be one character or 'whitespace'; got "
                                 f"{delimiter!r}.")
        self.layout = layout(decode_sample(head, encoding, complete), delimiter, header)
        self.notes += self.layout.notes
        if self.layout.n_fields == 0:
            raise LearnloopError(f"{self.path} has no values, only empty lines.")
        from learnloop.data.tables import _names

        use = names if names is not None and self.layout.header is None and \
            len(names) == self.layout.n_fields else None
        self.names, more = _names(self.layout, use, self.path)
        self.notes += more

    # ---- blocks ----------------------------------------------------------------------------------------------
    def blocks(self, columns: list[str], block_rows: int = 65536, numeric=(), raw=()) -> Iterator[Block]:
        """The file's rows in blocks of about ``block_rows``, with the ``columns`` asked for.

        Args:
            columns: the columns to read (each must be in :attr:`names`).
            block_rows: rows per block (text files give blocks of about this many).
            numeric: columns to read value by value as numbers (see the module docstring).
            raw: columns to keep as pyarrow arrays (``Block.raw``), e.g. an id to copy as it is.
        """
        wanted = list(dict.fromkeys([*columns, *raw]))
        missing = [c for c in wanted if c not in self.names]
        if missing:
            raise LearnloopError(f"{self.path} has no column {missing[0]!r}; its columns are {self.names}.")
        numeric = set(numeric)
        start = 0
        for table in self._tables(wanted, int(block_rows)):
            block = Block(start, table.num_rows, {}, raw={name: table.column(name) for name in raw})
            for name in columns:
                col = table.column(name)
                if name in numeric:
                    values, invalid, text = _numbers(col, self.kind == "text" and self.layout.delimiter == ";")
                    block.columns[name] = values
                    if invalid is not None:
                        block.invalid[name], block.text[name] = invalid, text
                else:
                    block.columns[name] = self._values(col, name)
            start += table.num_rows
            yield block

    def _values(self, col, name: str) -> np.ndarray:
        if self.kind != "text":
            return arrow_column(col, f"{self.path}: column {name!r}")
        from learnloop.data.tables import _text_column

        return _text_column(col, self.layout.delimiter == ";")[0]

    def _tables(self, columns: list[str], block_rows: int):
        if self.kind == "parquet":               # whole row groups read faster than iter_batches' slices
            for group in range(self._parquet.metadata.num_row_groups):
                table = self._parquet.read_row_group(group, columns=columns)
                for offset in range(0, table.num_rows, block_rows):
                    yield table.slice(offset, block_rows)
                del table
        elif self.kind == "arrow":
            import pyarrow as pa

            for i in range(self._ipc.num_record_batches):
                batch = self._ipc.get_batch(i).select(columns)
                for offset in range(0, batch.num_rows, block_rows):
                    yield pa.Table.from_batches([batch.slice(offset, block_rows)])
        elif self.layout.delimiter == WHITESPACE:
            yield from self._whitespace_tables(columns, block_rows)
        else:
            yield from self._csv_tables(columns, block_rows)

    def _options(self, columns: list[str], delimiter: str):
        import pyarrow as pa
        import pyarrow.csv as pcsv

        from learnloop.data.tables import _NULL_SPELLINGS

        return (pcsv.ParseOptions(delimiter=delimiter, quote_char='"' if self.layout.quoting else False,
                                  double_quote=True, newlines_in_values=self.layout.quoted,
                                  invalid_row_handler=self._ragged),
                pcsv.ConvertOptions(column_types={c: pa.string() for c in columns}, include_columns=columns,
                                    null_values=_NULL_SPELLINGS, strings_can_be_null=True,
                                    quoted_strings_can_be_null=True))

    def _ragged(self, row) -> str:
        """pyarrow's handler for a line with too many or too few fields: skip it, or stop (raised after)."""
        self.ragged.append((row.number, row.text or "", row.actual_columns, row.expected_columns))
        return "skip" if self.skip_ragged else "error"

    def _raise_ragged(self, err) -> None:
        if not self.ragged or self.skip_ragged:
            raise LearnloopError(f"{self.path}: could not be read as a table ({err}).") from None
        line, text, got, expected = self.ragged[-1]
        where = f"line {line}" if line is not None else "a line"
        raise LearnloopError(f"{self.path}: {where} has {got} fields where the table has {expected} "
                             f"({text[:60]!r}); fix that line, or skip such lines.") from None

    def _csv_tables(self, columns: list[str], block_rows: int):
        import pyarrow as pa
        import pyarrow.csv as pcsv

        parse, convert = self._options(columns, self.layout.delimiter)
        encoding = "utf8" if self.encoding in ("utf-8", "utf-8-sig") else self.encoding
        read = pcsv.ReadOptions(column_names=self.names, skip_rows=self.layout.skip_lines, encoding=encoding,
                                block_size=max(1 << 16, min(block_rows * 64, 1 << 24)), use_threads=False)
        try:
            reader = pcsv.open_csv(str(self.path), read_options=read, parse_options=parse, convert_options=convert)
            pending, held = [], 0
            for batch in reader:
                pending.append(batch)
                held += batch.num_rows
                if held >= block_rows:
                    yield pa.Table.from_batches(pending)
                    pending, held = [], 0
            if pending:
                yield pa.Table.from_batches(pending)
        except pa.ArrowInvalid as err:
            self._raise_ragged(err)

    def _whitespace_tables(self, columns: list[str], block_rows: int):
        """Runs of spaces as one delimiter: the text is collapsed chunk by chunk (whole lines), then parsed."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        from learnloop.data.tables import _collapse_whitespace

        parse, convert = self._options(columns, " ")
        read = pcsv.ReadOptions(column_names=self.names, use_threads=False)
        decoder = codecs.getincrementaldecoder(self.encoding)()
        skip, rest = self.layout.skip_lines, ""
        with self.path.open("rb") as f:
            while True:
                raw = f.read(TEXT_CHUNK)
                text = rest + decoder.decode(raw, final=not raw)
                cut = text.rfind("\n") + 1 if raw else len(text)
                chunk, rest = text[:cut], text[cut:]
                if skip:
                    lines = chunk.splitlines(keepends=True)
                    dropped = min(skip, len(lines))
                    chunk, skip = "".join(lines[dropped:]), skip - dropped
                data = _collapse_whitespace(chunk.lstrip("\ufeff").encode("utf-8"))
                if data.strip():
                    try:
                        table = pcsv.read_csv(pa.BufferReader(data), read_options=read, parse_options=parse,
                                              convert_options=convert)
                    except pa.ArrowInvalid as err:
                        self._raise_ragged(err)
                    yield table
                if not raw:
                    return


def _numbers(col, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(float64 values with NaN for missing or invalid, invalid mask or None, text of the values or None) of an
    Arrow column read as numbers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from learnloop.data.tables import _DECIMAL_COMMA, _FLOAT, _MISSING

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    kind = col.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        values = arrow_column(col, "")
        if values.dtype == object:             # dates or the like: not numbers
            return np.full(len(values), np.nan), ~np.equal(values, None), values
        return values.astype(np.float64, copy=False), None, None
    if not decimal_comma:                       # every value a number (or null): one cast, no patterns
        try:
            return arrow_column(pc.cast(col, pa.float64()), "").astype(np.float64, copy=False), None, None
        except pa.ArrowInvalid:
            pass
    trimmed = pc.utf8_trim_whitespace(col)
    valid = pc.is_valid(trimmed)                # Kleene logic keeps nulls out of the masks (no pa.scalar: pandas)
    present = pc.and_kleene(valid, pc.invert(pc.match_substring_regex(trimmed, _MISSING, ignore_case=True)))
    number = pc.and_kleene(valid, pc.match_substring_regex(trimmed, _FLOAT))
    if decimal_comma:
        comma = pc.and_kleene(valid, pc.match_substring_regex(trimmed, _DECIMAL_COMMA))
        trimmed = pc.if_else(pc.and_(comma, pc.invert(number)), pc.replace_substring(trimmed, ",", "."), trimmed)
        number = pc.or_(number, comma)
    values = arrow_column(pc.cast(pc.if_else(number, trimmed, pa.nulls(len(trimmed), trimmed.type)), pa.float64()),
                          "").astype(np.float64, copy=False)
    invalid = arrow_column(pc.and_(present, pc.invert(number)), "").astype(bool)
    if not invalid.any():
        return values, None, None
    return values, invalid, np.asarray(col.to_pylist(), dtype=object)
