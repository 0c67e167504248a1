"""What Keras's structured-data preprocessing layers share: raw values in, NumPy out, no weights, no gradients.

StringLookup, IntegerLookup, CategoryEncoding, Hashing, HashedCrossing and Discretization take raw values
(strings, integers, floats with NaN) instead of the float batches the engine computes on, so they replace
``Layer.__call__`` (which casts to float) with their own encoding, and refuse ``backward``. Their encoded outputs
("one_hot", "multi_hot", "count", "tf_idf") are built here, the same way for all of them.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.layers.base import Array, Layer, Shape
from learnloop.shapes import SymbolicTensor

DROPPED = -2   # an index the encoded modes leave out (a mask token outside "int" mode)


def check_choice(where: str, arg: str, value, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``; otherwise an error that lists them and suggests the closest."""
    if isinstance(value, str) and value in allowed:
        return value
    close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise LearnloopError(f"{where}: unknown {arg} {value!r}; expected one of {list(allowed)}.{hint}")


def refuse_sparse(where: str, sparse) -> None:
    if sparse:
        raise LearnloopError(f"{where}: sparse=True is not supported; learnloop has no sparse tensors and always "
                             f"returns dense NumPy arrays. Use sparse=False.")


def check_salt(where: str, salt) -> list[int] | None:
    """Keras's forms of a hash salt: an int (used for both halves of the SipHash key) or a pair of ints."""
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in salt):
        return [int(s) for s in salt]
    if isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
        return [int(salt), int(salt)]
    raise LearnloopError(f"{where}: salt must be an integer or a pair of integers; got {salt!r}.")


def positive_int(where: str, arg: str, value, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise LearnloopError(f"{where}: {arg} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def is_one_batch(data) -> bool:
    """Arrays, lists and strings are one batch of values for ``adapt``; other iterables (generators, PyDatasets)
    yield batches."""
    return (isinstance(data, (list, tuple, np.ndarray, str, bytes)) or hasattr(data, "__array__")
            or not isinstance(data, Iterable))


def batches(data, steps: int | None) -> Iterable:
    """The batches ``adapt`` reads: ``data`` itself when it is one batch, else at most ``steps`` of its items."""
    if is_one_batch(data):
        return [data]
    return data if steps is None else itertools.islice(data, steps)


def encoded_shape(input_shape: Shape, output_mode: str, depth: int | None) -> Shape:
    """Keras's output shapes: "int" keeps the shape; "one_hot" encodes each value (a last axis of 1 is replaced);
    the others encode the last axis (the values of one sample) into ``depth`` slots."""
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    return input_shape[:-1] + (depth,)


def encode(indices: Array, output_mode: str, depth: int, dtype, count_weights: Array | None = None) -> Array:
    """Encode integer ``indices`` (any shape) into ``depth`` slots, as Keras's ``encode_categorical_inputs``.

    Indices outside [0, depth) (``DROPPED`` for a mask token) are left out. "one_hot" gives ``shape + (depth,)``
    (a last axis of 1 is replaced); "multi_hot"/"count" give ``shape[:-1] + (depth,)``: the last axis holds one
    sample's values (a 1-D input is one sample, as in Keras).
    """
    if output_mode == "int":
        return indices
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        flat = indices.reshape(-1)
        out = np.zeros((flat.size, depth), dtype=dtype)
        rows = np.flatnonzero((flat >= 0) & (flat < depth))
        out[rows, flat[rows]] = 1
        return out.reshape(indices.shape + (depth,))
    if indices.ndim == 0:
        indices = indices.reshape(1)
    lead = indices.shape[:-1]
    n = int(np.prod(lead))
    per_sample = indices.reshape(n, indices.shape[-1])
    keep = (per_sample >= 0) & (per_sample < depth)
    slots = (np.arange(n)[:, None] * depth + per_sample)[keep]
    if output_mode == "multi_hot":
        out = np.zeros(n * depth, dtype=dtype)
        out[slots] = 1
    else:                                                  # "count", and the term frequencies of "tf_idf"
        weights = None if count_weights is None else np.broadcast_to(count_weights, per_sample.shape)[keep]
        out = np.bincount(slots, weights=weights, minlength=n * depth).astype(dtype, copy=False)
    return out.reshape(lead + (depth,))


class PreprocessingLayer(Layer):
    """Base of the preprocessing layers: ``layer(values)`` encodes raw values and returns a NumPy array."""

    preprocessing = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True                                  # no weights to create

    @property
    def where(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def output_dtype(self) -> str:
        """The dtype of what the layer returns ("int64" indices, or the layer's float dtype)."""
        return "int64" if getattr(self, "output_mode", "int") == "int" else self.dtype

    def __call__(self, inputs, training: bool = False):
        """Encode raw ``inputs`` (a list or NumPy array of any shape); on a :class:`SymbolicTensor`, its output."""
        if isinstance(inputs, SymbolicTensor):
            return self.symbolic_call(inputs)
        values = inputs if isinstance(inputs, np.ndarray) else np.asarray(inputs)
        out = self.forward(values, training=training)
        if self.output is None:             # as Layer.__call__: the first call on data records the symbolic shapes
            self.symbolic_call(SymbolicTensor((None,) + values.shape[1:], values.dtype))
        return out

    def symbolic_call(self, inputs: SymbolicTensor) -> SymbolicTensor:
        self.input = inputs
        self.output = SymbolicTensor(self.compute_output_shape(tuple(inputs.shape)), self.output_dtype(), layer=self)
        return self.output

    def backward(self, grad: Array) -> Array | None:
        raise LearnloopError(f"{self.where} is a preprocessing layer: it is not differentiable. It runs once on the "
                             f"raw input, ahead of the network, and is never trained.")


def distinct_values(flat: Array, where: str) -> tuple[list, Array]:
    """(the distinct values of a 1-D array as Python objects, (n,) int64 position of each value among them).

    Numbers go through ``np.unique``; text and objects through a dict (``np.unique`` sorts strings in Python,
    about ten times slower), so the work per row stays in C either way.
    """
    if flat.dtype.kind in "iufb":
        distinct, inverse = np.unique(flat, return_inverse=True)
        return distinct.tolist(), inverse.reshape(-1).astype(np.int64, copy=False)
    values = flat.tolist()
    try:
        distinct = list(dict.fromkeys(values))
    except TypeError:
        bad = next(v for v in values if not hashable(v))
        raise LearnloopError(f"{where}: got the value {bad!r} ({type(bad).__name__}); expected strings or "
                             f"numbers.") from None
    position = {value: i for i, value in enumerate(distinct)}
    return distinct, np.fromiter(map(position.__getitem__, values), dtype=np.int64, count=len(values))


def hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
