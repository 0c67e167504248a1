"""What a delimited text file looks like, decided from its first 64 KiB: encoding, delimiter, banner lines, header;
and the errors of a file its encoding cannot decode.

Every decision comes with one sentence saying what was decided and why, for the reader's notes.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from learnloop.errors import LearnloopError

SAMPLE_BYTES = 1 << 16      # the first 64 KiB, of which the first SAMPLE_LINES lines are sniffed
SAMPLE_LINES = 500          # enough to see a table's shape; sniffing them takes a few milliseconds
DELIMITERS = (",", "\t", ";", "|", " ")     # in order of preference when two split the sample equally well
WHITESPACE = "whitespace"   # runs of spaces and tabs (fixed-width numeric exports such as the UCR archive)
MAX_BANNER_LINES = 20

MISSING_TOKENS = ("", "?", "na", "n/a", "nan", "null", "none")   # compared after trimming, case-insensitively

# A number as people write it: 12, -3.5, .5, 1e-3, 1,5 (a decimal comma, accepted only in ';'-separated files).
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(inf|infinity)", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"[-+]?(\d+,?\d*|,\d+)([eE][-+]?\d+)?")

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass
class Layout:
    """How to read the table part of a file."""

    delimiter: str
    skip_lines: int                  # physical lines before the first data line (banner and header)
    header: list[str] | None         # the header's fields, or None when the first table line is data
    n_fields: int
    quoting: bool                    # double quotes are field quotes (pyarrow's quote_char)
    quoted: bool                     # ... and the sample has some: fields may hold delimiters or newlines
    notes: list[str] = field(default_factory=list)


def detect_encoding(head: bytes, complete: bool) -> tuple[str, str]:
    """(Python codec name, the sentence saying why) for a file starting with ``head``.

    Order: a byte-order mark; strict UTF-8 (ASCII included); UTF-16 without a mark (every other byte zero);
    cp1252, Windows' Western European code page, which is what Excel and most Windows tools write when they do not
    write UTF-8 (a superset of latin-1's printable characters, adding curly quotes, the euro sign and dashes);
    latin-1 for the few files with bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D), since latin-1
    decodes any byte. A statistical detector is not used: on a mostly-ASCII table with a few accented names it
    guesses among a dozen single-byte code pages on too little evidence, while cp1252 is right for the files
    people actually export, and the note tells them to pass ``--encoding`` when it is not.

    Args:
        head: the first bytes of the file.
        complete: ``head`` is the whole file (a multi-byte character cut at its end is then an error).
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            label = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32"}[name]
            return name, f"encoding {label}: the file starts with a {label} byte-order mark"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        return "utf-8", "encoding UTF-8: the first bytes are valid UTF-8"
    except UnicodeDecodeError as err:
        bad = err.start
    if len(head) >= 4 and head[1::2].count(0) > 0.4 * len(head) // 2 and head[0::2].count(0) < len(head) // 20:
        return "utf-16-le", "encoding UTF-16 (little-endian, no byte-order mark): every other byte is zero"
    if len(head) >= 4 and head[0::2].count(0) > 0.4 * len(head) // 2 and head[1::2].count(0) < len(head) // 20:
        return "utf-16-be", "encoding UTF-16 (big-endian, no byte-order mark): every other byte is zero"
    try:
        head.decode("cp1252")
        return "cp1252", (f"encoding cp1252 (Windows Western European): the file is not UTF-8 (byte {bad} is "
                          f"{head[bad]:#04x}); pass --encoding if accented letters look wrong")
    except UnicodeDecodeError:
        return "latin-1", (f"encoding latin-1: the file is neither UTF-8 (byte {bad} is {head[bad]:#04x}) nor "
                           f"cp1252; pass --encoding if accented letters look wrong")


def given_codec(encoding: str, head: bytes, path: Path) -> str:
    """The codec for a given ``encoding`` name (BOM-aware for UTF-8/16/32); an unknown name is an error."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise LearnloopError(f"{path}: unknown encoding {encoding!r}; use a Python codec name such as 'utf-8', "
                             f"'cp1252', 'latin-1' or 'utf-16'.") from None
    if name == "utf-8" and head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if name in ("utf-16", "utf-32") and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return f"{name}-le"     # no byte-order mark: Windows' little-endian order
    return name


def first_undecodable(path: Path, encoding: str) -> int:
    """Byte offset of the first byte ``encoding`` cannot decode (streamed, 1 MiB at a time)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            pending = len(decoder.getstate()[0])     # bytes of a character cut by the previous chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                return offset - pending + err.start
            offset += len(chunk)
    pending = len(decoder.getstate()[0])             # a character cut by the end of the file
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as err:
        return offset - pending + err.start
    return offset


def decodes(path: Path, encoding: str) -> bool:
    try:
        path.read_bytes().decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def raise_undecodable(path: Path, encoding: str, offset: int):
    raise LearnloopError(f"{path} cannot be decoded as {encoding}: byte {offset} is not valid {encoding}; pass the "
                         f"file's encoding with --encoding (e.g. cp1252, latin-1, utf-16).")


def decode_sample(head: bytes, encoding: str, complete: bool) -> str:
    """The text of ``head`` without a cut line at its end (the rest of the file may continue that line)."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        lines = lines[:-1]              # the last line may go on after the sample
    return "".join(lines[:SAMPLE_LINES])


def split_records(text: str, delimiter: str, quoting: bool = True) -> list[tuple[list[str], int]]:
    """(fields, physical lines so far) of each non-empty record of ``text``; with ``quoting``, fields in double
    quotes may hold delimiters and newlines."""
    if delimiter == WHITESPACE:
        out, n = [], 0
        for line in text.splitlines():
            n += 1
            if line.strip():
                out.append((line.split(), n))
        return out
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        strict=False, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
    out = []
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                out.append((row, reader.line_num))
    except csv.Error:           # an unterminated quote at the end of the sample
        pass
    return out


def quotes_are_quoting(text: str, delimiter: str) -> tuple[bool, str | None]:
    """Are the double quotes in ``text`` CSV field quotes? (answer, a note when they are not).

    They are not when a field opens with a quote and its closing quote is followed by more text
    (``"Wen u miss someone..." gdeve..``): the quotes are part of the values, as in the SMS Spam Collection, and
    reading them as quotes would join lines."""
    if '"' not in text or delimiter == WHITESPACE:
        return True, None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error as err:
        if "end of data" in str(err) or "EOF" in str(err):     # the sample ends inside a quoted field
            return True, None
        return False, (f"double quotes are part of the values, not field quotes (line {reader.line_num} has text "
                       f"after a closing quote): read without quoting")
    return True, None


def _is_number(text: str, decimal_comma: bool = False) -> bool:
    text = text.strip().strip('"')
    return bool(_NUMBER.fullmatch(text) or (decimal_comma and _DECIMAL_COMMA.fullmatch(text)))


def _is_missing(text: str) -> bool:
    return text.strip().lower() in MISSING_TOKENS


def _score(records: list[tuple[list[str], int]], delimiter: str) -> tuple[float, float, int]:
    """(share of records with the most common field count, share of numeric fields minus share of empty ones,
    that count)."""
    counts = Counter(len(fields) for fields, _ in records)
    n_fields, n_common = counts.most_common(1)[0]
    if n_fields < 2:
        return 0.0, 0.0, n_fields
    fields = [f for fields, _ in records[:50] if len(fields) == n_fields for f in fields]
    numeric = sum(_is_number(f, decimal_comma=delimiter == ";") for f in fields) / max(len(fields), 1)
    empty = sum(not f for f in fields) / max(len(fields), 1)
    return n_common / len(records), numeric - empty, n_fields


def sniff_delimiter(text: str) -> tuple[str, str]:
    """(delimiter, why): the candidate splitting the most lines into the same number (> 1) of fields; ties go to
    the one whose fields are more often numbers (so '1,5;2,25' splits on ';'), then to the order of DELIMITERS."""
    best, best_score = None, (0.0, 0.0, 0)
    for delimiter in (*DELIMITERS, WHITESPACE):
        records = split_records(text, delimiter)
        if not records:
            continue
        consistent, numeric, n_fields = _score(records, delimiter)
        score = (round(consistent, 3), round(numeric, 3), n_fields)
        if n_fields >= 2 and score[:2] > best_score[:2]:
            best, best_score = delimiter, score
    if best is None:
        return ",", "one column: no delimiter among , tab ; | space splits the first lines"
    names = {",": "','", "\t": "tab", ";": "';'", "|": "'|'", " ": "space", WHITESPACE: "runs of spaces"}
    records = split_records(text, best)
    agree = sum(len(fields) == best_score[2] for fields, _ in records)
    share = "all" if agree == len(records) else f"{agree} of"
    return best, (f"delimiter {names[best]}: it splits {share} the first {len(records)} lines into {best_score[2]} "
                  f"fields")


def layout(text: str, delimiter: str | None, header: bool | str) -> Layout:
    """Delimiter, banner lines, header, from the decoded sample ``text``."""
    notes = []
    if delimiter is None:
        delimiter, why = sniff_delimiter(text)
        notes.append(why)
    quoting, why = quotes_are_quoting(text, delimiter)
    if why:
        notes.append(why)
    records = split_records(text, delimiter, quoting)
    if not records:
        return Layout(delimiter, 0, None, 0, quoting, False, notes)
    n_fields = Counter(len(fields) for fields, _ in records).most_common(1)[0][0]
    skip = 0
    while skip < min(len(records) - 1, MAX_BANNER_LINES) and len(records[skip][0]) != n_fields:
        skip += 1
    if skip:
        quoted = "; ".join(repr(delimiter.join(f) if delimiter != WHITESPACE else " ".join(f))[:80]
                           for f, _ in records[:skip])
        notes.append(f"skipped {skip} line{'s' * (skip > 1)} before the table (a banner or comment: their field "
                     f"count differs from the table's {n_fields}): {quoted}")
    skip_lines = records[skip - 1][1] if skip else 0
    table = records[skip:]
    first = table[0][0]
    if header == "auto":
        has_header, why = _detect_header(first, [fields for fields, _ in table[1:]], delimiter)
        notes.append(why)
    else:
        has_header = bool(header)
        notes.append("first line taken as the header (header=True)" if has_header else
                     "no header line (header=False)")
    if has_header:
        skip_lines = table[0][1]
    return Layout(delimiter, skip_lines, [f.strip() for f in first] if has_header else None, n_fields, quoting,
                  quoting and '"' in text, notes)


def _detect_header(first: list[str], body: list[list[str]], delimiter: str) -> tuple[bool, str]:
    """Is ``first`` a header? Decided by the columns whose other values are all numbers: a header names one of
    them with text (some names look like numbers: 2019, 2020), a data line holds numbers or missing values there.
    With no numeric column, the first line is a header unless one of its values occurs again below it in the same
    column (data repeats, names do not)."""
    n = len(first)
    body = [row for row in body if len(row) == n]
    decimal_comma = delimiter == ";"
    if not body:
        if all(_is_number(f, decimal_comma) or _is_missing(f) for f in first):
            return False, "no header line: the only line holds numbers"
        return True, "first line taken as the header: it holds text and no line follows it"
    numeric = [j for j in range(n)
               if any(not _is_missing(row[j]) for row in body)
               and all(_is_missing(row[j]) or _is_number(row[j], decimal_comma) for row in body)]
    if numeric:
        texts = [j for j in numeric if not _is_number(first[j], decimal_comma) and not _is_missing(first[j])]
        if texts:
            return True, (f"first line taken as the header: it holds text ({first[texts[0]].strip()!r}) where "
                          f"the lines below hold numbers")
        return False, (f"no header line: the first line holds numbers ({first[numeric[0]].strip()!r} in column "
                       f"{numeric[0] + 1}) where the lines below do; columns named column_1 ... column_{n}")
    repeated = [j for j in range(n) if first[j].strip() and any(row[j].strip() == first[j].strip() for row in body)]
    if repeated:
        j = repeated[0]
        return False, (f"no header line: the first line's {first[j].strip()!r} occurs again in column {j + 1}; "
                       f"columns named column_1 ... column_{n}")
    return True, ("first line taken as the header: every column holds text and none of the first line's values "
                  "occurs again below it (pass header=False if it is data)")


def column_names(fields: list[str] | None, n: int) -> tuple[list[str], list[str]]:
    """(unique names, notes): empty names become ``column_i``; a repeated name gets ``.1``, ``.2`` as in pandas."""
    if fields is None:
        return [f"column_{i + 1}" for i in range(n)], []
    names = [f or f"column_{i + 1}" for i, f in enumerate(fields)]
    notes = []
    empty = [i + 1 for i, f in enumerate(fields) if not f]
    if empty:
        notes.append(f"named the header's empty fields after their position: "
                     f"{', '.join(f'column_{i}' for i in empty)}")
    seen: dict[str, int] = {}
    taken = set(names)
    renamed = []
    for i, name in enumerate(names):
        if name in seen:
            k = seen[name]
            while f"{name}.{k}" in taken:
                k += 1
            seen[name] = k + 1
            names[i] = f"{name}.{k}"
            taken.add(names[i])
            renamed.append(f"{name!r} -> {names[i]!r}")
        else:
            seen[name] = 1
    if renamed:
        notes.append(f"renamed repeated header names: {', '.join(renamed)}")
    return names, notes
