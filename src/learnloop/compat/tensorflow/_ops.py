"""TensorFlow's array functions (``tf.*``, ``tf.math``, ``tf.nn``, ``tf.linalg``, ``tf.random``) over NumPy and
learnloop's activations and losses. Each takes arrays or tensors and returns a :class:`Tensor`."""

from __future__ import annotations

import random as _py_random

import numpy as np

from learnloop import activations as act
from learnloop import losses as losses_mod
from learnloop.compat.tensorflow._tensor import Tensor, as_dtype, plain, wrap
from learnloop.errors import LearnloopError

__all__ = ["argmax", "argmin", "cast", "clip_by_value", "concat", "constant", "convert_to_tensor", "count_nonzero",
           "cumsum", "expand_dims", "fill", "gather", "identity", "linspace", "matmul", "norm", "one_hot", "ones",
           "ones_like", "rank", "reshape", "shape", "size", "squeeze", "stack", "tile", "transpose", "where", "zeros",
           "zeros_like"]


# ---- making tensors --------------------------------------------------------------------------------------------
def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None) -> Tensor:
    """A tensor from a value: Python floats become float32 and ints int32 (as in TensorFlow); NumPy keeps its dtype."""
    if isinstance(value, Tensor) and dtype is None:
        return value
    is_numpy = isinstance(value, (np.ndarray, np.generic))
    arr = np.asarray(plain(value))
    if dtype is not None:
        return wrap(arr.astype(as_dtype(dtype), copy=False))
    if not is_numpy:
        if dtype_hint is not None and arr.dtype.kind in "iuf":
            arr = arr.astype(as_dtype(dtype_hint))
        elif arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        elif arr.dtype == np.int64:
            arr = arr.astype(np.int32)
    return wrap(arr)


def constant(value, dtype=None, shape=None, name=None) -> Tensor:
    arr = plain(convert_to_tensor(value, dtype)).copy()
    if shape is not None:
        arr = np.full(tuple(shape), arr, dtype=arr.dtype) if arr.size == 1 else arr.reshape(tuple(shape))
    return wrap(arr)


def _t(x) -> np.ndarray:
    """A plain array from anything convert_to_tensor takes."""
    return plain(convert_to_tensor(x))


def cast(x, dtype, name=None) -> Tensor:
    return wrap(np.asarray(plain(x)).astype(as_dtype(dtype)))


def reshape(tensor, shape, name=None) -> Tensor:
    return wrap(_t(tensor).reshape(tuple(shape)))


def zeros(shape, dtype="float32", name=None) -> Tensor:
    return wrap(np.zeros(shape, as_dtype(dtype)))


def ones(shape, dtype="float32", name=None) -> Tensor:
    return wrap(np.ones(shape, as_dtype(dtype)))


def zeros_like(x, dtype=None, name=None) -> Tensor:
    return wrap(np.zeros_like(_t(x), dtype=None if dtype is None else as_dtype(dtype)))


def ones_like(x, dtype=None, name=None) -> Tensor:
    return wrap(np.ones_like(_t(x), dtype=None if dtype is None else as_dtype(dtype)))


def fill(dims, value, name=None) -> Tensor:
    return wrap(np.full(tuple(dims), _t(value)))


def range_(start, limit=None, delta=1, dtype=None, name=None) -> Tensor:
    values = np.arange(start, limit, delta) if limit is not None else np.arange(start)
    return convert_to_tensor(values.tolist() if dtype is None else values, dtype)


def linspace(start, stop, num, name=None, axis=0) -> Tensor:
    return wrap(np.linspace(_t(start), _t(stop), int(num), axis=axis))


def one_hot(indices, depth, on_value=None, off_value=None, axis=-1, dtype=None, name=None) -> Tensor:
    """``depth``-long one-hot vectors; out-of-range indices give all-off rows, as in TensorFlow."""
    idx = np.asarray(plain(indices))
    dtype = as_dtype(dtype) if dtype is not None else np.dtype(np.float32)
    hot = (idx[..., None] == np.arange(int(depth))).astype(dtype)
    if on_value is not None or off_value is not None:
        on = 1 if on_value is None else on_value
        off = 0 if off_value is None else off_value
        hot = np.where(hot.astype(bool), on, off).astype(dtype)
    return wrap(np.moveaxis(hot, -1, axis) if axis != -1 else hot)


def identity(x, name=None) -> Tensor:
    return wrap(_t(x).copy())


# ---- shapes and indexing -----------------------------------------------------------------------------------------
def shape(x, out_type=None, name=None) -> Tensor:
    return wrap(np.array(np.shape(plain(x)), dtype=np.int32 if out_type is None else as_dtype(out_type)))


def size(x, out_type=None, name=None) -> Tensor:
    return wrap(np.array(np.size(plain(x)), dtype=np.int32 if out_type is None else as_dtype(out_type)))


def rank(x, name=None) -> Tensor:
    return wrap(np.array(np.ndim(plain(x)), dtype=np.int32))


def transpose(a, perm=None, conjugate=False, name=None) -> Tensor:
    return wrap(np.transpose(_t(a), perm))


def expand_dims(x, axis, name=None) -> Tensor:
    return wrap(np.expand_dims(_t(x), axis))


def squeeze(x, axis=None, name=None) -> Tensor:
    return wrap(np.squeeze(_t(x), axis=None if axis is None else tuple(np.atleast_1d(axis))))


def concat(values, axis, name=None) -> Tensor:
    return wrap(np.concatenate([_t(v) for v in values], axis=axis))


def stack(values, axis=0, name=None) -> Tensor:
    return wrap(np.stack([_t(v) for v in values], axis=axis))


def tile(x, multiples, name=None) -> Tensor:
    return wrap(np.tile(_t(x), tuple(multiples)))


def gather(params, indices, axis=None, batch_dims=0, name=None) -> Tensor:
    return wrap(np.take(_t(params), np.asarray(plain(indices)), axis=0 if axis is None else axis))


def where(condition, x=None, y=None, name=None) -> Tensor:
    if x is None and y is None:
        return wrap(np.argwhere(np.asarray(plain(condition))).astype(np.int64))
    return wrap(np.where(np.asarray(plain(condition)), plain(x), plain(y)))


def clip_by_value(t, clip_value_min, clip_value_max, name=None) -> Tensor:
    return wrap(np.clip(_t(t), plain(clip_value_min), plain(clip_value_max)))


# ---- elementwise and reductions (also in tf.math) ------------------------------------------------------------
def _unary(fn):
    def op(x, name=None):
        return wrap(fn(_t(x)))
    op.__name__ = fn.__name__
    return op


def _binary(fn):
    def op(x, y, name=None):
        return wrap(fn(_t(x), _t(y)))
    op.__name__ = fn.__name__
    return op


def _reduce(fn):
    def op(input_tensor, axis=None, keepdims=False, name=None):
        axis = tuple(np.atleast_1d(plain(axis)).tolist()) if axis is not None else None
        return wrap(fn(_t(input_tensor), axis=axis, keepdims=keepdims))
    return op


def _logsumexp(x, axis=None, keepdims=False):
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


ELEMENTWISE = {name: _unary(fn) for name, fn in {
    "exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt, "square": np.square,
    "abs": np.abs, "negative": np.negative, "sign": np.sign, "round": np.round, "floor": np.floor, "ceil": np.ceil,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "reciprocal": np.reciprocal, "rsqrt": lambda a: 1 / np.sqrt(a),
    "is_nan": np.isnan, "is_finite": np.isfinite, "is_inf": np.isinf, "logical_not": np.logical_not,
    "sigmoid": act.sigmoid, "tanh": np.tanh, "softplus": act.softplus,
}.items()}
ELEMENTWISE.update({name: _binary(fn) for name, fn in {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide, "truediv": np.true_divide,
    "floordiv": np.floor_divide, "mod": np.mod, "pow": np.power, "maximum": np.maximum, "minimum": np.minimum,
    "equal": np.equal, "not_equal": np.not_equal, "greater": np.greater, "greater_equal": np.greater_equal,
    "less": np.less, "less_equal": np.less_equal, "logical_and": np.logical_and, "logical_or": np.logical_or,
    "squared_difference": lambda a, b: np.square(a - b),
}.items()})
REDUCTIONS = {name: _reduce(fn) for name, fn in {
    "reduce_sum": np.sum, "reduce_mean": np.mean, "reduce_max": np.max, "reduce_min": np.min,
    "reduce_prod": np.prod, "reduce_any": np.any, "reduce_all": np.all, "reduce_std": np.std,
    "reduce_variance": np.var, "reduce_logsumexp": _logsumexp,
}.items()}


def argmax(input, axis=None, output_type="int64", name=None) -> Tensor:
    """Index of the largest value along ``axis`` (TensorFlow's default axis is 0, not the flattened array)."""
    return wrap(np.argmax(_t(input), axis=0 if axis is None else axis).astype(as_dtype(output_type)))


def argmin(input, axis=None, output_type="int64", name=None) -> Tensor:
    return wrap(np.argmin(_t(input), axis=0 if axis is None else axis).astype(as_dtype(output_type)))


def count_nonzero(input, axis=None, keepdims=False, dtype="int64", name=None) -> Tensor:
    return wrap(np.asarray(np.count_nonzero(_t(input), axis=axis, keepdims=keepdims)).astype(as_dtype(dtype)))


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None) -> Tensor:
    a = _t(x)
    a = np.flip(a, axis) if reverse else a
    out = np.cumsum(a, axis=axis)
    if exclusive:
        out = out - a
    return wrap(np.flip(out, axis) if reverse else out)


def matmul(a, b, transpose_a=False, transpose_b=False, name=None, **kwargs) -> Tensor:
    a, b = _t(a), _t(b)
    return wrap(np.matmul(np.swapaxes(a, -1, -2) if transpose_a else a, np.swapaxes(b, -1, -2) if transpose_b else b))


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None) -> Tensor:
    a = _t(tensor)
    if ord in ("euclidean", 2) and axis is None:
        return wrap(np.sqrt(np.sum(a * a)))
    return wrap(np.linalg.norm(a, ord=None if ord == "euclidean" else ord, axis=axis, keepdims=bool(keepdims)))


# ---- tf.nn ------------------------------------------------------------------------------------------------------
def softmax(logits, axis=None, name=None) -> Tensor:
    return wrap(act.softmax(_t(logits), axis=-1 if axis is None else axis))


def log_softmax(logits, axis=None, name=None) -> Tensor:
    return wrap(act.log_softmax(_t(logits), axis=-1 if axis is None else axis))


def log_sigmoid(x, name=None) -> Tensor:
    """log sigmoid(z) = -softplus(-z), accurate in both tails."""
    return wrap(-act.softplus(-_t(x)))


def relu(features, name=None) -> Tensor:
    return wrap(act.relu(_t(features)))


def relu6(features, name=None) -> Tensor:
    return wrap(act.relu(_t(features), max_value=6.0))


def leaky_relu(features, alpha=0.2, name=None) -> Tensor:
    return wrap(act.leaky_relu(_t(features), negative_slope=alpha))


def elu(features, name=None) -> Tensor:
    return wrap(act.elu(_t(features)))


def gelu(features, approximate=False, name=None) -> Tensor:
    return wrap(act.gelu(_t(features), approximate=approximate))


def silu(features, beta=1.0, name=None) -> Tensor:
    z = _t(features)
    return wrap(z * act.sigmoid(beta * z))


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None) -> Tensor:
    """Elementwise -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)), computed without overflow or cancellation."""
    z = _t(logits)
    y = np.asarray(plain(labels), dtype=z.dtype)
    return wrap(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z))))


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None) -> Tensor:
    z = _t(logits)
    y = np.asarray(plain(labels), dtype=z.dtype)
    return wrap(-(y * act.log_softmax(z, axis=axis)).sum(axis=axis))


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None) -> Tensor:
    z = _t(logits)
    labels = losses_mod.sparse_labels(plain(labels), z.shape[-1], z.shape[0],
                                      where="tf.nn.sparse_softmax_cross_entropy_with_logits")
    return wrap(-act.log_softmax(z)[np.arange(z.shape[0]), labels])


def l2_loss(t, name=None) -> Tensor:
    a = _t(t)
    return wrap(np.sum(a * a) / 2)


# ---- tf.random --------------------------------------------------------------------------------------------------
def set_seed(seed) -> None:
    """Seed what TensorFlow's seed covers here (learnloop's weights, shuffles and dropout); NumPy's and Python's
    global generators are left alone, as ``tf.random.set_seed`` leaves them."""
    from learnloop.utils import set_random_seed

    numpy_state, python_state = np.random.get_state(), _py_random.getstate()
    set_random_seed(int(seed))
    np.random.set_state(numpy_state)
    _py_random.setstate(python_state)


def _rng(seed):
    from learnloop.utils import global_rng

    return np.random.default_rng(seed) if seed is not None else global_rng()


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None) -> Tensor:
    return wrap(_rng(seed).normal(mean, stddev, size=tuple(shape)).astype(as_dtype(dtype)))


def uniform(shape, minval=0, maxval=None, dtype="float32", seed=None, name=None) -> Tensor:
    dtype = as_dtype(dtype)
    if dtype.kind in "iu":
        if maxval is None:
            raise LearnloopError("tf.random.uniform with an integer dtype needs maxval.")
        return wrap(_rng(seed).integers(minval, maxval, size=tuple(shape)).astype(dtype))
    return wrap(_rng(seed).uniform(minval, 1.0 if maxval is None else maxval, size=tuple(shape)).astype(dtype))


def shuffle(value, seed=None, name=None) -> Tensor:
    return wrap(_rng(seed).permutation(_t(value)))

