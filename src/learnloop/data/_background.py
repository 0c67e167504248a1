"""Making the next item of an iterator in a background thread while the current one is used."""

from __future__ import annotations

import queue
import threading


class Prefetched:
    """The items of an iterator made one ahead in a background thread: the next item is made while the current one
    is used, and no further, so at most two items exist at once. pyarrow's reads and NumPy's copies release the GIL,
    so reading the next block overlaps training on (or predicting for) the current one. ``close()`` stops the
    thread; an error in it is raised where the item is taken."""

    _DONE = object()

    def __init__(self, items):
        self._items = items
        self._ready: queue.Queue = queue.Queue(maxsize=1)
        self._taken = threading.Semaphore(0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="learnloop-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._items:
                self._ready.put(item)
                del item
                while not self._taken.acquire(timeout=0.1):     # made one ahead, no more
                    if self._stop.is_set():
                        return
                if self._stop.is_set():
                    return
            self._ready.put(self._DONE)
        except BaseException as err:         # handed to the consumer, raised there
            self._ready.put(_Failure(err))

    def __iter__(self):
        while True:
            item = self._ready.get()
            self._taken.release()
            if item is self._DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
            del item

    def close(self) -> None:
        self._stop.set()
        self._taken.release()
        while self._thread.is_alive():
            try:                             # unblock a put on a full queue
                self._ready.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()
        close = getattr(self._items, "close", None)
        if close is not None:
            close()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


class Consumer:
    """``fn(item)`` for each ``put(item)``, in order, in a background thread (e.g. writing while the next item is
    made); at most ``depth`` items wait. An error in ``fn`` is raised by the next ``put`` or by ``close``."""

    _DONE = object()

    def __init__(self, fn, depth: int = 2):
        self._fn = fn
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="learnloop-consumer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is self._DONE:
                return
            if self._error is None:
                try:
                    self._fn(item)
                except BaseException as err:    # kept for the producer's thread
                    self._error = err
            del item

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def put(self, item) -> None:
        self._raise()
        self._queue.put(item)

    def close(self) -> None:
        """Wait for every item put so far to be handled, then stop; raises the first error of ``fn``."""
        if self._thread.is_alive():
            self._queue.put(self._DONE)
            self._thread.join()
        self._raise()
