"""Sliding-window geometry shared by the convolution and pooling layers (channels_last, 2 spatial axes).

1-D layers run through the same code with a height of 1. Output lengths, and the padding that "same" adds, follow
TensorFlow: "same" gives ceil(n / stride) outputs and puts the odd pixel of an odd total on the bottom/right.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from learnloop.errors import LearnloopError
from learnloop.shapes import SymbolicTensor

Array = np.ndarray
Pads = tuple[tuple[int, int], tuple[int, int]]   # ((top, bottom), (left, right))


class SpatialInput:
    """Mixin for layers on (batch, *spatial, channels): checks the rank of arrays before anything else."""

    rank = 2
    layout = "(batch, height, width, channels)"

    def check_rank(self, shape) -> None:
        shape = tuple(shape)
        if len(shape) != self.rank + 2:
            hint = " Add a channel axis: x[..., None]." if len(shape) == self.rank + 1 else ""
            raise LearnloopError(
                f"{type(self).__name__} '{self.name}' expects {self.layout}; got shape {shape}.{hint}")

    def __call__(self, inputs, training: bool = False):
        if not isinstance(inputs, SymbolicTensor):
            self.check_rank(np.shape(inputs))
        return super().__call__(inputs, training=training)


def as_tuple(value, n: int, layer: str, arg: str) -> tuple[int, ...]:
    """``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` positive ints, or a clear error."""
    items = (value,) * n if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if items is None or len(items) != n or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0 for v in items):
        form = "a positive int" if n == 1 else f"a positive int or a tuple of {n} positive ints"
        raise LearnloopError(f"{layer} expects {arg} to be {form}; got {value!r}.")
    return tuple(int(v) for v in items)


def check_padding(padding, layer: str, allowed: tuple[str, ...] = ("valid", "same")) -> str:
    """The lower-cased padding name, or an error listing the valid ones."""
    name = padding.lower() if isinstance(padding, str) else padding
    if name not in allowed:
        raise LearnloopError(f"{layer} expects padding to be one of {list(allowed)}; got {padding!r}.")
    return name


def check_data_format(data_format, layer: str) -> str:
    if data_format not in (None, "channels_last"):
        raise LearnloopError(
            f"{layer} supports data_format='channels_last' only (batch, ..., channels); got {data_format!r}. "
            "Move the channel axis last, e.g. np.moveaxis(x, 1, -1).")
    return "channels_last"


def output_length(n: int | None, window: int, stride: int, padding: str, dilation: int = 1) -> int | None:
    """Keras's output length along one axis (``None`` stays ``None``); may be <= 0 for a too-small "valid" input."""
    if n is None:
        return None
    if padding == "valid":
        return (n - ((window - 1) * dilation + 1)) // stride + 1
    return -(-n // stride)                                              # "same" and "causal": ceil(n / stride)


def pad_amounts(n: int, window: int, stride: int, padding: str, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding along one axis, as TensorFlow computes it."""
    extent = (window - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return extent - 1, 0
    total = max((output_length(n, window, stride, padding) - 1) * stride + extent - n, 0)
    return total // 2, total - total // 2


def pad(x: Array, pads: Pads, value: float = 0.0) -> Array:
    """``x`` (b, h, w, c) with ``pads`` added around h and w and filled with ``value``; ``x`` itself when none."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    b, h, w, c = x.shape
    out = np.full((b, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
    out[:, top:top + h, left:left + w] = x
    return out


def windows(xp: Array, kernel: tuple[int, int], strides: tuple[int, int], dilation: tuple[int, int],
            out_hw: tuple[int, int]) -> Array:
    """A read-only view (b, oh, ow, kh, kw, c) of every window of the padded input ``xp`` (b, H, W, c)."""
    b, _, _, c = xp.shape
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, shape=(b, out_hw[0], out_hw[1], kernel[0], kernel[1], c),
                      strides=(s0, s1 * strides[0], s2 * strides[1], s1 * dilation[0], s2 * dilation[1], s3),
                      writeable=False)


def offset_view(xp: Array, i: int, j: int, strides: tuple[int, int], dilation: tuple[int, int],
                out_hw: tuple[int, int]) -> Array:
    """The (b, oh, ow, c) view of ``xp`` that kernel offset (i, j) touches across all windows (writeable)."""
    top, left = i * dilation[0], j * dilation[1]
    return xp[:, top:top + strides[0] * (out_hw[0] - 1) + 1:strides[0],
              left:left + strides[1] * (out_hw[1] - 1) + 1:strides[1]]


FEW_CHANNELS = 4
"""Below this many input channels, im2col copies whole rows per kernel offset (see :func:`im2col`)."""


def im2col(xp: Array, kernel: tuple[int, int], strides: tuple[int, int], dilation: tuple[int, int],
           out_hw: tuple[int, int], ones: bool) -> Array:
    """Every window of ``xp`` (b, H, W, c) as one row: (b*oh*ow, kh*kw*c), plus a column of ones when ``ones``.

    The ones column lets one matmul add the bias (z = [cols 1] [W; b]) and give its gradient. With few channels
    the columns are filled one kernel offset at a time into a transposed buffer (long contiguous copies), since
    copying windows whose innermost axis is 1-3 values long is several times slower; the result is then an
    F-ordered view, which matmul takes as it is.
    """
    b, _, _, c = xp.shape
    n, k = b * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * c
    if c < FEW_CHANNELS:
        buf = np.empty((k + ones, n), dtype=xp.dtype)
        blocks = buf[:k].reshape(kernel[0], kernel[1], c, b, out_hw[0], out_hw[1])
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                blocks[i, j] = np.moveaxis(offset_view(xp, i, j, strides, dilation, out_hw), -1, 0)
        cols = buf.T
    else:
        cols = np.empty((n, k + ones), dtype=xp.dtype)
        np.copyto(cols[:, :k].reshape(b, out_hw[0], out_hw[1], kernel[0], kernel[1], c),
                  windows(xp, kernel, strides, dilation, out_hw))
    if ones:
        cols[:, k] = 1
    return cols
