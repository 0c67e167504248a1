"""Symbolic shapes and tensors: what ``Input(...)``, ``model.input`` and ``layer.output`` are before data flows.

They carry a shape with ``None`` for the batch axis (``TensorShape((None, 400)).as_list() == [None, 400]``) and the
layer that made them, nothing else: learnloop computes on NumPy arrays, so a symbolic tensor is only a description.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class TensorShape(tuple):
    """A tuple of dims (``None`` where unknown) with TensorFlow's ``as_list()`` and ``rank``."""

    def __new__(cls, dims: Iterable[int | None]):
        return super().__new__(cls, tuple(None if d is None else int(d) for d in dims))

    def as_list(self) -> list[int | None]:
        return list(self)

    @property
    def rank(self) -> int:
        return len(self)

    def __repr__(self) -> str:
        return f"TensorShape({list(self)})"

    def __str__(self) -> str:
        return f"({self[0]},)" if len(self) == 1 else "(" + ", ".join(str(d) for d in self) + ")"   # TensorFlow's


class SymbolicTensor:
    """A placeholder for an array of ``shape`` (batch axis ``None``) produced by ``layer``."""

    def __init__(self, shape: Iterable[int | None], dtype: str = "float32", layer=None, name: str | None = None):
        self.shape = TensorShape(shape)
        self.dtype = np.dtype(dtype).name
        self.layer = layer
        self.name = name or (layer.name if layer is not None else "tensor")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={tuple(self.shape)}, dtype={self.dtype}, name={self.name}>"


def batch_shape(shape: Iterable[int | None]) -> tuple[int | None, ...]:
    """``(None,) + feature shape`` as a plain tuple."""
    return (None,) + tuple(shape)[1:]
