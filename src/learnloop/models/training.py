"""compile / fit / evaluate: the course's training loop behind Keras's API.

One training step reads like the algorithm in the notes: forward, loss, backprop, optimizer step.
"""

from __future__ import annotations

import warnings

import numpy as np

from learnloop import activations as activations_mod
from learnloop import losses as losses_mod
from learnloop import metrics as metrics_mod
from learnloop import optimizers as optimizers_mod
from learnloop._checks import as_sample_weight, as_targets, check_finite, check_positive_int
from learnloop.callbacks import Callback, CallbackList, History, ProgressBar
from learnloop.errors import LearnloopError, NotFittedError
from learnloop.models.batch_sources import Feed, evaluate_feed, fit_source, is_batch_source
from learnloop.models.parameters import FlatParameters, signature
from learnloop.utils import make_rng

Array = np.ndarray
_IGNORED_COMPILE_ARGS = ("run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss")


class Trainer:
    """Mixin giving a layer stack ``compile``, ``fit``, ``evaluate``, ``train_on_batch`` and ``test_on_batch``."""

    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.compiled_metrics: list[metrics_mod.Metric] = []
        self._metric_specs: list = []
        self.stop_training = False
        self.history = None
        self._flat: FlatParameters | None = None
        self._regularized: list = []
        self._batch_spec: tuple | None = None     # (dtype, input shape, output shape) of a source's batches

    # ---- compile -------------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                **kwargs) -> None:
        """Choose the optimizer, the loss and the metrics (objects or Keras names such as "adam", "mse")."""
        unknown = set(kwargs) - set(_IGNORED_COMPILE_ARGS)
        if unknown:
            raise TypeError(f"compile() got unexpected arguments {sorted(unknown)}.")
        if loss is None:
            raise LearnloopError("compile() needs a loss, e.g. loss='mse' or loss=BinaryCrossentropy().")
        if loss_weights is not None:
            raise LearnloopError("loss_weights applies to multi-output models; a Sequential model has one output.")
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = losses_mod.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, metrics_mod.Metric)):
            metrics = [metrics]
        self._metric_specs = list(metrics) + list(weighted_metrics or [])
        self.compiled_metrics = []
        if self.built:
            self._resolve_metrics()
        self._invalidate()

    @property
    def compiled(self) -> bool:
        return self.loss is not None and self.optimizer is not None

    @property
    def metrics_names(self) -> list[str]:
        return ["loss"] + [m.name for m in self.compiled_metrics]

    def _resolve_metrics(self) -> None:
        n_out = self.output.shape[-1] or 1
        self.compiled_metrics = [metrics_mod.get(spec, self.loss, n_out) for spec in self._metric_specs]

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise NotFittedError(f"You must call compile() before {what}; e.g. model.compile(optimizer='adam', "
                                 f"loss='binary_crossentropy').")

    def _check_output_activation(self) -> None:
        last = next((layer for layer in reversed(self._layers) if hasattr(layer, "activation")), None)
        if not isinstance(self.loss, losses_mod._Crossentropy) or last is None:
            return
        squashing = last.activation in (activations_mod.sigmoid, activations_mod.softmax) or \
            type(last).__name__ == "Softmax"
        if self.loss.from_logits and squashing:
            warnings.warn(
                f"{type(self.loss).__name__} received from_logits=True, but the model's output layer "
                f"'{last.name}' applies {last.activation.__name__}, so its outputs are probabilities, not logits. "
                f"Use a linear output layer with from_logits=True, or from_logits=False.", UserWarning, stacklevel=3)
        elif not self.loss.from_logits and last.activation is activations_mod.linear and \
                type(last).__name__ != "Softmax":
            warnings.warn(
                f"{type(self.loss).__name__} expects probabilities (from_logits=False), but the model's output "
                f"layer '{last.name}' is linear, so its outputs are logits. Pass from_logits=True to the loss, "
                f"or give the output layer a sigmoid/softmax activation.", UserWarning, stacklevel=3)

    # ---- parameters ----------------------------------------------------------------------------------------
    def _invalidate(self) -> None:
        self._flat = None
        self._batch_spec = None

    def _parameters(self) -> FlatParameters:
        if self._flat is None or self._flat.signature != signature(self._layers):
            if self._flat is not None and self.optimizer is not None:
                self.optimizer.reset()                 # the layout changed: old moments no longer line up
            self._flat = FlatParameters(self._layers)
            self._regularized = [layer for layer in self._layers if layer.regularized and layer.trainable]
            # A layer needs dL/d(input) only if some trainable layer sits below it.
            below = False
            for layer in self._layers:
                layer.input_grad_needed = below
                below = below or (layer.trainable and any(w.trainable for w in layer.weight_specs()))
            first = next((i for i, layer in enumerate(self._layers) if layer.trainable_weights), None)
            self._backward_layers = [] if first is None else self._layers[first:][::-1]
        return self._flat

    def _optimizer_state(self) -> tuple[int, list[Array]] | None:
        """(step count, slot arrays) of the optimizer for this model's parameters; ``None`` before training."""
        if self.optimizer is None or self._flat is None:
            return None
        params = [p for p, _ in self._flat.pairs]
        arrays = self.optimizer.state_arrays(params)
        return None if arrays is None or not self.optimizer.iterations else (self.optimizer.iterations, arrays)

    def _load_optimizer_state(self, iterations: int, arrays: list[Array]) -> None:
        """Give the compiled optimizer back the state :meth:`_optimizer_state` returned, so ``fit`` resumes."""
        self._require_compiled("loading optimizer state")
        self.optimizer.load_state([p for p, _ in self._parameters().pairs], arrays, iterations)

    def regularization_penalty(self) -> float:
        return sum(layer.regularization_penalty() for layer in self._layers if layer.regularized)

    # ---- one step ------------------------------------------------------------------------------------------
    def train_step(self, x: Array, y: Array, sample_weight: Array | None = None) -> tuple[float, Array]:
        out = self.forward(x, training=True)                         # 1. how the output is computed
        loss, grad = self.loss.value_and_gradient(y, out, sample_weight)   # 2. the loss on this batch
        if self._backward_layers:                                    # 3. gradients by backprop
            for layer in self._backward_layers:
                grad = layer.backward(grad)
            for layer in self._regularized:
                loss += layer.regularization_penalty()
                layer.add_regularization_gradients()
            self.optimizer.apply(self._flat.pairs)                   #    and one optimizer step
        return loss, out

    # ---- fit -----------------------------------------------------------------------------------------------
    def _prepare_xy(self, x, y, where: str, sample_weight=None, class_weight=None):
        x = self._prepare_x(x, where)
        y = as_targets(y, where, x.shape[0])
        out_like = np.broadcast_to(np.zeros((), dtype=x.dtype), (x.shape[0],) + tuple(self.output.shape)[1:])
        y = self.loss.prepare(y, out_like)
        sw = as_sample_weight(sample_weight, where, x.shape[0], x.dtype)
        if class_weight is not None:
            sw = self._apply_class_weight(class_weight, y, sw, where, x.dtype)
        return x, y, sw

    def _prepare_batch(self, x, y, where: str, sample_weight=None, class_weight=None):
        """:meth:`_prepare_xy` for one batch of a source. After the first batch, a batch of arrays of the model's
        dtype and input shape is checked in a few microseconds (finite inputs and targets, matching lengths) instead
        of going through the general conversions again."""
        fast = self._batch_spec
        if fast is not None and type(x) is np.ndarray and type(y) is np.ndarray and sample_weight is None \
                and x.dtype == fast[0] and x.shape[1:] == fast[1] and y.dtype.kind in "biuf" \
                and x.shape[0] == y.shape[0] and x.shape[0]:
            check_finite(x, where)
            if y.dtype.kind == "f" and not np.isfinite(y).all():
                raise LearnloopError(f"{where}: y contains NaN or inf; clean it first.")
            y = self.loss.prepare(y, np.empty((x.shape[0],) + fast[2], dtype=x.dtype))
            if class_weight is not None:
                return x, y, self._apply_class_weight(class_weight, y, None, where, x.dtype)
            return x, y, None
        prepared = self._prepare_xy(x, y, where, sample_weight, class_weight)
        out_shape = tuple(self.output.shape)[1:]
        if type(x) is np.ndarray and not self._n_prefix and all(isinstance(d, int) for d in out_shape):
            self._batch_spec = (prepared[0].dtype, prepared[0].shape[1:], out_shape)
        return prepared

    def _apply_class_weight(self, class_weight: dict, y: Array, sw: Array | None, where: str, dtype) -> Array:
        labels = y if y.ndim == 1 else (np.argmax(y, axis=-1) if y.shape[-1] > 1 else (y[:, 0] > 0.5))
        labels = np.asarray(labels).astype(np.intp)
        missing = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
        if missing:
            raise LearnloopError(f"{where}: class_weight has no entry for classes {missing}.")
        table = np.zeros(int(max(max(class_weight), labels.max())) + 1, dtype=dtype)
        for k, v in class_weight.items():
            table[int(k)] = v
        weights = table[labels]
        return weights if sw is None else sw * weights

    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1, verbose="auto",
            callbacks=None, validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
            class_weight: dict | None = None, sample_weight=None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1, validation_steps: int | None = None) -> History:
        """Train for ``epochs`` passes over ``(x, y)`` in mini-batches of ``batch_size`` (default 32).

        ``x`` may also be a batch source: a :class:`~learnloop.utils.PyDataset`, a generator or another iterable of
        ``(x, y)`` / ``(x, y, sample_weight)`` batches (see :mod:`learnloop.models.batch_sources` for Keras's
        epoch semantics); ``validation_data`` may be one too, read for ``validation_steps`` batches.

        Returns a :class:`~learnloop.callbacks.History` whose ``history`` dict holds "loss", the metrics and,
        with validation data, "val_loss" and "val_<metric>" per epoch.
        """
        self._require_compiled("fit()")
        if is_batch_source(x):
            return fit_source(self, x, y, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
                              class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_batch_size,
                              validation_freq, validation_steps)
        batch_size = 32 if batch_size is None else check_positive_int("fit()", "batch_size", batch_size)
        epochs = int(epochs)
        x, y, sw = self._prepare_xy(x, y, "fit()", sample_weight, class_weight)
        if not self.compiled_metrics and self._metric_specs:
            self._resolve_metrics()
        self._check_output_activation()
        if not 0.0 <= validation_split < 1.0:
            raise LearnloopError(f"validation_split must be in [0, 1); got {validation_split!r}.")
        val = None
        if validation_data is not None:
            val = self._validation(validation_data, validation_steps, validation_batch_size)
        elif validation_split:
            n_val = int(x.shape[0] * validation_split)   # Keras takes the last samples, before shuffling
            if n_val == 0 or n_val == x.shape[0]:
                raise LearnloopError(f"validation_split={validation_split} leaves no training or no validation "
                                     f"samples out of {x.shape[0]}.")
            held = (x[-n_val:], y[-n_val:], None if sw is None else sw[-n_val:])
            val = lambda: self._evaluate_prepared(*held, batch_size=validation_batch_size)  # noqa: E731
            x, y, sw = x[:-n_val], y[:-n_val], (None if sw is None else sw[:-n_val])

        m = x.shape[0]
        steps = -(-m // batch_size) if steps_per_epoch is None else int(steps_per_epoch)
        rng = make_rng(None)

        def epoch_batches():
            order = rng.permutation(m) if shuffle else None
            xs, ys = (x[order], y[order]) if shuffle else (x, y)
            ws = None if sw is None else (sw[order] if shuffle else sw)
            for step in range(steps):
                start = (step * batch_size) % m
                yield step, xs[start:start + batch_size], ys[start:start + batch_size], \
                    None if ws is None else ws[start:start + batch_size]

        self._parameters()
        return self._train(epoch_batches, val, epochs, int(initial_epoch), steps, verbose, callbacks,
                           validation_freq)

    def _validation(self, validation_data, validation_steps, validation_batch_size):
        """A function giving the validation logs of ``validation_data``: (x, y[, sample_weight]) or a source."""
        if is_batch_source(validation_data):
            feed = Feed(validation_data, "fit() validation_data", validation_steps)
            return lambda: evaluate_feed(self, feed)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise LearnloopError("validation_data must be (x_val, y_val), (x_val, y_val, sample_weight), or a "
                                 "PyDataset / generator of such batches.")
        val = self._prepare_xy(*validation_data[:2], "fit() validation_data",
                               validation_data[2] if len(validation_data) == 3 else None)
        return lambda: self._evaluate_prepared(*val, batch_size=validation_batch_size)

    def _train(self, epoch_batches, val, epochs: int, initial_epoch: int, steps: int | None, verbose, callbacks,
               validation_freq: int, feed: Feed | None = None) -> History:
        verbose = 1 if verbose == "auto" else int(verbose)
        history = History()
        cbs = list(callbacks or []) + ([ProgressBar(verbose)] if verbose else []) + [history]
        if any(not isinstance(cb, Callback) for cb in cbs):
            raise LearnloopError("callbacks must be a list of learnloop.callbacks.Callback objects.")
        params = {"epochs": epochs, "steps": steps, "verbose": verbose}
        callback_list = CallbackList(cbs, self, params)
        self.stop_training = False
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):   # divergence shows as a NaN loss
            self._fit_loop(epoch_batches, val, callback_list, params, epochs, initial_epoch, validation_freq, feed)
        self.history = history
        return history

    def _fit_loop(self, epoch_batches, val, callback_list, params, epochs, initial_epoch, validation_freq,
                  feed) -> None:
        batch_logs = callback_list.wants_batches
        callback_list.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            if feed is not None and feed.exhausted:
                warnings.warn(f"fit(): the generator was exhausted after epoch {epoch}; training stops there. Pass "
                              f"steps_per_epoch= with a generator that loops, or a PyDataset, to train for "
                              f"{epochs} epochs.", UserWarning, stacklevel=4)
                break
            callback_list.on_epoch_begin(epoch, {})
            for metric in self.compiled_metrics:
                metric.reset()
            total, seen, steps_done = 0.0, 0, 0
            for step, xb, yb, wb in epoch_batches():
                if batch_logs:
                    callback_list.on_train_batch_begin(step, {})
                loss, out = self.train_step(xb, yb, wb)
                n = xb.shape[0]
                total += loss * n
                seen += n
                steps_done += 1
                for metric in self.compiled_metrics:
                    metric.update(yb, out, wb)
                if batch_logs:
                    callback_list.on_train_batch_end(step, self._logs(total / seen))
                if self.stop_training:
                    break
            if feed is not None:
                feed.end_epoch()
                if not seen:                         # a generator that ran out as this epoch began
                    break
                if params["steps"] is None:         # learnt from the first pass, as Keras does
                    params["steps"] = steps_done
            logs = self._logs(total / max(seen, 1))
            if val is not None and (epoch + 1) % validation_freq == 0:
                logs.update({f"val_{k}": v for k, v in val().items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end({})

    def _logs(self, loss: float) -> dict[str, float]:
        logs = {"loss": float(loss)}
        for metric in self.compiled_metrics:
            logs[metric.name] = metric.result()
        return logs

    # ---- evaluate ------------------------------------------------------------------------------------------
    def _evaluate_prepared(self, x: Array, y: Array, sw: Array | None, batch_size: int | None = None) -> dict:
        out = self._predict_prepared(x, batch_size=batch_size)
        loss = self.loss.value_and_gradient(y, out, sw)[0] + self.regularization_penalty()
        logs = {"loss": float(loss)}
        for spec_metric in self.compiled_metrics:
            metric = metrics_mod.Metric(spec_metric.fn, spec_metric.name, **spec_metric.kwargs)
            metric.update(y, out, sw)
            logs[metric.name] = metric.result()
        return logs

    def evaluate(self, x=None, y=None, batch_size: int | None = None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict: bool = False):
        """Loss (including regularization penalties) and metrics on ``(x, y)``.

        ``x`` may be a PyDataset, a generator or an iterable of batches (``steps`` of them, else one pass).
        Returns the loss alone when no metrics were compiled, else ``[loss, *metrics]``, or a dict with
        ``return_dict=True``.
        """
        self._require_compiled("evaluate()")
        if is_batch_source(x):
            for name, value in (("y", y), ("sample_weight", sample_weight)):
                if value is not None:
                    raise LearnloopError(f"evaluate(): {name}= is not used when x is a {type(x).__name__} (a batch "
                                         f"source); its batches carry (x, y) or (x, y, sample_weight).")
            logs = evaluate_feed(self, Feed(x, "evaluate()", steps), batch_size)
        else:
            x, y, sw = self._prepare_xy(x, y, "evaluate()", sample_weight)
            if not self.compiled_metrics and self._metric_specs:
                self._resolve_metrics()
            logs = self._evaluate_prepared(x, y, sw, batch_size)
        verbose = 0 if verbose == "auto" else int(verbose)
        if verbose:
            from learnloop.callbacks import format_logs

            print(format_logs(logs))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One optimizer step on one batch; returns the loss (and metrics) on that batch."""
        self._require_compiled("train_on_batch()")
        x, y, sw = self._prepare_xy(x, y, "train_on_batch()", sample_weight, class_weight)
        if not self.compiled_metrics and self._metric_specs:
            self._resolve_metrics()
        self._parameters()
        loss, out = self.train_step(x, y, sw)
        logs = {"loss": float(loss)}
        for metric in self.compiled_metrics:
            logs[metric.name] = metric(y, out, sw)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        return self.evaluate(x, y, sample_weight=sample_weight, verbose=0, return_dict=return_dict)
