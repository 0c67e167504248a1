"""Batch sources over files larger than memory, ready for ``fit``, ``evaluate`` and ``predict``.

``NpyBatches`` reads memory-mapped ``.npy`` files (a :class:`~learnloop.utils.PyDataset`); ``ParquetBatches`` reads
Parquet files one row group at a time (an iterable with ``len``). Both hold a bounded number of rows whatever the
file size, shuffle with a seed (a new order every epoch, the same orders for the same seed), and give arrays
(``features=[...]`` for Parquet) or, for a model that starts with a FeatureSpace, dicts of columns.

How random their shuffles are, compared with a full shuffle of the N rows into batches of b:

- ``NpyBatches``: the rows are cut into blocks of ``block_size`` contiguous rows; each epoch the blocks are put in a
  random order and taken ``window_blocks`` at a time (a window of W = window_blocks x block_size rows), and the rows
  of a window are uniformly permuted and cut into batches (a batch's rows come back sorted, so it is read front to
  back). A batch reads rows from its window's blocks only, so an epoch read in batch order reads each block from disk
  once, in runs of ``block_size`` rows. Two rows of the same block share a batch with probability (b - 1) / (W - 1)
  (when b divides W), against (b - 1) / (N - 1) for a full shuffle; rows of different blocks share one only when
  their blocks fall in the same window (or in the two windows a batch straddles). The last N mod block_size rows form
  a window of their own, at the end.
- ``ParquetBatches``: each epoch the row groups (of every file) are put in a random order and gathered, whole, into
  fills of at least ``buffer_size`` rows (the last fill of an epoch may hold fewer); the rows of a fill are uniformly
  permuted and cut into batches, and the fewer than b rows left at the end of a fill open the first batch of the
  next one. Two rows of the same row group therefore share a batch with probability (b - 1) / (M - 1), M the rows of
  their fill (at least buffer_size, less than buffer_size plus one row group), against (b - 1) / (N - 1) for a full
  shuffle: about N / M times as often. Rows of different row groups share a batch only when their groups land in
  the same fill, which happens with probability (k - 1) / (G - 1) for G row groups taken k per fill, and then with
  the same (b - 1) / (M - 1); the rows carried from one fill into the next are the only exception. With
  ``buffer_size`` no larger than a row group, batches never mix row groups (except for those carried rows).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from learnloop.data._background import Prefetched
from learnloop.errors import LearnloopError
from learnloop.utils import make_rng
from learnloop.utils.py_dataset import PyDataset

Array = np.ndarray
PARQUET_SUFFIXES = (".parquet", ".pq")


def _check_int(where: str, name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise LearnloopError(f"{where}: {name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _seed(seed) -> int:
    """A fixed seed for the epochs' orders: the given one, or one drawn from learnloop's global generator (so
    ``set_random_seed`` makes an unseeded source reproducible too)."""
    if seed is None:
        return int(make_rng(None).integers(2**63))
    return _check_int("seed", "seed", seed, 0)


# ---- .npy memory maps ------------------------------------------------------------------------------------------
class NpyBatches(PyDataset):
    """Batches from ``.npy`` files opened as memory maps (``np.load(mmap_mode="r")``): only the rows of the batch
    being made are read into memory.

    Args:
        x_path: ``.npy`` file of the inputs, (N, ...).
        y_path: ``.npy`` file of the targets, (N, ...); ``None`` gives batches of ``x`` alone (for predict).
        batch_size: rows per batch (the last batch of an epoch may be smaller).
        shuffle: a new random order each epoch (see the module docstring for how random); ``False`` gives the rows in
            file order, each batch one contiguous read.
        seed: the orders' seed (``None``: drawn from learnloop's global generator).
        block_size: rows read contiguously (default: about 1 MiB of ``x``).
        window_blocks: blocks whose rows are mixed together (default 16).
        sample_weight_path: optional ``.npy`` file of per-row weights, (N,).
        workers, use_multiprocessing, max_queue_size: PyDataset's prefetching.

    The dataset orders its own rows, so ``fit`` keeps its batch order (``shuffles_itself``); ``on_epoch_end``
    moves it to the next epoch's order.
    """

    shuffles_itself = True

    def __init__(self, x_path, y_path=None, batch_size: int = 32, shuffle: bool = True, seed: int | None = None, *,
                 block_size: int | None = None, window_blocks: int = 16, sample_weight_path=None, workers: int = 1,
                 use_multiprocessing: bool = False, max_queue_size: int = 10):
        super().__init__(workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size)
        where = "NpyBatches"
        self.x_path = Path(x_path)
        self.x = _open_npy(self.x_path, where, "x_path")
        self.n_rows = int(self.x.shape[0])
        if self.n_rows == 0:
            raise LearnloopError(f"{where}: {self.x_path} holds no rows (shape {self.x.shape}).")
        self.y = None if y_path is None else _open_npy(Path(y_path), where, "y_path", self.n_rows)
        self.sample_weight = None if sample_weight_path is None else \
            _open_npy(Path(sample_weight_path), where, "sample_weight_path", self.n_rows)
        self.batch_size = _check_int(where, "batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.seed = _seed(seed)
        row_bytes = max(1, self.x[0].nbytes if self.x.ndim > 1 else self.x.itemsize)
        self.block_size = _check_int(where, "block_size", block_size) if block_size is not None else \
            max(1, (1 << 20) // row_bytes)
        self.window_blocks = _check_int(where, "window_blocks", window_blocks)
        self.epoch = 0
        self.max_rows_held = 0          # the most rows one batch read: the memory the dataset holds
        self._windows: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._order = None

    def __len__(self) -> int:
        return -(-self.n_rows // self.batch_size)

    def on_epoch_end(self) -> None:
        with self._lock:
            self.epoch += 1
            self._order, self._windows = None, OrderedDict()

    def rows(self, index: int) -> Array:
        """The row numbers of batch ``index`` in this epoch's order (sorted: a batch is read front to back)."""
        if not 0 <= index < len(self):
            raise IndexError(f"NpyBatches has {len(self)} batches; index {index} is out of range.")
        start = index * self.batch_size
        positions = np.arange(start, min(start + self.batch_size, self.n_rows))
        if not self.shuffle:
            return positions
        return np.sort(self._rows_at(positions))

    def __getitem__(self, index: int):
        rows = self.rows(index)
        contiguous = not self.shuffle
        take = (lambda a: np.asarray(a[rows[0]:rows[-1] + 1])) if contiguous else (lambda a: a[rows])
        self.max_rows_held = max(self.max_rows_held, len(rows))
        x = take(self.x)
        if self.y is None:
            return x
        y = take(self.y)
        return (x, y) if self.sample_weight is None else (x, y, take(self.sample_weight))

    # -- the epoch's order: blocks in a random order, rows permuted within windows of window_blocks blocks
    def _epoch_order(self):
        order = self._order
        if order is None:
            rng = np.random.default_rng([self.seed, self.epoch])
            n_blocks = self.n_rows // self.block_size
            order = self._order = (rng.permutation(n_blocks), n_blocks * self.block_size)
        return order

    def _window(self, w: int, size: int) -> Array:
        """The permutation of window ``w``'s ``size`` positions (kept for the last few windows used)."""
        with self._lock:
            perm = self._windows.get(w)
            if perm is None:
                perm = np.random.default_rng([self.seed, self.epoch, w]).permutation(size)
                self._windows[w] = perm
                while len(self._windows) > 4:
                    self._windows.popitem(last=False)
            return perm

    def _rows_at(self, positions: Array) -> Array:
        blocks, blocked = self._epoch_order()
        B, k = self.block_size, self.window_blocks
        window_rows = B * k
        out = np.empty(len(positions), dtype=np.int64)
        in_blocks = positions < blocked
        for w in np.unique(positions[in_blocks] // window_rows):
            mask = in_blocks & (positions // window_rows == w)
            first_block = int(w) * k
            size = min(k, len(blocks) - first_block) * B
            q = self._window(int(w), size)[positions[mask] - int(w) * window_rows]
            out[mask] = blocks[first_block + q // B] * B + q % B
        tail = ~in_blocks
        if tail.any():                  # the last n mod block_size rows: a window of their own
            n_tail = self.n_rows - blocked
            q = self._window(-(-len(blocks) // k), n_tail)[positions[tail] - blocked]
            out[tail] = blocked + q
        return out


def _open_npy(path: Path, where: str, name: str, n_rows: int | None = None) -> Array:
    if path.suffix.lower() != ".npy":
        raise LearnloopError(f"{where}: {name} must be a .npy file (np.save writes one); got {path}.")
    if not path.is_file():
        raise LearnloopError(f"{where}: no file at {path} ({name}).")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        raise LearnloopError(f"{where}: {path} cannot be memory-mapped ({err}); save a numeric array.") from None
    if array.ndim == 0:
        raise LearnloopError(f"{where}: {path} holds a scalar; expected an array with one row per sample.")
    if n_rows is not None and array.shape[0] != n_rows:
        raise LearnloopError(f"{where}: {path} has {array.shape[0]} rows but x has {n_rows}; they must match.")
    return array


# ---- Parquet row groups ----------------------------------------------------------------------------------------
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
        self.batch_size = _check_int(where, "batch_size", batch_size)
        self.buffer_size = _check_int(where, "buffer_size", buffer_size)
        self.shuffle, self.prefetch = bool(shuffle), bool(prefetch)
        self.seed = _seed(seed)
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


__all__ = ["NpyBatches", "ParquetBatches"]
