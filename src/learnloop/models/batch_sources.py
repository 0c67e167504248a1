"""What ``fit``, ``evaluate`` and ``predict`` read besides arrays: a PyDataset, a generator, or another iterable of
batches (``learnloop.data.ParquetBatches``, a pyarrow ``RecordBatchReader``...). Keras's semantics:

- a batch is ``(x, y)``, ``(x, y, sample_weight)``, or ``x`` alone (``predict``); a list is read as a tuple. ``x`` is
  an array, or for a model that starts with a FeatureSpace, a dict of columns / DataFrame / Arrow record batch;
- an epoch is one pass over the source (a PyDataset's ``len`` batches; a generator until it is exhausted), or
  ``steps_per_epoch`` batches when given, the next epoch continuing where the last one stopped. A pass that ends
  before ``steps_per_epoch`` batches ends the epoch with a warning; a generator cannot be restarted, so training stops
  when it is exhausted (an endless generator needs ``steps_per_epoch``);
- ``shuffle=True`` visits a PyDataset's batches in a new random order each epoch (unless it ``shuffles_itself``);
  generators and iterables are read in the order they yield;
- a PyDataset's ``on_epoch_begin``/``on_epoch_end`` run around every epoch, its workers compute batches ahead.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.utils import make_rng
from learnloop.utils.py_dataset import PyDataset, fetch

_END = object()


def is_batch_source(x) -> bool:
    """True for a PyDataset, a generator / iterator, or another iterable of batches; False for array-likes and
    tables (arrays, lists, dicts of columns, DataFrames, Arrow tables and record batches)."""
    if x is None or isinstance(x, (np.ndarray, list, tuple, str, bytes, Mapping)):
        return False
    if _is_dataset(x):
        return True
    if hasattr(x, "__array__") or hasattr(x, "__array_interface__"):
        return False
    module = type(x).__module__.split(".")[0]
    if module == "pandas":
        return False
    if module == "pyarrow":
        return hasattr(x, "read_next_batch")          # a RecordBatchReader; tables and record batches are data
    return isinstance(x, Iterable)


def _is_dataset(x) -> bool:
    """learnloop's PyDataset, or Keras's (keras.utils.PyDataset / Sequence) by duck typing."""
    if isinstance(x, PyDataset):
        return True
    return any(cls.__name__ in ("PyDataset", "Sequence") and cls.__module__.startswith(("keras", "tensorflow"))
               for cls in type(x).__mro__)


class Feed:
    """The batches of one ``fit`` / ``evaluate`` / ``predict`` call, epoch after epoch.

    Args:
        source: a PyDataset, an iterator (generator) or an iterable of batches.
        where: the calling method, for messages (``"fit()"``).
        steps: batches per epoch (``steps_per_epoch`` / ``steps``); ``None``: one whole pass.
        shuffle: visit a PyDataset's batches in a random order each pass.
        rng: the generator for that order.
    """

    def __init__(self, source, where: str, steps: int | None = None, shuffle: bool = False,
                 rng: np.random.Generator | None = None):
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0):
            raise LearnloopError(f"{where} expects steps to be a positive integer or None; got {steps!r}.")
        self.source, self.where = source, where
        self.steps = None if steps is None else int(steps)
        self.kind = "dataset" if _is_dataset(source) else "iterator" if isinstance(source, Iterator) else "iterable"
        self.num_batches = self._count()
        if self.kind == "dataset" and self.num_batches is None and self.steps is None:
            raise LearnloopError(f"{where}: the {type(source).__name__} has no end (num_batches is None); pass "
                                 f"{'steps_per_epoch' if where.startswith('fit') else 'steps'}= to say how many "
                                 f"batches to read.")
        self.shuffle = shuffle and self.kind == "dataset" and not getattr(source, "shuffles_itself", False) \
            and self.num_batches is not None
        self.rng = rng if rng is not None else np.random.default_rng()
        self.exhausted = False          # a generator that ran out (it cannot start again)
        self._pass: Iterator | None = None
        self._in_pass = 0
        self._warned = False

    def _count(self) -> int | None:
        if self.kind == "dataset":
            try:
                n = getattr(self.source, "num_batches", None)
            except NotImplementedError:      # PyDataset's default without __len__: no end
                n = None
            if n is None and hasattr(self.source, "__len__"):
                n = len(self.source)
            return None if n is None else int(n)
        if self.kind == "iterable" and hasattr(type(self.source), "__len__"):
            try:
                return int(len(self.source))
            except TypeError:
                return None
        return None

    @property
    def steps_per_epoch(self) -> int | None:
        """Batches in one epoch when known (the progress bar's total)."""
        return self.steps if self.steps is not None else self.num_batches

    def describe(self) -> str:
        return {"dataset": f"{type(self.source).__name__} (a PyDataset)", "iterator": "generator",
                "iterable": type(self.source).__name__}[self.kind]

    def _new_pass(self) -> Iterator:
        if self.kind == "iterator":
            return self.source
        if self.kind == "iterable":
            return iter(self.source)
        n = self.num_batches
        if n is None:
            import itertools

            indices = itertools.count()
        else:
            indices = self.rng.permutation(n).tolist() if self.shuffle else range(n)
        ds = self.source
        return fetch(ds, indices, getattr(ds, "workers", 1), getattr(ds, "use_multiprocessing", False),
                     getattr(ds, "max_queue_size", 10))

    def epoch(self) -> Iterator[tuple[int, object]]:
        """``(step, batch)`` for one epoch: ``steps`` batches (continuing the pass the last epoch left), or the
        rest of the pass. A generator that is already exhausted gives none."""
        begin = getattr(self.source, "on_epoch_begin", None) if self.kind == "dataset" else None
        if begin is not None:
            begin()
        step = 0
        while self.steps is None or step < self.steps:
            if self._pass is None:
                if self.exhausted:
                    break
                self._pass, self._in_pass = self._new_pass(), 0
            done = self.num_batches is not None and self._in_pass >= self.num_batches
            batch = _END if done else next(self._pass, _END)
            if batch is _END:
                empty = self._in_pass == 0
                self._close_pass()
                self.exhausted = self.kind == "iterator"
                if empty:
                    raise LearnloopError(f"{self.where}: the {self.describe()} yielded no batches.")
                if self.steps is not None:
                    self._ran_out(step)
                break
            self._in_pass += 1
            yield step, batch
            step += 1
        if self._pass is not None and self.num_batches is not None and self._in_pass >= self.num_batches:
            self._close_pass()          # the pass is complete: the next epoch starts a new one

    def _ran_out(self, step: int) -> None:
        if self._warned:
            return
        self._warned = True
        warnings.warn(f"{self.where}: the {self.describe()} ran out of data after {step} batches of the {self.steps} "
                      f"asked for by steps; the epoch ends there. Give a source that yields at least steps x epochs "
                      f"batches (a generator that loops), or fewer steps.", UserWarning, stacklevel=4)

    def end_epoch(self) -> None:
        end = getattr(self.source, "on_epoch_end", None) if self.kind == "dataset" else None
        if end is not None:
            end()

    def _close_pass(self) -> None:
        if self._pass is not None and self.kind != "iterator":
            close = getattr(self._pass, "close", None)
            if close is not None:
                close()
        self._pass = None

    def close(self) -> None:
        """Stop any prefetching (an iterator is left where it is)."""
        self._close_pass()


def split_batch(batch, where: str, needs_targets: bool) -> tuple:
    """``(x, y, sample_weight)`` of one batch, as Keras reads them; ``y`` is required for fit and evaluate."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if isinstance(batch, tuple):
        if not 1 <= len(batch) <= 3:
            raise LearnloopError(f"{where} is a tuple of {len(batch)} items; a batch is (x,), (x, y) or "
                                 f"(x, y, sample_weight).")
        x, y, sw = batch + (None,) * (3 - len(batch))
    else:
        x, y, sw = batch, None, None
    if needs_targets and y is None:
        raise LearnloopError(f"{where} has no targets: it is {_describe(batch)}; yield (x, y) or "
                             f"(x, y, sample_weight).")
    return x, y, sw


def _describe(batch) -> str:
    if isinstance(batch, np.ndarray):
        return f"an array of shape {batch.shape}"
    if isinstance(batch, tuple):
        return f"a tuple of {len(batch)}"
    return f"a {type(batch).__name__}"


def fit_source(model, source, y, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
                class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_batch_size,
                validation_freq, validation_steps):
    """``model.fit(source, ...)`` for a PyDataset, generator or iterable of batches: each batch is checked (and,
    for a model that starts with a FeatureSpace, encoded) as it arrives; the epochs run in the model's loop."""
    kind = type(source).__name__
    for name, value in (("y", y), ("sample_weight", sample_weight)):
        if value is not None:
            raise LearnloopError(f"fit(): {name}= is not used when x is a {kind} (a batch source); its batches "
                                 f"carry (x, y) or (x, y, sample_weight).")
    if validation_split:
        raise LearnloopError(f"fit(): validation_split needs arrays; x is a {kind}. Pass validation_data= "
                             f"(arrays, or a PyDataset / generator with validation_steps=).")
    feed = Feed(source, "fit()", steps_per_epoch, shuffle, make_rng(None))
    val = None if validation_data is None else \
        model._validation(validation_data, validation_steps, validation_batch_size)
    model._check_output_activation()
    ready = [model.built]
    if model.built:
        model._parameters()
        if not model.compiled_metrics and model._metric_specs:
            model._resolve_metrics()
    what = feed.describe()

    def epoch_batches():
        for step, batch in feed.epoch():
            where = f"fit(): batch {step} of the {what}"
            xb, yb, wb = split_batch(batch, where, needs_targets=True)
            xb, yb, wb = model._prepare_batch(xb, yb, where, wb, class_weight)
            if not ready[0]:                    # the first batch built the model
                model._parameters()
                if not model.compiled_metrics and model._metric_specs:
                    model._resolve_metrics()
                ready[0] = True
            yield step, xb, yb, wb

    try:
        return model._train(epoch_batches, val, int(epochs), int(initial_epoch), feed.steps_per_epoch, verbose,
                            callbacks, validation_freq, feed)
    finally:
        feed.close()


def evaluate_feed(model, feed: Feed, batch_size: int | None = None) -> dict[str, float]:
    """Loss (with the regularization penalty) and metrics over one epoch of ``feed``: the values evaluate() gives
    on the same rows as arrays, up to float rounding (each batch's mean loss is weighted by its size)."""
    from learnloop.metrics import Metric

    total, seen, metrics = 0.0, 0, None
    what = feed.describe()
    try:
        for step, batch in feed.epoch():
            where = f"{feed.where}: batch {step} of the {what}"
            x, y, sw = split_batch(batch, where, needs_targets=True)
            x, y, sw = model._prepare_batch(x, y, where, sw)
            if metrics is None:
                if not model.compiled_metrics and model._metric_specs:
                    model._resolve_metrics()
                metrics = [Metric(m.fn, m.name, **m.kwargs) for m in model.compiled_metrics]
            with np.errstate(over="ignore", invalid="ignore", under="ignore"):
                out = model._predict_prepared(x, batch_size)
                total += model.loss.value_and_gradient(y, out, sw)[0] * x.shape[0]
            seen += x.shape[0]
            for metric in metrics:
                metric.update(y, out, sw)
    finally:
        feed.end_epoch()
    if not seen:
        raise LearnloopError(f"{feed.where}: the {feed.describe()} has no batches left (it was exhausted); pass "
                             f"validation_steps= / steps= with a generator that loops, or a PyDataset.")
    logs = {"loss": float(total / seen + model.regularization_penalty())}
    for metric in metrics:
        logs[metric.name] = metric.result()
    return logs


def predict_feed(model, feed: Feed, batch_size: int | None = None) -> np.ndarray:
    """predict() over one epoch of ``feed``: each batch's ``x`` (a tuple's first item) through the model, the
    outputs stacked in order."""
    parts = []
    what = feed.describe()
    try:
        for step, batch in feed.epoch():
            where = f"predict(): batch {step} of the {what}"
            x = split_batch(batch, where, needs_targets=False)[0]
            parts.append(model._predict_prepared(model._prepare_x(x, where), batch_size))   # errors name the batch
    finally:
        feed.end_epoch()
        feed.close()
    if not parts:
        raise LearnloopError(f"predict(): the {feed.describe()} has no batches left (it was exhausted).")
    return np.concatenate(parts) if len(parts) > 1 else parts[0]
