"""Sequential: a stack of layers, each feeding the next. Structure, building, inference and weights live here;
compile/fit/evaluate come from :class:`~learnloop.models.training.Trainer`."""

from __future__ import annotations

import math

import numpy as np

from learnloop._checks import as_features, check_finite, check_positive_int
from learnloop.errors import LearnloopError, NotFittedError
from learnloop.layers.base import Layer, unique_name
from learnloop.layers.feature_space import FeatureSpace
from learnloop.layers.input_layer import InputLayer
from learnloop.models.batch_sources import Feed, is_batch_source, predict_feed
from learnloop.models.summary import format_summary
from learnloop.models.training import Trainer
from learnloop.shapes import SymbolicTensor

Array = np.ndarray
_PREDICT_CHUNK_VALUES = 800_000  # predict chunks hold about this many values of their largest array (3 MB float32),
#                                 so the finite check and the first matmul read each chunk from cache


class Sequential(Trainer):
    """A linear stack of layers: ``Sequential([Input((400,)), Dense(25, "relu"), Dense(1, "sigmoid")])``.

    The model is built (weights created, shapes known) by an ``Input`` first, by ``build(input_shape)``, by a first
    layer given ``input_shape=``, or lazily by the first data it sees.
    """

    def __init__(self, layers=None, name: str | None = None, trainable: bool = True):
        super().__init__()
        self.name = name or unique_name("sequential")
        self._input_layer: InputLayer | None = None
        self._layers: list[Layer] = []
        self._n_prefix = 0                  # leading preprocessing layers (raw values in, floats out)
        self.built = False
        self.metadata: dict = {}
        for layer in layers or []:
            self.add(layer)
        if not trainable:
            self.trainable = False

    # ---- structure -----------------------------------------------------------------------------------------
    def add(self, layer) -> None:
        """Append a layer (or, first, an ``Input``/``InputLayer``); builds it at once when the input shape is known."""
        if isinstance(layer, SymbolicTensor):
            if not isinstance(layer.layer, InputLayer):
                raise LearnloopError("Sequential.add takes layers or an Input(...); got a symbolic tensor of a layer.")
            layer = layer.layer
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise LearnloopError("An Input can only be the first entry of a Sequential model.")
            self._input_layer = layer
            self.built = False
            self._build_from(self._input_layer.output)
            return
        if not isinstance(layer, Layer):
            raise LearnloopError(f"Sequential.add expects a learnloop layer; got {type(layer).__name__} {layer!r}.")
        if any(existing is layer for existing in self._layers):
            raise LearnloopError(f"Layer '{layer.name}' is already in this model.")
        names = {existing.name for existing in self._layers}
        if layer.name in names:
            raise LearnloopError(f"All layers in a model must have unique names; '{layer.name}' is used twice.")
        if getattr(layer, "preprocessing", False) and len(self._layers) > self._n_prefix:
            raise LearnloopError(f"{type(layer).__name__} '{layer.name}' is a preprocessing layer: it takes raw "
                                 f"values, so it can only come before the network's layers, at the start of the "
                                 f"model.")
        self._layers.append(layer)
        self._n_prefix += bool(getattr(layer, "preprocessing", False))
        self._invalidate()
        if self._input_layer is None and len(self._layers) == 1 and layer._declared_input_shape is not None:
            self._input_layer = InputLayer(shape=layer._declared_input_shape[1:], dtype=layer.dtype)
        if self._input_layer is not None or self.feature_space is not None:
            if len(self._layers) == 1:
                out = None if self._input_layer is None else self._input_layer.output
                ready = self._input_layer is not None or layer.output is not None
            else:
                out = self._layers[-2].output
                ready = out is not None
            if ready:
                layer.symbolic_call(out)
                self._mark_built()

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise LearnloopError("pop() on a Sequential model with no layers.")
        layer = self._layers.pop()
        self._n_prefix = min(self._n_prefix, len(self._layers))
        self._invalidate()
        if not self._layers:
            self.built = self._input_layer is not None
        return layer

    @property
    def layers(self) -> list[Layer]:
        """The layers, without the input layer (as Keras counts them)."""
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``name`` or by ``index`` into :attr:`layers`."""
        if (name is None) == (index is None):
            raise LearnloopError("get_layer takes exactly one of name= or index=.")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise LearnloopError(f"get_layer(index={index}): the model has {len(self._layers)} layers.")
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise LearnloopError(f"No such layer: '{name}'. Existing layers are: {[layer.name for layer in self._layers]}.")

    @property
    def feature_space(self):
        """The FeatureSpace the model starts with (it then takes dicts of columns), else ``None``."""
        first = self._layers[0] if self._layers else None
        return first if isinstance(first, FeatureSpace) else None

    @property
    def preprocessing_layers(self) -> list[Layer]:
        """The leading layers that take raw values (a FeatureSpace, lookups...), applied once ahead of the network."""
        return self._layers[:self._n_prefix]

    # ---- building ------------------------------------------------------------------------------------------
    def build(self, input_shape=None) -> None:
        """Create every layer's weights for inputs of ``input_shape`` (batch axis first, e.g. ``(None, 400)``)."""
        if self.feature_space is not None:
            self._require_adapted("build()")
            self._build_from(None)
            return
        if input_shape is None:
            if self._input_layer is None:
                raise LearnloopError("build() needs input_shape=(None, n_features) on a model without an Input.")
            input_shape = self._input_layer.output.shape
        input_shape = tuple(input_shape)
        if len(input_shape) < 2:
            raise LearnloopError(
                f"build() takes the batch shape, e.g. (None, {input_shape[0] if input_shape else 'n'}); "
                f"got {input_shape}.")
        if self._input_layer is None or tuple(self._input_layer.output.shape)[1:] != input_shape[1:]:
            dtype = self._layers[0].dtype if self._layers else None
            self._input_layer = InputLayer(shape=input_shape[1:], dtype=dtype)
        self._build_from(self._input_layer.output)

    def _build_from(self, tensor: SymbolicTensor) -> None:
        for layer in self._layers:
            tensor = layer.symbolic_call(tensor)
        self._mark_built()

    def _mark_built(self) -> None:
        has_input = self._input_layer is not None or (self.feature_space is not None and
                                                      self.feature_space.output is not None)
        self.built = has_input and all(layer.built for layer in self._layers)
        self._invalidate()

    def _require_adapted(self, where: str) -> None:
        space = self.feature_space
        if space is not None and not space.adapted:
            raise NotFittedError(f"{where}: the model starts with FeatureSpace '{space.name}', which is not adapted "
                                 f"yet; call feature_space.adapt(data) on the training columns first.")

    def _ensure_built(self, x: Array) -> None:
        if not self.built:
            if not self._layers:
                raise LearnloopError("The model has no layers; add some before using it.")
            if self._n_prefix:                         # raw stages ran already: build the network from their output
                self._build_network((None,) + x.shape[1:])
                return
            self.build((None,) + x.shape[1:])

    def _build_network(self, shape: tuple) -> None:
        """Build the layers after the preprocessing ones for inputs of ``shape`` (what the preprocessing gives)."""
        tensor = SymbolicTensor(tuple(shape), self.dtype)
        for layer in self._layers[self._n_prefix:]:
            tensor = layer.symbolic_call(tensor)
        self.built = True
        self._invalidate()

    def _preprocess(self, x, where: str) -> Array:
        """Run the preprocessing layers on raw input: a dict of columns, a DataFrame, strings..."""
        self._require_adapted(where)
        for layer in self._layers[:self._n_prefix]:
            x = layer.encode(x, where) if isinstance(layer, FeatureSpace) else layer(x)
        return x

    @property
    def input(self) -> SymbolicTensor:
        if self.feature_space is not None:
            self._require_adapted("input")
            return {name: SymbolicTensor((None, 1), "float32", name=name) for name in self.feature_space.column_names}
        if self._input_layer is None:
            raise NotFittedError(f"The layer {self.name} has never been called and thus has no defined input.")
        return self._input_layer.output

    @property
    def output(self) -> SymbolicTensor:
        if not self.built or not self._layers:
            raise NotFittedError(f"The layer {self.name} has never been called and thus has no defined output.")
        return self._layers[-1].output

    inputs = property(lambda self: [self.input])
    outputs = property(lambda self: [self.output])

    @property
    def input_shape(self) -> tuple | dict:
        """(None, ...) of the input; for a model starting with a FeatureSpace, column name -> (None, 1)."""
        if self.feature_space is not None:
            return {name: tuple(t.shape) for name, t in self.input.items()}
        return tuple(self.input.shape)

    @property
    def output_shape(self) -> tuple:
        return tuple(self.output.shape)

    @property
    def dtype(self) -> str:
        if self._input_layer is not None and not self._layers:
            return self._input_layer.dtype
        return self._layers[0].dtype if self._layers else "float32"

    # ---- inference -----------------------------------------------------------------------------------------
    def forward(self, x: Array, *, training: bool = False) -> Array:
        """The output for a validated batch ``x`` (no checks; the fit loop's path). With preprocessing layers,
        ``x`` is their output: they ran once, on the raw input, in :meth:`_prepare_x`."""
        for layer in self._layers[self._n_prefix:] if self._n_prefix else self._layers:
            x = layer.forward(x, training=training)
        return x

    def _prepare_x(self, x, where: str, finite: bool = True) -> Array:
        dtype = np.dtype(self.dtype)
        if self._n_prefix:
            x = self._preprocess(x, where)
        arr = as_features(x, where, dtype, finite=finite)
        self._ensure_built(arr)
        source = self._layers[self._n_prefix - 1] if self._n_prefix else self._input_layer
        expected = tuple(source.output.shape)[1:]
        if arr.shape[1:] != expected and not any(d is None for d in expected):
            first = self._layers[self._n_prefix] if self._n_prefix < len(self._layers) else self._layers[0]
            first.check_input_shape(arr.shape)           # the layer's own message (e.g. a missing channel axis)
            raise LearnloopError(
                f"{type(first).__name__} '{first.name}' expects inputs with "
                f"{expected[-1] if len(expected) == 1 else expected} features; got an array of shape {arr.shape}.")
        return arr

    def _largest_sample(self, sample_size: int) -> int:
        """Values per sample of the largest array a forward pass makes (input or any layer's output)."""
        sizes = [sample_size] + [math.prod(d or 1 for d in layer.output.shape[1:])
                                 for layer in self._layers[self._n_prefix:] if layer.output is not None]
        return max(sizes)

    def predict(self, x, batch_size: int | None = None, verbose="auto", steps=None, callbacks=None) -> Array:
        """Outputs for ``x`` (samples, ...): what the last layer computes (logits for a ``from_logits`` loss).

        Rows are processed in chunks of ``batch_size`` (default: sized so the largest array of the forward pass
        stays near 3 MB, which gives the same numbers as Keras's 32-row chunks, faster and in bounded memory).
        ``verbose`` is accepted for Keras compatibility; prediction prints nothing. ``x`` may also be a PyDataset,
        a generator or an iterable of batches (``x`` or ``(x, ...)``; ``steps`` of them, else one pass).
        """
        if is_batch_source(x):
            return predict_feed(self, Feed(x, "predict()", steps), batch_size)
        return self._predict_prepared(self._prepare_x(x, "predict()", finite=False), batch_size)

    def _predict_prepared(self, arr: Array, batch_size: int | None = None) -> Array:
        """predict() on an input already read (and preprocessed); the finite check runs chunk by chunk."""
        m = arr.shape[0]
        if batch_size is None:
            batch_size = max(32, _PREDICT_CHUNK_VALUES // self._largest_sample(arr[0].size))
        else:
            batch_size = check_positive_int("predict()", "batch_size", batch_size)
        if m <= batch_size:
            check_finite(arr, "predict()")
            return self.forward(arr, training=False)
        out = None
        for i in range(0, m, batch_size):
            chunk = arr[i:i + batch_size]
            check_finite(chunk, "predict()", offset=i)
            part = self.forward(chunk, training=False)
            if out is None:
                out = np.empty((m,) + part.shape[1:], dtype=part.dtype)
            out[i:i + len(part)] = part
        return out

    def predict_on_batch(self, x) -> Array:
        return self.predict(x)

    def __call__(self, x, training: bool = False):
        """On a symbolic tensor: build and return the symbolic output. On an array: the output (like predict)."""
        if isinstance(x, SymbolicTensor) and not self._n_prefix:
            if self._input_layer is None:
                self._input_layer = InputLayer(shape=tuple(x.shape)[1:], dtype=x.dtype)
            self._build_from(x)
            return self.output
        arr = self._prepare_x(x, f"{self.name}(x)")
        return self.forward(arr, training=training).copy()

    # ---- weights -------------------------------------------------------------------------------------------
    def _require_built(self, what: str) -> None:
        if not self.built:
            raise NotFittedError(
                f"{what}: the model '{self.name}' is not built yet. Give it an Input, call build(input_shape), "
                f"or call it on data first.")

    @property
    def weights(self) -> list[Array]:
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[Array]:
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[Array]:
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    def get_weights(self) -> list[Array]:
        """Copies of every layer's weights, layer by layer in creation order (Keras's order)."""
        return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        """Overwrite all weights in place from a list in :meth:`get_weights` order (float64 or ints accepted)."""
        self._require_built("set_weights()")
        weights = list(weights)
        expected = sum(len(layer.weight_specs()) for layer in self._layers)
        if len(weights) != expected:
            raise LearnloopError(f"set_weights() expects a list of {expected} arrays for model '{self.name}'; "
                                 f"got {len(weights)}.")
        i = 0
        for layer in self._layers:
            n = len(layer.weight_specs())
            if n:
                layer.set_weights(weights[i:i + n])
            i += n

    def count_params(self) -> int:
        self._require_built("count_params()")
        return sum(layer.count_params() for layer in self._layers)

    @property
    def trainable(self) -> bool:
        return all(layer.trainable for layer in self._layers) if self._layers else True

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for layer in self._layers:
            layer.trainable = value

    def summary(self, line_length: int | None = None, positions=None, print_fn=None, style: str = "keras3",
                **kwargs) -> None:
        """Print the layers, their output shapes and parameter counts, and the totals (Keras 3's table, or Keras 2's
        layout with ``style="keras2"``)."""
        text = format_summary(self, line_length=line_length, style=style, positions=positions)
        (print_fn or print)(text)

    def _repr_html_(self) -> str:
        from learnloop.models.summary import summary_html

        return summary_html(self)

    # ---- saving --------------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        from learnloop.saving import layer_to_config

        layers = [layer_to_config(layer) for layer in ([self._input_layer] if self._input_layer else [])
                  + self._layers]
        config = {"name": self.name, "layers": layers}
        if self.built and self._n_prefix and self.feature_space is None and self._input_layer is None:
            # built from data through raw-input layers: the network's input shape, to build it again on load
            config["network_input_shape"] = list(self._layers[self._n_prefix].input.shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        from learnloop.saving import layer_from_config

        model = cls([layer_from_config(c) for c in config["layers"]], name=config.get("name"))
        shape = config.get("network_input_shape")
        if shape is not None and not model.built and model._n_prefix < len(model._layers):
            if not isinstance(shape, list) or not all(d is None or (isinstance(d, int) and d > 0) for d in shape):
                raise LearnloopError(f"network_input_shape must be a list of positive ints or null; got {shape!r}.")
            model._build_network(tuple(shape))
        return model

    def save(self, filepath, overwrite: bool = True) -> None:
        """Write the model (architecture, weights, compile settings) to one zip file, atomically."""
        from learnloop.saving import save_model

        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Write only the weights (an ``.npz`` file), atomically."""
        from learnloop.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath) -> None:
        from learnloop.saving import load_weights

        load_weights(self, filepath)

    def __repr__(self) -> str:
        return f"<Sequential name={self.name}, layers={len(self._layers)}, built={self.built}>"
