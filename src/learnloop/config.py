"""Global numeric policy: the default float dtype (float32 like Keras; float64 for gradient checks)."""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError

_FLOATX = "float32"
_ALLOWED = ("float32", "float64")


def floatx() -> str:
    """The default float dtype name for new layers, ``"float32"`` unless changed."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float dtype for layers built from now on (``"float32"`` or ``"float64"``)."""
    global _FLOATX
    name = np.dtype(value).name if not isinstance(value, str) else value
    if name not in _ALLOWED:
        raise LearnloopError(f"set_floatx expects one of {list(_ALLOWED)}; got {value!r}.")
    _FLOATX = name


def standardize_dtype(dtype) -> np.dtype:
    """``None`` -> the global policy; otherwise a float32/float64 numpy dtype, or a clear error."""
    name = _FLOATX if dtype is None else np.dtype(dtype).name
    if name not in _ALLOWED:
        raise LearnloopError(f"dtype must be one of {list(_ALLOWED)}; got {dtype!r}.")
    return np.dtype(name)
