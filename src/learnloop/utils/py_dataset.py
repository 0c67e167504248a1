"""``PyDataset``: batches computed by Python code, Keras 3's contract, and the ordered prefetching that fit uses.

Subclass it with ``__getitem__(index)`` returning one batch (``(x, y)``, ``(x, y, sample_weight)``, or ``x`` alone for
``predict``) and ``__len__`` giving the number of batches; ``on_epoch_begin()`` / ``on_epoch_end()`` run around each
epoch. Pass ``workers``, ``use_multiprocessing`` and ``max_queue_size`` to ``super().__init__``: with ``workers > 1``
(or ``use_multiprocessing=True``) ``fit``, ``evaluate`` and ``predict`` compute up to ``max_queue_size`` batches ahead
in a pool of threads (or of processes, which need a dataset that can be pickled when the start method is not fork),
and still hand them over in index order.

As in Keras, ``fit(shuffle=True)`` (the default) visits the batches of a PyDataset in a new random order each epoch.
learnloop adds one class attribute: a dataset that already randomizes its batches and reads a file front to back
(``learnloop.data.NpyBatches``) sets ``shuffles_itself = True``, and fit then keeps its index order.
"""

from __future__ import annotations

import itertools
import warnings
from collections import deque
from collections.abc import Iterable, Iterator


class PyDataset:
    """Base class for a dataset of batches computed in Python (Keras's ``keras.utils.PyDataset``).

    Args:
        workers: threads (or processes) computing batches ahead during fit/evaluate/predict; 1 computes each batch
            when it is needed.
        use_multiprocessing: compute batches in processes instead of threads (for CPU-bound Python code).
        max_queue_size: batches computed ahead at most.
    """

    shuffles_itself = False

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        missing = [name for name in ("_workers", "_use_multiprocessing", "_max_queue_size") if not hasattr(self, name)]
        if not missing:
            return
        self._workers = getattr(self, "_workers", 1)
        self._use_multiprocessing = getattr(self, "_use_multiprocessing", False)
        self._max_queue_size = getattr(self, "_max_queue_size", 10)
        warnings.warn(f"{type(self).__name__} should call `super().__init__(**kwargs)` in its constructor; "
                      f"`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`.", UserWarning,
                      stacklevel=3)

    @property
    def workers(self) -> int:
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int):
        """The batch at position ``index``."""
        raise NotImplementedError

    @property
    def num_batches(self) -> int | None:
        """Number of batches, or ``None`` for a dataset without end (then fit needs ``steps_per_epoch``)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""

    def __iter__(self) -> Iterator:
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        for index in (range(n) if n is not None else itertools.count()):
            yield self[index]


def fetch(dataset, indices: Iterable[int], workers: int = 1, use_multiprocessing: bool = False,
          max_queue_size: int = 10) -> Iterator:
    """``dataset[i]`` for each ``i`` of ``indices``, in that order; with ``workers > 1`` or ``use_multiprocessing``,
    computed up to ``max_queue_size`` ahead by a pool (Keras's rule for when a PyDataset gets one). Closing the
    iterator shuts the pool down."""
    if not (workers > 1 or (workers > 0 and use_multiprocessing)):
        return (dataset[i] for i in indices)
    return _prefetch(dataset, iter(indices), workers, use_multiprocessing, max(1, int(max_queue_size)))


def _prefetch(dataset, indices: Iterator[int], workers: int, use_multiprocessing: bool, depth: int) -> Iterator:
    if use_multiprocessing:
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(workers, initializer=_adopt, initargs=(dataset,))
        get = _get_adopted
    else:
        from concurrent.futures import ThreadPoolExecutor

        executor = ThreadPoolExecutor(workers, thread_name_prefix="learnloop-pydataset")
        get = dataset.__getitem__
    pending: deque = deque()
    try:
        for i in itertools.islice(indices, depth):
            pending.append(executor.submit(get, i))
        while pending:
            batch = pending.popleft().result()
            for i in itertools.islice(indices, 1):
                pending.append(executor.submit(get, i))
            yield batch
    finally:
        for future in pending:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)


_ADOPTED: dict = {}


def _adopt(dataset) -> None:
    """Process-pool initializer: the worker keeps the dataset (as it was when the epoch's pool started)."""
    _ADOPTED["dataset"] = dataset


def _get_adopted(index: int):
    return _ADOPTED["dataset"][index]
