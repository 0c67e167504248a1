"""Callbacks with Keras's names and hooks: History, progress output, EarlyStopping, ModelCheckpoint, ...

A callback sees ``self.model`` and ``self.params`` (epochs, steps) and may set ``self.model.stop_training``.
The fit loop only calls the per-batch hooks when some callback overrides them, so epoch-level callbacks cost
nothing per step.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np

from learnloop.errors import LearnloopError


class Callback:
    """Base class; override the hooks you need."""

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...

    @property
    def wants_batches(self) -> bool:
        cls = type(self)
        return (cls.on_train_batch_begin is not Callback.on_train_batch_begin
                or cls.on_train_batch_end is not Callback.on_train_batch_end)


class CallbackList:
    """Fans each hook out to a list of callbacks."""

    def __init__(self, callbacks, model, params: dict):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise LearnloopError(f"callbacks must be learnloop.callbacks.Callback objects; got {cb!r}.")
            cb.set_model(model)
            cb.set_params(params)
        self.wants_batches = any(cb.wants_batches for cb in self.callbacks)

    def __getattr__(self, hook: str) -> Callable:
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)
        return call


class History(Callback):
    """Records each epoch's logs: ``history.history["loss"]``, ``["val_loss"]``, metrics; ``history.epoch``."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self


def format_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


class ProgressBar(Callback):
    """``verbose=1``: a live per-epoch bar (steps, time/step, loss, metrics) drawn by tqdm; ``verbose=2``: one line
    per epoch."""

    def __init__(self, verbose: int = 1, file=None):
        super().__init__()
        self.verbose, self.file = verbose, file
        self._bar = None

    @property
    def wants_batches(self) -> bool:
        return self.verbose == 1

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        out = self.file or sys.stdout
        if self.verbose == 1:
            from tqdm.auto import tqdm

            print(f"Epoch {epoch + 1}/{self.params['epochs']}", file=out, flush=True)
            self._bar = tqdm(total=self.params["steps"], file=out, unit="step", mininterval=0.1, leave=True,
                             dynamic_ncols=True, bar_format="{n_fmt}/{total_fmt} {bar} {elapsed} "
                             "{rate_inv_fmt}{postfix}")
            self._last_postfix = 0.0

    def on_train_batch_end(self, batch, logs=None):
        bar = self._bar
        bar.update(1)
        now = time.perf_counter()
        if logs and now - self._last_postfix > 0.2:
            bar.set_postfix_str(format_logs(logs), refresh=False)
            self._last_postfix = now

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        steps = max(self.params["steps"] or 1, 1)         # None: a generator's first epoch, length unknown
        if self.verbose == 1 and self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            print(f"Epoch {epoch + 1}/{self.params['epochs']} - {elapsed:.0f}s - {1000 * elapsed / steps:.0f}ms/step"
                  f" - {format_logs(logs or {})}", file=self.file or sys.stdout, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _resolve_mode(mode: str, monitor: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise LearnloopError(f"mode must be one of ['auto', 'max', 'min']; got {mode!r}.")
    if mode != "auto":
        return mode
    return "max" if any(s in monitor for s in ("acc", "auc", "precision", "recall")) else "min"


class _Monitoring(Callback):
    def __init__(self, monitor: str, mode: str, min_delta: float):
        super().__init__()
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        self.min_delta = abs(float(min_delta))

    def is_improvement(self, current: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def monitor_value(self, logs) -> float | None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__} is watching '{self.monitor}', which is not in the logs "
                          f"(available: {sorted(logs or {})}).", RuntimeWarning, stacklevel=3)
        return value


class EarlyStopping(_Monitoring):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs (Keras 3 semantics, including
    restoring the best weights at the end of training when ``restore_best_weights``)."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = int(patience), verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, int(start_from_epoch)

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_epoch, self.best_weights = 0, 0, None, 0, None

    def on_epoch_end(self, epoch, logs=None):
        current = self.monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitoring):
    """Save the model (or its weights) after each epoch, or only when ``monitor`` improves (``save_best_only``).
    ``filepath`` may hold ``{epoch:02d}`` and log keys such as ``{val_loss:.3f}``."""

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str = "epoch", initial_value_threshold: float | None = None):
        super().__init__(monitor, mode, 0.0)
        if save_freq != "epoch":
            raise LearnloopError(f"ModelCheckpoint supports save_freq='epoch'; got {save_freq!r}.")
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = self.monitor_value(logs)
            if current is None or not self.is_improvement(current, self.best):
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best} to {current:.5f}, saving to {path}")
            self.best = current
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Write one CSV row of logs per epoch (``epoch`` first)."""

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer, self._keys, self._has_header = None, None, exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._writer is None:
            self._keys = sorted(logs)
            self._writer = csv.writer(self._file, delimiter=self.separator)
            if not self._has_header:
                self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(logs.get(k, "NA") for k in self._keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        self._file.close()


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    _HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
              "on_train_batch_begin", "on_train_batch_end")

    def __init__(self, **hooks: Callable):
        super().__init__()
        unknown = set(hooks) - set(self._HOOKS)
        if unknown:
            raise LearnloopError(f"LambdaCallback got unknown hooks {sorted(unknown)}; expected {list(self._HOOKS)}.")
        self._fns = {k: v for k, v in hooks.items() if v is not None}
        for name, fn in self._fns.items():
            setattr(self, name, fn)

    @property
    def wants_batches(self) -> bool:
        return any(k.startswith("on_train_batch") for k in self._fns)


class ReduceLROnPlateau(_Monitoring):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0):
        super().__init__(monitor, mode, min_delta)
        if not 0 < factor < 1:
            raise LearnloopError(f"ReduceLROnPlateau factor must be in (0, 1); got {factor!r}.")
        self.factor, self.patience, self.verbose = float(factor), int(patience), verbose
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        current = self.monitor_value(logs)
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(self.model.optimizer.learning_rate)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:g}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start from ``schedule(epoch, lr) -> new lr``."""

    def __init__(self, schedule: Callable[[int, float], float], verbose: int = 0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.schedule(epoch, float(self.model.optimizer.learning_rate)))
        if not np.isfinite(lr):
            raise LearnloopError(f"LearningRateScheduler: schedule returned {lr!r} at epoch {epoch}.")
        self.model.optimizer.learning_rate = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr:g}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
