"""Batches from memory-mapped ``.npy`` files: :class:`NpyBatches`, a :class:`~learnloop.utils.PyDataset`.

How random its shuffle is, against a full shuffle of the N rows into batches of b: the rows are cut into blocks of
``block_size`` contiguous rows; each epoch the blocks are put in a random order and taken ``window_blocks`` at a time
(a window of W = window_blocks x block_size rows), and the rows of a window are uniformly permuted and cut into
batches (a batch's rows come back sorted, so it is read front to back). A batch reads rows from its window's blocks
only, so an epoch read in batch order reads each block from disk once, in runs of ``block_size`` rows. Two rows of
the same block share a batch with probability (b - 1) / (W - 1) (when b divides W), against (b - 1) / (N - 1) for a
full shuffle; rows of different blocks share one only when their blocks fall in the same window (or in the two
windows a batch straddles). The last N mod block_size rows form a window of their own, at the end.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from learnloop.data._batch_args import check_int, epoch_seed
from learnloop.errors import LearnloopError
from learnloop.utils.py_dataset import PyDataset

Array = np.ndarray


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
        self.batch_size = check_int(where, "batch_size", batch_size)
        self.shuffle = bool(shuffle)
        self.seed = epoch_seed(seed)
        row_bytes = max(1, self.x[0].nbytes if self.x.ndim > 1 else self.x.itemsize)
        self.block_size = check_int(where, "block_size", block_size) if block_size is not None else \
            max(1, (1 << 20) // row_bytes)
        self.window_blocks = check_int(where, "window_blocks", window_blocks)
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


__all__ = ["NpyBatches"]
