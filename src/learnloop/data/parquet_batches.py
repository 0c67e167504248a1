"""Batches from Parquet files, one row group at a time: :class:`ParquetBatches` (an iterable with ``len``).

How random its shuffle is, against a full shuffle of the N rows into batches of b: each epoch the row groups (of
every file) are put in a random order and gathered, whole, into fills of at least ``buffer_size`` rows (the last fill
of an epoch may hold fewer); the rows of a fill are uniformly permuted and cut into batches, and the fewer than b
rows left at the end of a fill open the first batch of the next one. Two rows of the same row group therefore share a
batch with probability (b - 1) / (M - 1), M the rows of their fill (at least buffer_size, less than buffer_size plus
one row group), against (b - 1) / (N - 1) for a full shuffle: about N / M times as often. Rows of different row
groups share a batch only when their groups land in the same fill, which happens with probability (k - 1) / (G - 1)
for G row groups taken k per fill, and then with the same (b - 1) / (M - 1); the rows carried from one fill into the
next are the only exception. With ``buffer_size`` no larger than a row group, batches never mix row groups (except
for those carried rows).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from learnloop.data._background import Prefetched
from learnloop.data._batch_args import check_int, epoch_seed
from learnloop.errors import LearnloopError

Array = np.ndarray
PARQUET_SUFFIXES = (".parquet", ".pq")


class ParquetBatches:
    """Batches from Parquet files read one row group at a time, shuffled through a buffer of ``buffer_size`` rows.

    Args:
        path: a Parquet file, or a folder of them (every ``.parquet`` / ``.pq`` file below it, in name order).
        target: the column of targets; ``None`` gives batches of inputs alone (for predict).
        columns: the input columns, given as a dict of columns per batch (for a model that starts with a
            FeatureSpace); default: every column but the target and the weights.
        features: input columns stacked into one (batch, len(features)) array of ``dtype`` instead of a dict.
        batch_size: rows per batch (only the last batch of an epoch may be smaller).
        shuffle: row groups in a random order and rows mixed within fills of ``buffer_size`` rows (see the module
            docstring for how random that is); ``False`` reads the files in order.
        buffer_size: rows gathered (in whole row groups) before they are mixed.
        seed: the orders' seed (``None``: drawn from learnloop's global generator).
        sample_weight: an optional column of per-row weights.
        classes: for a target of labels (text or numbers): the labels in class-index order; ``y`` is then each
            label's index.
        dtype: the dtype of ``features`` arrays, of float targets and of weights.
        prefetch: read and mix the next fill in a background thread while the current one is used.

    Iterating starts a new epoch (a new order). Memory: one fill (fewer than buffer_size rows plus one row group),
    two with ``prefetch`` (the next fill is read while the current one is used), and fewer than batch_size rows
    carried between fills; ``rows_held`` counts the rows held now, ``max_rows_held`` the most so far.
    """

    def __init__(self, path, target: str | None = None, columns: list[str] | None = None,
                 features: list[str] | None = None, batch_size: int = 32, shuffle: bool = True,
                 buffer_size: int = 200_000, seed: int | None = None, *, sample_weight: str | None = None,
                 classes: list | None = None, dtype: str = "float32", prefetch: bool = True):
        import pyarrow.parquet as pq

        where = "ParquetBatches"
        self.files = _parquet_files(Path(path), where)
        self.batch_size = check_int(where, "batch_size", batch_size)
        self.buffer_size = check_int(where, "buffer_size", buffer_size)
        self.shuffle, self.prefetch = bool(shuffle), bool(prefetch)
        self.seed = epoch_seed(seed)
        self.dtype = np.dtype(dtype)
        self.target, self.sample_weight = target, sample_weight
        self.classes = None if classes is None else list(classes)
        if columns is not None and features is not None:
            raise LearnloopError(f"{where}: pass columns= (a dict of columns per batch) or features= (one array), "
                                 f"not both.")
        self.row_groups: list[tuple[int, int, int]] = []      # (file index, row group, rows)
        names = None
        for i, file in enumerate(self.files):
            try:
                meta = pq.ParquetFile(file).metadata
            except Exception as err:           # pyarrow raises several types for a file that is not Parquet
                raise LearnloopError(f"{where}: {file} is not a readable Parquet file ({err}).") from None
            schema = meta.schema.to_arrow_schema().names
            if names is None:
                names = schema
            elif set(schema) != set(names):
                raise LearnloopError(f"{where}: {file} has columns {schema[:10]}, unlike {self.files[0]} "
                                     f"({names[:10]}); every file needs the same columns.")
            self.row_groups += [(i, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups)
                                if meta.row_group(g).num_rows]
        self.n_rows = sum(n for _, _, n in self.row_groups)
        if not self.n_rows:
            raise LearnloopError(f"{where}: {path} holds no rows.")
        extra = [c for c in (target, sample_weight) if c is not None]
        inputs = features if features is not None else columns if columns is not None else \
            [n for n in names if n not in extra]
        unknown = [c for c in list(inputs) + extra if c not in names]
        if unknown:
            raise LearnloopError(f"{where}: {path} has no column {unknown[0]!r}; its columns are {names}.")
        self.columns = list(inputs)
        self.as_array = features is not None
        self.epoch = 0
        self.rows_held = 0
        self.max_rows_held = 0
        self._held_lock = threading.Lock()

    def __len__(self) -> int:
        return -(-self.n_rows // self.batch_size)

    @property
    def num_batches(self) -> int:
        return len(self)

    def __repr__(self) -> str:
        return (f"ParquetBatches({len(self.files)} file(s), {self.n_rows} rows in {len(self.row_groups)} row groups, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle})")

    # -- one epoch
    def __iter__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.row_groups)) if self.shuffle else range(len(self.row_groups))
        return self._batches([self.row_groups[i] for i in order], rng)

    def _batches(self, groups, rng):
        """Cut the fills into batches; rows left at the end of one fill open the first batch of the next."""
        b = self.batch_size
        carry = None
        fills = self._fills(groups, rng)
        if self.prefetch:
            fills = Prefetched(fills)
        try:
            for fill in fills:
                n = _length(fill)
                if carry is not None:
                    need = b - _length(carry)
                    head = _join([carry, _slice(fill, 0, min(need, n))])
                    if _length(head) < b:
                        carry = head
                        self._release(n)
                        continue
                    yield self._batch(head)
                    start = need
                else:
                    start = 0
                stop = start + (n - start) // b * b
                x, y, w = fill["x"], fill.get("y"), fill.get("w")
                if isinstance(x, dict):
                    for i in range(start, stop, b):
                        yield self._batch(_slice(fill, i, i + b))
                elif y is None:
                    for i in range(start, stop, b):
                        yield x[i:i + b]
                elif w is None:
                    for i in range(start, stop, b):
                        yield x[i:i + b], y[i:i + b]
                else:
                    for i in range(start, stop, b):
                        yield x[i:i + b], y[i:i + b], w[i:i + b]
                del x, y, w
                carry = _copy(_slice(fill, stop, n)) if stop < n else None
                self._release(n)
            if carry is not None:
                yield self._batch(carry)
        finally:
            fills.close()
            with self._held_lock:
                self.rows_held = 0

    def _batch(self, part: dict):
        x = part["x"]
        y = part.get("y")
        if y is None:
            return x
        w = part.get("w")
        return (x, y) if w is None else (x, y, w)

    def _fills(self, groups, rng):
        """The epoch's fills: whole row groups gathered to at least ``buffer_size`` rows, their rows permuted."""
        import pyarrow.parquet as pq

        handles: dict[int, object] = {}
        parts, held = [], 0
        wanted = self.columns + [c for c in (self.target, self.sample_weight) if c is not None]
        for file_index, group, _ in groups:
            handle = handles.get(file_index)
            if handle is None:
                handle = handles[file_index] = pq.ParquetFile(self.files[file_index])
            part = self._convert(handle.read_row_group(group, columns=wanted),
                                 f"{self.files[file_index]} row group {group}")
            n = _length(part)
            self._hold(n)
            parts.append(part)
            held += n
            del part
            if held >= self.buffer_size or not self.shuffle:
                fill = self._mix(parts, held, rng)
                parts, held = [], 0             # the row groups are let go before the fill is used
                yield fill
                del fill
        if parts:
            fill = self._mix(parts, held, rng)
            parts = []
            yield fill

    def _mix(self, parts: list[dict], n: int, rng) -> dict:
        """The rows of ``parts`` as one fill, uniformly permuted when shuffling (one gather per array)."""
        fill = parts[0] if len(parts) == 1 else _join(parts)
        parts.clear()
        if not self.shuffle:
            return fill
        order = rng.permutation(n)
        return {key: ({c: v[order] for c, v in value.items()} if isinstance(value, dict) else
                      np.take(value, order, axis=0)) for key, value in fill.items()}

    def _convert(self, table, where: str) -> dict:
        from learnloop._columns import arrow_column

        if self.as_array:
            x = np.empty((len(self.columns), table.num_rows), dtype=self.dtype)
            for j, name in enumerate(self.columns):
                values = _numbers(table.column(name), f"{where}: column {name!r}")
                if values.dtype == object:
                    raise LearnloopError(f"ParquetBatches: column {name!r} holds text ({where}); features= takes "
                                         f"numeric columns. Use columns= (a dict per batch) with a model that starts "
                                         f"with a FeatureSpace.")
                x[j] = values
            x = np.ascontiguousarray(x.T)          # rows of features: one transposed copy
        else:
            x = {name: arrow_column(table.column(name), f"{where}: column {name!r}") for name in self.columns}
        part = {"x": x}
        if self.target is not None:
            part["y"] = self._targets(arrow_column(table.column(self.target), f"{where}: column {self.target!r}"),
                                      where)
        if self.sample_weight is not None:
            part["w"] = arrow_column(table.column(self.sample_weight), where).astype(self.dtype)
        return part

    def _targets(self, y: Array, where: str) -> Array:
        if self.classes is not None:
            index = {c: i for i, c in enumerate(self.classes)}
            try:
                return np.fromiter((index[v] for v in y.tolist()), dtype=np.int64, count=len(y))
            except KeyError as err:
                raise LearnloopError(f"ParquetBatches: target {self.target!r} has the label {err.args[0]!r} "
                                     f"({where}), which is not one of classes={self.classes}.") from None
        if y.dtype == object:
            raise LearnloopError(f"ParquetBatches: target {self.target!r} holds text ({where}); pass classes=[...] "
                                 f"(the labels in class-index order) to train on their indices.")
        return y.astype(self.dtype) if y.dtype.kind == "f" else y

    # -- rows held, for the memory bound
    def _hold(self, n: int) -> None:
        with self._held_lock:
            self.rows_held += n
            self.max_rows_held = max(self.max_rows_held, self.rows_held)

    def _release(self, n: int) -> None:
        with self._held_lock:
            self.rows_held -= n


def _numbers(column, where: str) -> Array:
    """A numeric Arrow column without nulls as a view of its buffer (any int/float width); others through
    ``arrow_column`` (nulls become NaN, text stays text)."""
    import pyarrow as pa

    from learnloop._columns import arrow_column

    if isinstance(column, pa.ChunkedArray) and column.num_chunks == 1:
        column = column.chunk(0)
    kind = column.type
    if isinstance(column, pa.Array) and not column.null_count and \
            (pa.types.is_floating(kind) or pa.types.is_integer(kind)) and not pa.types.is_float16(kind):
        dtype = np.dtype(kind.to_pandas_dtype())
        return np.frombuffer(column.buffers()[1], dtype=dtype, count=len(column), offset=column.offset * dtype.itemsize)
    return arrow_column(column, where)


def _parquet_files(path: Path, where: str) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in PARQUET_SUFFIXES and p.is_file())
        if not files:
            raise LearnloopError(f"{where}: the folder {path} holds no .parquet files.")
        return files
    if not path.is_file():
        raise LearnloopError(f"{where}: no file or folder at {path}.")
    return [path]


def _length(part: dict) -> int:
    x = part["x"]
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def _slice(part: dict, start: int, stop: int) -> dict:
    return {key: ({c: v[start:stop] for c, v in value.items()} if isinstance(value, dict) else value[start:stop])
            for key, value in part.items()}


def _copy(part: dict) -> dict:
    return {key: ({c: v.copy() for c, v in value.items()} if isinstance(value, dict) else value.copy())
            for key, value in part.items()}


def _join(parts: list[dict]) -> dict:
    first = parts[0]
    return {key: ({c: np.concatenate([p[key][c] for p in parts]) for c in value} if isinstance(value, dict) else
                  np.concatenate([p[key] for p in parts])) for key, value in first.items()}


__all__ = ["ParquetBatches"]
