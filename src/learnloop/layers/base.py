"""The Layer contract.

A layer's life: ``build(input_shape)`` creates its weights with :meth:`Layer.add_weight` once the input shape is
known; ``forward(x, training)`` computes the output and caches what ``backward`` needs; ``backward(grad)`` takes
dL/d(output), fills ``self.grads[name]`` for each trainable weight (in place, when ``self.trainable``) and returns
dL/d(input), or ``None`` when ``self.input_grad_needed`` is False (the model clears it on the first layer).

Weights are plain NumPy arrays held as attributes (``layer.kernel``); a model may move them into one flat buffer
and rebind the attributes to views of it, so a layer must always read ``self.<name>`` and update weights in place.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np

from learnloop import initializers as initializers_mod
from learnloop import regularizers as regularizers_mod
from learnloop.config import standardize_dtype
from learnloop.errors import LearnloopError, ModelFileError, NotFittedError
from learnloop.shapes import SymbolicTensor, TensorShape

Array = np.ndarray
Shape = tuple  # (None, d1, d2, ...): batch axis first, None when unknown

_NAME_COUNTS: dict[str, int] = defaultdict(int)
_FROM_FILE: ContextVar[list[int] | None] = ContextVar("learnloop_weights_from_file", default=None)


@contextmanager
def weights_from_file(values: int) -> Iterator[None]:
    """Build layers whose weights a file will fill: ``add_weight`` makes zero arrays (no initializer runs) and
    refuses, before allocating, to make more than ``values`` values in all (what the file stores)."""
    token = _FROM_FILE.set([int(values)])
    try:
        yield
    finally:
        _FROM_FILE.reset(token)


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()          # Keras's rule: Conv2D -> conv2d


def unique_name(prefix: str) -> str:
    """``dense``, ``dense_1``, ``dense_2``... as Keras names new layers."""
    n = _NAME_COUNTS[prefix]
    _NAME_COUNTS[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


@dataclass
class Weight:
    """Bookkeeping for one weight: the attribute that holds it, and how it is trained."""

    attr: str
    shape: tuple[int, ...]
    trainable: bool
    regularizer: regularizers_mod.Regularizer | None = None


class Layer:
    """Base class of every learnloop layer (see the module docstring for the contract)."""

    # True for layers that take raw values (strings, ints, dicts of columns) ahead of the float engine: applied
    # once to the input, never trained or differentiated
    preprocessing = False

    def __init__(self, name: str | None = None, trainable: bool = True, dtype=None,
                 input_shape: tuple | None = None, input_dim: int | None = None, batch_input_shape=None):
        if name is not None and (not isinstance(name, str) or not name):
            raise LearnloopError(f"A layer name must be a non-empty string; got {name!r}.")
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self.dtype = standardize_dtype(dtype).name
        self._trainable = bool(trainable)
        self.built = False
        self.input_grad_needed = True
        self._weights: list[Weight] = []
        self.grads: dict[str, Array] = {}
        self.input: SymbolicTensor | None = None
        self.output: SymbolicTensor | None = None
        # Keras accepts the model's input shape on its first layer.
        if input_dim is not None:
            input_shape = (int(input_dim),)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        self._declared_input_shape = None if input_shape is None else (None,) + tuple(input_shape)

    # ---- weights -------------------------------------------------------------------------------------------
    def add_weight(self, name: str, shape, initializer="zeros", regularizer=None, trainable: bool = True) -> Array:
        """Create weight ``name`` of ``shape``, store it as ``self.<name>`` and register it; returns the array."""
        init = initializers_mod.get(initializer)
        shape = tuple(int(s) for s in shape)
        left = _FROM_FILE.get()
        if left is not None:
            size = math.prod(shape)
            if min(shape, default=0) < 0 or size > left[0]:
                raise ModelFileError(f"the weights do not fit the architecture: layer '{self.name}' declares weight "
                                     f"'{name}' of shape {shape} ({size:,} values); the file stores only {left[0]:,} "
                                     f"more values.")
            left[0] -= size
            value = np.zeros(shape, dtype=standardize_dtype(self.dtype))
        else:
            value = init(shape, dtype=self.dtype)
        setattr(self, name, value)
        self._weights.append(Weight(name, shape, trainable, regularizers_mod.get(regularizer)))
        if trainable:
            self.grads[name] = np.zeros(value.shape, dtype=value.dtype)   # untouched (no memory) until backward
        return value

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)

    def weight_specs(self) -> list[Weight]:
        return list(self._weights)

    @property
    def weights(self) -> list[Array]:
        """Trainable weights first, then the rest (Keras's order)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[Array]:
        if not self._trainable:
            return []
        return [getattr(self, w.attr) for w in self._weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Array]:
        return [getattr(self, w.attr) for w in self._weights if not (w.trainable and self._trainable)]

    def get_weights(self) -> list[Array]:
        """Copies of the weights in creation order (``[]`` before the layer is built)."""
        return [getattr(self, w.attr).copy() for w in self._weights]

    def set_weights(self, weights) -> None:
        """Overwrite the weights in place, in the order of :meth:`get_weights`; any float or int arrays."""
        weights = list(weights)
        if not self.built:
            raise NotFittedError(
                f"Layer '{self.name}' has no weights yet: build it first (call it on data, or build the model).")
        if len(weights) != len(self._weights):
            raise LearnloopError(
                f"Layer '{self.name}' expects {len(self._weights)} weight arrays "
                f"({[w.attr for w in self._weights]}); got {len(weights)}.")
        for spec, value in zip(self._weights, weights):
            value = np.asarray(value)
            if value.shape != spec.shape:
                raise LearnloopError(
                    f"Layer '{self.name}' weight '{spec.attr}' has shape {spec.shape}; got an array of shape "
                    f"{value.shape}.")
            if not np.issubdtype(value.dtype, np.number) or not np.all(np.isfinite(value)):
                raise LearnloopError(f"Layer '{self.name}' weight '{spec.attr}' must be finite numbers.")
            getattr(self, spec.attr)[...] = value

    def count_params(self) -> int:
        return int(sum(int(np.prod(w.shape)) for w in self._weights))

    def regularization_penalty(self) -> float:
        """Sum of this layer's weight penalties (0.0 when none)."""
        return float(sum(w.regularizer.penalty(getattr(self, w.attr)) for w in self._weights if w.regularizer))

    def add_regularization_gradients(self) -> None:
        """``grads[name] += dpenalty/dw`` for each regularized trainable weight."""
        if not self._trainable:
            return
        for w in self._weights:
            if w.regularizer is not None and w.trainable:
                w.regularizer.add_gradient(getattr(self, w.attr), self.grads[w.attr])

    @property
    def regularized(self) -> bool:
        return any(w.regularizer is not None for w in self._weights)

    # ---- shapes and building -------------------------------------------------------------------------------
    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis first, may be None)."""
        self.built = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def ensure_built(self, input_shape: Shape) -> None:
        if not self.built:
            self.build(tuple(input_shape))
            self.built = True
        self._built_input_shape = (None,) + tuple(input_shape)[1:]

    def check_input_shape(self, shape: Shape) -> None:
        """Raise a clear error if inputs of ``shape`` cannot go through this built layer."""

    def symbolic_call(self, inputs: SymbolicTensor) -> SymbolicTensor:
        """Build from a symbolic input and return the symbolic output (sets ``self.input``/``self.output``)."""
        shape = tuple(inputs.shape)
        self.ensure_built(shape)
        self.check_input_shape(shape)
        self.input = inputs
        self.output = SymbolicTensor(self.compute_output_shape(shape), self.dtype, layer=self)
        return self.output

    # ---- computing -----------------------------------------------------------------------------------------
    def forward(self, x: Array, *, training: bool = False) -> Array:
        raise NotImplementedError

    def backward(self, grad: Array) -> Array | None:
        raise NotImplementedError

    def __call__(self, inputs, training: bool = False):
        """On a :class:`SymbolicTensor`: build and return the symbolic output. On an array: the layer's output."""
        if isinstance(inputs, SymbolicTensor):
            return self.symbolic_call(inputs)
        x = np.asarray(inputs)
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        if x.ndim < 2:
            raise LearnloopError(
                f"Layer '{self.name}' expects a batch of inputs (at least 2-D, batch first); got a {x.ndim}-D "
                f"array of shape {x.shape}. For one sample use x.reshape(1, -1).")
        if not self.built:
            self.symbolic_call(SymbolicTensor((None,) + x.shape[1:], self.dtype))
        self.check_input_shape(x.shape)
        return self.forward(x, training=training)

    # ---- config --------------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        config = {"name": self.name, "trainable": self._trainable, "dtype": self.dtype}
        if self._declared_input_shape is not None:
            config["input_shape"] = list(self._declared_input_shape[1:])
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    @property
    def input_shape(self) -> tuple:
        if self.input is None:
            raise NotFittedError(f"Layer '{self.name}' has not been called yet, so it has no defined input shape.")
        return tuple(self.input.shape)

    @property
    def output_shape(self) -> tuple:
        if self.output is None:
            raise NotFittedError(f"Layer '{self.name}' has not been called yet, so it has no defined output shape.")
        return tuple(self.output.shape)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def feature_shape(shape: Shape) -> TensorShape:
    """The shape without its batch axis."""
    return TensorShape(tuple(shape)[1:])
