"""TensorFlow's eager tensors, as a thin NumPy array subclass.

A :class:`Tensor` is an ``ndarray`` with TensorFlow's face: ``.numpy()``, a ``TensorShape`` for ``.shape``,
``tf.Tensor(...)`` when printed. It behaves like an eager tensor where that shows: Python operators on tensors give
tensors (``(p >= 0.5).numpy()`` works), while NumPy functions see plain arrays and return them (``np.argmax(t)`` is a
NumPy result, as it is for TensorFlow's tensors). ``+=`` makes a new tensor, as tensors are immutable there.
The engine never sees these: it calls ``np.asarray`` on its inputs, which drops the subclass.
"""

from __future__ import annotations

import operator

import numpy as np

from learnloop.shapes import TensorShape


class DType:
    """``tf.float32`` and friends: a name over a NumPy dtype (``np.dtype(tf.float32)`` works)."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = np.dtype(name)
        self.as_numpy_dtype = self.dtype.type

    is_floating = property(lambda self: self.dtype.kind == "f")
    is_integer = property(lambda self: self.dtype.kind in "iu")
    is_bool = property(lambda self: self.dtype.kind == "b")
    min = property(lambda self: (np.finfo if self.is_floating else np.iinfo)(self.dtype).min)
    max = property(lambda self: (np.finfo if self.is_floating else np.iinfo)(self.dtype).max)

    def __eq__(self, other) -> bool:
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __repr__(self) -> str:
        return f"tf.{self.name}"


DTYPES = {name: DType(name) for name in ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                                         "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "complex128")}


def as_dtype(dtype) -> np.dtype:
    return np.dtype(dtype.dtype if isinstance(dtype, DType) else dtype)


def plain(x):
    """``x`` without the Tensor face (containers walked), for NumPy to compute on."""
    if isinstance(x, Tensor):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(plain(v) for v in x) if not hasattr(x, "_fields") else type(x)(*(plain(v) for v in x))
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    return x


def wrap(x) -> Tensor:
    """An array (or scalar) as a Tensor sharing its memory."""
    return np.asarray(x).view(Tensor)


def _numpy_text(value: np.ndarray, is_repr: bool) -> str:
    text = repr(value) if is_repr else str(value)
    return "\n" + text if "\n" in text else text


def _binary(fn, reflected: bool = False):
    if reflected:
        return lambda self, other: wrap(fn(plain(other), self.view(np.ndarray)))
    return lambda self, other: wrap(fn(self.view(np.ndarray), plain(other)))


class Tensor(np.ndarray):
    """An eager tensor: ``tf.Tensor([[300.]], shape=(1, 1), dtype=float32)`` when printed."""

    def __new__(cls, value, dtype=None):
        return np.array(value, dtype=None if dtype is None else as_dtype(dtype)).view(cls)

    # ---- TensorFlow's face --------------------------------------------------------------------------------
    def numpy(self):
        """The value as a NumPy array (a NumPy scalar for a 0-d tensor), sharing memory like TensorFlow's."""
        value = self.view(np.ndarray)
        return value[()] if value.ndim == 0 else value

    @property
    def shape(self) -> TensorShape:
        return TensorShape(np.ndarray.shape.__get__(self))

    @shape.setter
    def shape(self, value) -> None:
        np.ndarray.shape.__set__(self, value)

    def get_shape(self) -> TensorShape:
        return self.shape

    def __str__(self) -> str:
        return f"tf.Tensor({_numpy_text(self.view(np.ndarray), False)}, shape={self.shape}, dtype={self.dtype.name})"

    def __repr__(self) -> str:
        return (f"<tf.Tensor: shape={self.shape}, dtype={self.dtype.name}, "
                f"numpy={_numpy_text(self.view(np.ndarray), True)}>")

    def __format__(self, spec: str) -> str:
        return self.view(np.ndarray).__format__(spec)          # f"{t}" shows the values, as TensorFlow's does

    # ---- NumPy sees plain arrays ---------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            kwargs["out"] = plain(kwargs["out"])
        return getattr(ufunc, method)(*plain(inputs), **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return func(*plain(args), **plain(kwargs))

    # ---- ... while operators on tensors give tensors -------------------------------------------------------
    __add__, __radd__ = _binary(operator.add), _binary(operator.add, True)
    __sub__, __rsub__ = _binary(operator.sub), _binary(operator.sub, True)
    __mul__, __rmul__ = _binary(operator.mul), _binary(operator.mul, True)
    __truediv__, __rtruediv__ = _binary(operator.truediv), _binary(operator.truediv, True)
    __floordiv__, __rfloordiv__ = _binary(operator.floordiv), _binary(operator.floordiv, True)
    __mod__, __rmod__ = _binary(operator.mod), _binary(operator.mod, True)
    __pow__, __rpow__ = _binary(operator.pow), _binary(operator.pow, True)
    __matmul__, __rmatmul__ = _binary(operator.matmul), _binary(operator.matmul, True)
    __and__, __rand__ = _binary(operator.and_), _binary(operator.and_, True)
    __or__, __ror__ = _binary(operator.or_), _binary(operator.or_, True)
    __xor__, __rxor__ = _binary(operator.xor), _binary(operator.xor, True)
    __lt__, __le__ = _binary(operator.lt), _binary(operator.le)
    __gt__, __ge__ = _binary(operator.gt), _binary(operator.ge)
    __eq__, __ne__ = _binary(operator.eq), _binary(operator.ne)
    # Tensors are immutable: t += 1 binds t to a new tensor, the one it pointed to is unchanged.
    __iadd__, __isub__, __imul__, __itruediv__ = __add__, __sub__, __mul__, __truediv__
    __ifloordiv__, __imod__, __ipow__, __imatmul__ = __floordiv__, __mod__, __pow__, __matmul__
    __hash__ = None

    def __neg__(self):
        return wrap(-self.view(np.ndarray))

    def __pos__(self):
        return self

    def __abs__(self):
        return wrap(abs(self.view(np.ndarray)))

    def __invert__(self):
        return wrap(~self.view(np.ndarray))


class Variable(Tensor):
    """``tf.Variable``: a named tensor updated in place with ``assign``; a layer's weights show as these."""

    def __new__(cls, initial_value, trainable: bool = True, name: str | None = None, dtype=None, **kwargs):
        value = np.array(plain(initial_value), dtype=None if dtype is None else as_dtype(dtype))
        if dtype is None and not isinstance(initial_value, (np.ndarray, np.generic)):
            # Python floats become float32 and ints int32, as in TensorFlow
            value = value.astype({"float64": np.float32, "int64": np.int32}.get(value.dtype.name, value.dtype))
        return named(value, name or "Variable", trainable)

    def __array_finalize__(self, obj) -> None:
        self.name = getattr(obj, "name", "Variable:0")
        self.trainable = getattr(obj, "trainable", True)

    def assign(self, value, **kwargs) -> Variable:
        self[...] = plain(value)
        return self

    def assign_add(self, delta, **kwargs) -> Variable:
        self[...] += plain(delta)
        return self

    def assign_sub(self, delta, **kwargs) -> Variable:
        self[...] -= plain(delta)
        return self

    def read_value(self) -> Tensor:
        return wrap(self.view(np.ndarray).copy())

    value = read_value

    def __repr__(self) -> str:
        return (f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}, "
                f"numpy={_numpy_text(self.view(np.ndarray), True)}>")


def named(array: np.ndarray, name: str, trainable: bool = True) -> Variable:
    """``array`` seen as a Variable called ``name`` (``:0`` added as TensorFlow does), sharing its memory."""
    var = array.view(Variable)
    var.name = name if name.endswith(":0") else f"{name}:0"
    var.trainable = trainable
    return var
