"""A table too large to read whole: its split and a uniform sample of its rows, in one pass over the file.

Every row's part (train / cv / test) and its place in the sample come from a hash of its row number and the seed
(splitmix64), not from a shuffle of all rows, so any pass over the file, in any block size, on any machine, agrees on
them without holding the rows:

- part: u < 0.6 train, u < 0.8 cv, else test, for u = hash(seed, row) in [0, 1) (the loop's 60/20/20);
- sample order: another hash v of the row; the sample of n rows is the n rows with the smallest v (a uniform random
  sample, without replacement), so a larger sample holds every smaller one.

:func:`sample_table` keeps the ``keep`` rows with the smallest v while it reads (at most 2 x keep at a time), counts
the rows of each part and the missing values of each column, and keeps, for each value of a class target, the three
training rows with the smallest v: a class too rare to appear in a sample still reaches the model (its rows go first
in the sample order). A quantity (more than 20 whole numbers, or any fraction, amounts written as text included)
reserves nothing, so its sample stays uniform. :func:`sample_dataset` reads those rows as
:func:`~learnloop.data.tables.read_table` reads a whole file and makes them a
:class:`~learnloop.data.datasets.Dataset`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from learnloop.data.column_types import missing_mask
from learnloop.errors import LearnloopError

SPLIT_SIZES = (0.6, 0.2, 0.2)
RESERVE_PER_CLASS = 3           # training rows of each target value kept whatever the sample size
MAX_TRACKED_VALUES = 1000       # target values tracked for that; beyond, the target is taken for a quantity
MAX_NUMBER_CLASSES = 20         # a numeric target with more whole values is a quantity (as the loop infers the task)
BLOCK_ROWS = 65536
_GOLDEN = np.array([0x9E3779B97F4A7C15], dtype=np.uint64)
_M1 = np.array([0xBF58476D1CE4E5B9], dtype=np.uint64)
_M2 = np.array([0x94D049BB133111EB], dtype=np.uint64)


def _splitmix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer on uint64 arrays (wrapping arithmetic)."""
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def row_uniforms(start: int, n: int, seed: int, stream: int) -> np.ndarray:
    """(n,) float64 in [0, 1): a hash of rows ``start .. start + n - 1``, the ``seed`` and a ``stream`` number."""
    key = _splitmix(np.array([int(seed) * 4 + int(stream)], dtype=np.uint64))
    z = _splitmix(np.arange(start, start + n, dtype=np.uint64) ^ key)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def row_parts(start: int, n: int, seed: int, sizes=SPLIT_SIZES) -> np.ndarray:
    """(n,) int8: 0 (train), 1 (cv) or 2 (test) for rows ``start .. start + n - 1``."""
    cuts = np.cumsum(sizes)[:-1]
    return np.searchsorted(cuts, row_uniforms(start, n, seed, 0), side="right").astype(np.int8)


def row_priorities(start: int, n: int, seed: int) -> np.ndarray:
    """(n,) the rows' places in the sample order: the sample of n rows is the n smallest."""
    return row_uniforms(start, n, seed, 1)


@dataclass
class TableSample:
    """What one pass over a table found.

    Attributes:
        path: the file.
        table: the kept rows (a pyarrow Table of every column as read), in sample order.
        rows: (k,) their row numbers in the file (data rows counted from 0).
        parts: (k,) their parts, 0 / 1 / 2.
        n_rows: data rows in the file.
        part_rows: (3,) rows of each part.
        missing: column -> missing values in the whole file.
        missing_target: (3,) rows of each part whose target is missing.
        reserved: rows added to the uniform sample so that each target value is in its training part.
        notes: how the file was read.
        seconds: time the pass took.
        read_options: how to open the file again (encoding, delimiter, names).
    """

    path: Path
    table: object
    rows: np.ndarray
    parts: np.ndarray
    n_rows: int
    part_rows: np.ndarray
    missing: dict[str, int]
    missing_target: np.ndarray
    reserved: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    read_options: dict = field(default_factory=dict)


def open_stream(path, *, encoding=None, delimiter=None, names=None, skip_ragged: bool = False):
    """A :class:`~learnloop.data.table_stream.TableStream` whose columns carry ``names`` when given (replacing the
    file's header, as ``read_table`` does)."""
    from learnloop.data.table_stream import TableStream

    stream = TableStream(path, encoding=encoding, delimiter=delimiter, names=names, skip_ragged=skip_ragged)
    if names is not None and list(stream.names) != list(names):
        if len(names) != len(stream.names):
            raise LearnloopError(f"{path}: names= gives {len(names)} names but the table has {len(stream.names)} "
                                 f"columns.")
        stream.renamed = dict(zip(names, stream.names))
    return stream


def file_names(stream, names: list[str]) -> list[str]:
    """The file's own names of ``names`` (they differ when names= replaced its header)."""
    renamed = getattr(stream, "renamed", None) or {}
    return [renamed.get(n, n) for n in names]


def estimated_rows(stream) -> int | None:
    """Data rows of the file: exact for Parquet and Arrow, estimated for text from its first 64 KiB."""
    if stream.num_rows is not None:
        return int(stream.num_rows)
    from learnloop.data._sniff import SAMPLE_BYTES

    size = stream.path.stat().st_size
    with stream.path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    lines = head.count(b"\n")
    if not lines:
        return None
    return max(1, int(size * lines / len(head)) - stream.layout.skip_lines - (stream.layout.header is not None))


def sample_table(path, target: str, keep: int, seed: int = 0, *, encoding=None, delimiter=None, names=None,
                 bar=None, task: str = "auto") -> TableSample:
    """Read the table once: its parts, its missing values and the ``keep`` rows that come first in the sample order.

    Args:
        path: a CSV / delimited text, Parquet or Arrow file.
        target: the column to predict (its values are tracked so each one reaches the training part).
        keep: rows of the sample to keep.
        seed: the split's and the sample's seed.
        encoding, delimiter, names: as for ``read_table``.
        bar: an optional progress bar (``update(rows)``).
        task: "classification", "regression" or "auto": a quantity's values are not tracked.
    """
    import pyarrow as pa

    start_time = time.perf_counter()
    stream = open_stream(path, encoding=encoding, delimiter=delimiter, names=names)
    columns = list(names) if names is not None else list(stream.names)
    if target not in columns:
        raise LearnloopError(f"{path}: no column named {target!r}; the columns are {columns}.")
    keep = int(keep)
    kept: list = []                     # (table, rows, parts, priorities) pieces
    held, tau = 0, np.inf
    part_rows = np.zeros(3, dtype=np.int64)
    missing_target = np.zeros(3, dtype=np.int64)
    missing = dict.fromkeys(columns, 0)
    reserve = _Reserve(task)
    n_rows = 0
    for block in stream.blocks([], BLOCK_ROWS, raw=file_names(stream, columns)):
        table = pa.table([block.raw[c] for c in file_names(stream, columns)], names=columns)
        n, start = block.n, block.start
        parts = row_parts(start, n, seed)
        prio = row_priorities(start, n, seed)
        part_rows += np.bincount(parts, minlength=3)
        for name in columns:
            missing[name] += table.column(name).null_count
        target_missing = _nulls(table.column(target))
        if target_missing is not None:
            missing_target += np.bincount(parts[target_missing], minlength=3)
        reserve.add(table, target, start, parts, prio, target_missing)
        take = np.flatnonzero(prio < tau)
        if len(take):
            kept.append((table.take(take), start + take, parts[take], prio[take]))
            held += len(take)
        if held > 2 * keep:
            kept, tau = _bottom(kept, keep)
            held = keep
        n_rows += n
        if bar is not None:
            bar.update(n)
    if n_rows == 0:
        raise LearnloopError(f"{path} has a header line but no data rows.")
    kept, _ = _bottom(kept, keep)
    table, rows, parts, prio = kept[0]
    table, rows, parts, reserved = reserve.merge(table, rows, parts, prio)
    notes = list(getattr(stream, "notes", []))
    return TableSample(Path(path), table, rows, parts, n_rows, part_rows, {k: v for k, v in missing.items() if v},
                       missing_target, reserved, notes, time.perf_counter() - start_time,
                       {"encoding": encoding, "delimiter": delimiter, "names": names})


def _nulls(column) -> np.ndarray | None:
    """Bool mask of the null values of an Arrow column, or None when it has none."""
    if column.null_count == 0:
        return None
    import pyarrow.compute as pc

    return np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False), dtype=bool)


def _bottom(pieces: list, keep: int):
    """The ``keep`` rows with the smallest priorities, as one piece sorted by priority; and the largest kept."""
    import pyarrow as pa

    if not pieces:
        raise LearnloopError("the table has no rows")
    prio = np.concatenate([p[3] for p in pieces])
    order = np.argsort(prio, kind="stable")[:keep]
    table = pa.concat_tables([p[0] for p in pieces]) if len(pieces) > 1 else pieces[0][0]
    rows = np.concatenate([p[1] for p in pieces])
    parts = np.concatenate([p[2] for p in pieces])
    piece = (table.take(order), rows[order], parts[order], prio[order])
    tau = prio[order[-1]] if len(order) >= keep else np.inf
    return [piece], tau


class _Reserve:
    """For each value of the target, the RESERVE_PER_CLASS training rows with the smallest priorities; none for a
    target the loop reads as a quantity (``task="regression"``; or, unless ``task="classification"``, numbers with
    more than MAX_NUMBER_CLASSES values, as the loop's task inference has it, or amounts written as text)."""

    def __init__(self, task: str = "auto"):
        self.task = task
        self.tracking = task != "regression"
        self.by_value: dict = {}        # value -> list of (priority, row, 1-row table)

    def _quantity(self, values: np.ndarray) -> bool:
        """True when this block's target values (as the file's text) make the target a quantity."""
        if self.task == "classification":
            return False
        from learnloop.layers._number_text import detect, parse_column

        spec = detect(values.astype(object))
        if spec is None or spec["kind"] != "number":
            return False                                   # text labels (or dates): classes
        numbers = parse_column(values.astype(object), spec, "target")
        numbers = numbers[np.isfinite(numbers)]
        try:                                               # the values tracked so far, as the file wrote them
            seen = set(parse_column(np.array(list(self.by_value), dtype=object), spec, "target").tolist())
        except LearnloopError:
            return False                                   # earlier blocks held text this format does not read
        return not np.all(np.mod(numbers, 1) == 0) or len(seen | set(np.unique(numbers).tolist())) > \
            MAX_NUMBER_CLASSES

    def add(self, table, target: str, start: int, parts, prio, target_missing) -> None:
        if not self.tracking:
            return
        train = parts == 0
        if target_missing is not None:
            train &= ~target_missing
        idx = np.flatnonzero(train)
        if not len(idx):
            return
        values = table.column(target).take(idx).to_numpy(zero_copy_only=False)
        if self._quantity(values):
            self.tracking, self.by_value = False, {}
            return
        try:
            uniques, inverse = np.unique(values, return_inverse=True)
        except TypeError:                               # mixed types: compare as text
            uniques, inverse = np.unique(values.astype(str), return_inverse=True)
        if len(set(self.by_value) | set(uniques.tolist())) > MAX_TRACKED_VALUES:
            self.tracking, self.by_value = False, {}
            return
        order = np.lexsort((prio[idx], inverse))        # by value, then by priority
        first = np.searchsorted(inverse[order], np.arange(len(uniques)))
        for u, value in enumerate(uniques.tolist()):
            best = order[first[u]:first[u] + RESERVE_PER_CLASS]
            best = best[inverse[best] == u]
            held = self.by_value.setdefault(value, [])
            worst = max((h[0] for h in held), default=np.inf) if len(held) >= RESERVE_PER_CLASS else np.inf
            for j in best:
                p = prio[idx[j]]
                if p < worst or len(held) < RESERVE_PER_CLASS:
                    held.append((p, start + int(idx[j]), table.take([int(idx[j])])))   # a copy: no block kept
            held.sort(key=lambda h: h[0])
            del held[RESERVE_PER_CLASS:]

    def merge(self, table, rows, parts, prio):
        """The kept rows with the reserved ones first (each row once), and the number of rows that were added."""
        import pyarrow as pa

        held = sorted((h for hs in self.by_value.values() for h in hs), key=lambda h: h[0])
        if not held:
            return table, rows, parts, 0
        inside = np.isin(rows, np.array([h[1] for h in held], dtype=np.int64))
        present = set(rows[inside].tolist())
        extra = [h for h in held if h[1] not in present]
        first = table.filter(pa.array(inside)) if inside.any() else table.slice(0, 0)
        tables = [first, *[h[2] for h in extra], table.filter(pa.array(~inside))]
        out = pa.concat_tables(tables)
        out_rows = np.concatenate([rows[inside], np.array([h[1] for h in extra], dtype=np.int64), rows[~inside]])
        out_parts = np.concatenate([parts[inside], np.zeros(len(extra), dtype=np.int8), parts[~inside]])
        return out, out_rows, out_parts, len(extra)


@dataclass
class SampleData:
    """A sample of a table as a :class:`~learnloop.data.datasets.Dataset`, with where its rows come from.

    Attributes:
        data: the Dataset of the sample's rows (features not yet adapted).
        rows: (k,) each row's number in the file.
        parts: (k,) each row's part, 0 / 1 / 2.
        sample: the :class:`TableSample` it was made from (counts of the whole file).
        numeric: the numeric feature columns (read as numbers on every later pass).
        dropped: what the missing values rule leaves out of every pass: "target", and "numbers" with
            ``missing="drop"``.
    """

    data: object
    rows: np.ndarray
    parts: np.ndarray
    sample: TableSample
    numeric: list[str]
    dropped: tuple[str, ...]


def sample_dataset(sample: TableSample, target: str, task: str = "auto", missing: str = "error",
                   group_columns=None, *, categorical=(), numeric=(), drop=()) -> SampleData:
    """The sample's rows read as ``load_table`` reads a file, with the missing values rule applied to the whole
    file's counts: ``missing="error"`` stops when any row of the file has a missing target or number (naming the
    counts in the file), "drop" leaves those rows out of the sample now and out of every later pass, "impute" fills
    numbers with the training median."""
    from learnloop.data.column_types import decide_columns
    from learnloop.data.datasets import table_dataset
    from learnloop.data.tables import Table, _to_columns

    if missing not in ("error", "drop", "impute"):
        raise LearnloopError(f"missing must be 'error', 'drop' or 'impute'; got {missing!r}.")
    path = sample.path
    delimiter = (sample.read_options.get("delimiter") or ",")
    columns, notes = _to_columns(sample.table, delimiter, path)
    notes = [n for n in notes if not n.startswith("missing values")]
    keep = np.ones(len(sample.rows), dtype=bool)
    n_target = int(sample.missing_target.sum())
    whole = f"of the {sample.n_rows:,} rows of the file"
    if n_target:
        problem = f"{path}: the target column '{target}' is missing in {n_target:,} {whole}"
        if missing == "error":
            raise LearnloopError(f"{problem}; pass missing='drop' to leave those rows out.",
                                 cli=f"{problem}; pass --missing drop to leave those rows out.")
        notes.append(f"left out the {n_target:,} rows whose target '{target}' is missing")
        keep &= ~missing_mask(columns[target])
    group_columns = list(group_columns or [])
    decisions = decide_columns({k: v[keep] for k, v in columns.items()}, target, categorical=categorical,
                               numeric=numeric, drop=drop, keep_out=group_columns, missing="drop")
    numbers = [d.name for d in decisions if d.kind == "numeric"]
    gaps = {name: sample.missing[name] for name in numbers if sample.missing.get(name)}
    if gaps:
        detail = ", ".join(f"{c} ({n:,})" for c, n in gaps.items())
        if missing == "error":
            problem = f"{path}: missing values in {len(gaps)} numeric columns {whole}: {detail}."
            fix = "to leave those rows out, or {} to fill them with the training median plus a missing-indicator " \
                  "column."
            raise LearnloopError(f"{problem} Pass missing='drop' " + fix.format("missing='impute'"),
                                 cli=f"{problem} Pass --missing drop " + fix.format("--missing impute"))
        if missing == "drop":
            for name in gaps:
                keep &= ~missing_mask(columns[name])
            notes.append(f"leaves out the rows with missing values in: {detail} (counts {whole})")
        else:
            notes.append(f"imputed missing numbers in: {detail} (counts {whole}; training median, plus a 0/1 "
                         f"missing-indicator column each)")
    columns = {k: v[keep] for k, v in columns.items()}
    table = Table(columns, path, [*sample.notes, *notes], int(keep.sum()))
    data = table_dataset(table, target=target, task=task, missing="impute" if missing == "impute" else "drop",
                         group_columns=group_columns, categorical=categorical, numeric=numeric, drop=drop)
    own = data.notes[len(table.notes):]         # the sample's own counts: the file's are said above
    data.notes = table.notes + [n for n in own if not n.startswith(("imputed missing numbers", "left out"))]
    dropped = ("target",) + (("numbers",) if missing == "drop" else ())
    return SampleData(data, sample.rows[keep], sample.parts[keep], sample, numbers, dropped)

