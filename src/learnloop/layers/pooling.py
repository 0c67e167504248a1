"""Pooling with Keras's names (channels_last): max and average over windows, and their global versions.

Windowed pooling loops over the pool's offsets only: offset (i, j) of every window is one strided view of the
(padded) input, so a 2x2 max pool is three ``np.maximum`` calls over (b, oh, ow, c) blocks, several times faster
than reducing a (b, oh, p, ow, p, c) reshape over its window axes. The max gradient goes to the first maximum of
each window (one input per window, as PyTorch routes it), found from equality masks in offset order. "same"
padding follows TensorFlow: pads are ignored by the max (-inf) and left out of the average's count. 1-D layers use
height 1.
"""

from __future__ import annotations

import numpy as np

from learnloop.errors import LearnloopError
from learnloop.layers import _windows as win
from learnloop.layers.base import Array, Layer, Shape


class _Pooling(win.SpatialInput, Layer):
    """Shared body of the windowed pooling layers; subclasses set ``rank``, ``layout`` and the reduction."""


    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.pool_size = win.as_tuple(pool_size, self.rank, kind, "pool_size")
        self.strides = self.pool_size if strides is None else win.as_tuple(strides, self.rank, kind, "strides")
        self.padding = win.check_padding(padding, kind)
        self.data_format = win.check_data_format(data_format, kind)
        self._p2 = (1,) * (2 - self.rank) + self.pool_size
        self._s2 = (1,) * (2 - self.rank) + self.strides
        self._pad2 = ("valid" if self.rank == 1 else self.padding, self.padding)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.check_rank(input_shape)
        spatial = [win.output_length(n, p, s, self.padding)
                   for n, p, s in zip(input_shape[1:-1], self.pool_size, self.strides)]
        if any(n is not None and n <= 0 for n in spatial):
            raise LearnloopError(
                f"{type(self).__name__} '{self.name}' with pool_size {self.pool_size} and padding='valid' needs "
                f"inputs at least that large; got shape {tuple(input_shape)}. Use padding='same' or a smaller pool.")
        return (input_shape[0], *spatial, input_shape[-1])

    def check_input_shape(self, shape: Shape) -> None:
        self.compute_output_shape((None,) + tuple(shape[1:]))

    def _views(self, xp: Array, out_hw: tuple[int, int]):
        """(k, view) for each pool offset, in row-major order: view k is (b, oh, ow, c)."""
        for i in range(self._p2[0]):
            for j in range(self._p2[1]):
                yield i * self._p2[1] + j, win.offset_view(xp, i, j, self._s2, (1, 1), out_hw)

    def forward(self, x: Array, *, training: bool = False) -> Array:
        x4 = x[:, None] if self.rank == 1 else x
        _, h, w, _ = x4.shape
        pads = tuple(win.pad_amounts(n, p, s, mode) for n, p, s, mode in zip((h, w), self._p2, self._s2, self._pad2))
        out_hw = tuple(win.output_length(n, p, s, mode) for n, p, s, mode in zip((h, w), self._p2, self._s2,
                                                                                   self._pad2))
        xp = win.pad(x4, pads, self.pad_value)
        out = self._pool(xp, pads, (h, w), out_hw)
        self._geometry = (x.shape, (h, w), xp, pads, out_hw)
        return out.reshape((x.shape[0], *out_hw[2 - self.rank:], x.shape[-1]))

    def backward(self, grad: Array) -> Array | None:
        if not self.input_grad_needed:
            return None
        x_shape, (h, w), xp, pads, out_hw = self._geometry
        disjoint = all(s >= p for s, p in zip(self._s2, self._p2))           # each input in at most one window
        covered = self._s2 == self._p2 and (out_hw[0] * self._p2[0], out_hw[1] * self._p2[1]) == xp.shape[1:3]
        dxp = np.empty(xp.shape, grad.dtype) if covered else np.zeros(xp.shape, grad.dtype)
        self._unpool(grad.reshape((xp.shape[0], *out_hw, xp.shape[3])), dxp, out_hw, disjoint)
        (top, _), (left, _) = pads
        return dxp[:, top:top + h, left:left + w].reshape(x_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format}


class _MaxPooling(_Pooling):
    pad_value = -np.inf

    def _pool(self, xp: Array, pads, hw, out_hw) -> Array:
        # Gather each offset's view into one contiguous block first: the maxima and, in backward, the equality
        # masks then run over contiguous memory instead of 16-value runs, which is what makes them fast.
        blocks = np.empty((self._p2[0] * self._p2[1], xp.shape[0], *out_hw, xp.shape[3]), xp.dtype)
        for k, view in self._views(xp, out_hw):
            blocks[k] = view
        out = blocks[0].copy()
        for block in blocks[1:]:
            np.maximum(out, block, out=out)
        self._blocks, self._out = blocks, out
        return out

    def _unpool(self, grad: Array, dxp: Array, out_hw, disjoint: bool) -> None:
        seen = None
        for k, target in self._views(dxp, out_hw):
            first = np.equal(self._blocks[k], self._out)                        # a maximum of its window...
            if seen is None:
                seen = first
            else:
                np.greater(first, seen, out=first)                              # ...and no earlier one was
                if k < len(self._blocks) - 1:
                    np.logical_or(seen, first, out=seen)
            if disjoint:
                np.multiply(grad, first, out=target)
            else:
                target += grad * first


class _AveragePooling(_Pooling):
    pad_value = 0.0

    def _pool(self, xp: Array, pads, hw, out_hw) -> Array:
        views = self._views(xp, out_hw)
        out = next(views)[1].copy()
        for _, view in views:
            out += view
        self._count = self._window_counts(pads, hw, out_hw, xp.dtype)
        out /= self._count
        return out

    def _window_counts(self, pads, hw, out_hw, dtype) -> Array | float:
        """How many real (unpadded) inputs each window holds: (1, oh, ow, 1), or a scalar without padding."""
        if not any(any(p) for p in pads):
            return float(self._p2[0] * self._p2[1])
        ones = win.pad(np.ones((1, *hw, 1), dtype), pads, 0.0)
        views = self._views(ones, out_hw)
        count = next(views)[1].copy()
        for _, view in views:
            count += view
        return count

    def _unpool(self, grad: Array, dxp: Array, out_hw, disjoint: bool) -> None:
        share = grad / self._count                                              # each input gets 1/count
        for k, _ in self._views(dxp, out_hw):
            target = win.offset_view(dxp, k // self._p2[1], k % self._p2[1], self._s2, (1, 1), out_hw)
            if disjoint:
                target[...] = share
            else:
                target += share


class MaxPooling1D(_MaxPooling):
    """Max over windows of ``pool_size`` steps: (batch, steps, channels) -> (batch, new_steps, channels).

    Args:
        pool_size: window length.
        strides: step between windows (default ``pool_size``).
        padding: "valid" (drop the remainder) or "same" (ceil(steps / strides) outputs, like TensorFlow).
    """

    rank, layout = 1, "(batch, steps, channels)"


class MaxPooling2D(_MaxPooling):
    """Max over ``pool_size`` windows: (batch, h, w, channels) -> (batch, new_h, new_w, channels); as MaxPooling1D."""



class AveragePooling1D(_AveragePooling):
    """Mean over windows: (batch, steps, channels) -> (batch, new_steps, channels); arguments as MaxPooling1D."""

    rank, layout = 1, "(batch, steps, channels)"


class AveragePooling2D(_AveragePooling):
    """Mean over windows: (batch, h, w, channels) -> (batch, new_h, new_w, channels); arguments as MaxPooling1D."""



class _GlobalPooling(win.SpatialInput, Layer):
    """Reduce all spatial axes: (batch, ..., channels) -> (batch, channels), or keep them as 1s (``keepdims``)."""


    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = win.check_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.check_rank(input_shape)
        return (input_shape[0], *((1,) * self.rank if self.keepdims else ()), input_shape[-1])

    def check_input_shape(self, shape: Shape) -> None:
        self.check_rank(shape)

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._shape = x.shape
        b, c = x.shape[0], x.shape[-1]
        out = self._reduce(x.reshape(b, -1, c))                                 # (b, c)
        return out.reshape(b, *(1,) * self.rank, c) if self.keepdims else out

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class _GlobalAveragePooling(_GlobalPooling):
    def _reduce(self, x: Array) -> Array:
        return x.mean(axis=1)

    def backward(self, grad: Array) -> Array | None:
        if not self.input_grad_needed:
            return None
        b, c = self._shape[0], self._shape[-1]
        n = int(np.prod(self._shape[1:-1]))
        dx = np.empty((b, n, c), grad.dtype)
        dx[...] = grad.reshape(b, 1, c) / n                                     # d mean / dx = 1/n everywhere
        return dx.reshape(self._shape)


class _GlobalMaxPooling(_GlobalPooling):
    def _reduce(self, x: Array) -> Array:
        self._idx = x.argmax(axis=1)[:, None]                                   # (b, 1, c): the first maximum
        return np.take_along_axis(x, self._idx, axis=1)[:, 0]

    def backward(self, grad: Array) -> Array | None:
        if not self.input_grad_needed:
            return None
        b, c = self._shape[0], self._shape[-1]
        dx = np.zeros((b, int(np.prod(self._shape[1:-1])), c), grad.dtype)
        np.put_along_axis(dx, self._idx, grad.reshape(b, 1, c), axis=1)
        return dx.reshape(self._shape)


class GlobalAveragePooling1D(_GlobalAveragePooling):
    """Mean over steps: (batch, steps, channels) -> (batch, channels), or (batch, 1, channels) with keepdims."""

    rank, layout = 1, "(batch, steps, channels)"


class GlobalAveragePooling2D(_GlobalAveragePooling):
    """Mean over h and w: (batch, h, w, channels) -> (batch, channels), or (batch, 1, 1, channels) with keepdims."""



class GlobalMaxPooling1D(_GlobalMaxPooling):
    """Max over steps: (batch, steps, channels) -> (batch, channels), or (batch, 1, channels) with keepdims."""

    rank, layout = 1, "(batch, steps, channels)"


class GlobalMaxPooling2D(_GlobalMaxPooling):
    """Max over h and w: (batch, h, w, channels) -> (batch, channels), or (batch, 1, 1, channels) with keepdims."""

