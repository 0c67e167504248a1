"""Convolutions ``Conv1D`` and ``Conv2D`` (channels_last, Keras's kernel layout), as im2col and one matmul.

Forward: every window of the (padded) input becomes one row of ``cols`` (b*oh*ow, kh*kw*c_in), with a trailing 1
for the bias, and ``z = [cols 1] @ [W; b]`` with W the kernel (kh, kw, c_in, filters) seen as (kh*kw*c_in,
filters); ``a = g(z)``. Backward: ``[dW; db] = [cols 1]^T dz`` in one matmul, and dL/dx scatters ``dz W^T`` back
onto the input with one strided add per kernel offset (col2im). ``Conv1D`` is ``Conv2D`` with a height of 1.
"""

from __future__ import annotations

import numpy as np

from learnloop import activations
from learnloop.errors import LearnloopError
from learnloop.layers import _windows as win
from learnloop.layers.base import Array, Shape
from learnloop.layers.kernel_layer import KernelLayer

INFERENCE_COLS_BYTES = 32 * 2**20
"""Inference (``training=False``) convolves large batches in chunks whose im2col matrix stays under this size."""


class _Conv(win.SpatialInput, KernelLayer):
    """Shared body of the convolutions; subclasses set ``rank`` and ``layout``."""

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, groups: int = 1, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, **kwargs)
        kind = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise LearnloopError(f"{kind} expects filters to be a positive integer; got {filters!r}.")
        if groups != 1:
            raise LearnloopError(f"{kind} supports groups=1 only; got groups={groups!r}.")
        self.filters = int(filters)
        self.kernel_size = win.as_tuple(kernel_size, self.rank, kind, "kernel_size")
        self.strides = win.as_tuple(strides, self.rank, kind, "strides")
        self.dilation_rate = win.as_tuple(dilation_rate, self.rank, kind, "dilation_rate")
        self.padding = win.check_padding(padding, kind, ("valid", "same", "causal") if self.rank == 1
                                         else ("valid", "same"))
        self.data_format = win.check_data_format(data_format, kind)
        # The same numbers on two spatial axes (height 1 for Conv1D).
        pad_h = "valid" if self.rank == 1 else self.padding
        self._k2 = (1,) * (2 - self.rank) + self.kernel_size
        self._s2 = (1,) * (2 - self.rank) + self.strides
        self._d2 = (1,) * (2 - self.rank) + self.dilation_rate
        self._pad2 = (pad_h, self.padding)

    # ---- shapes --------------------------------------------------------------------------------------------
    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.check_rank(input_shape)
        spatial = []
        for axis, n in enumerate(input_shape[1:-1]):
            out = win.output_length(n, self.kernel_size[axis], self.strides[axis], self.padding,
                                    self.dilation_rate[axis])
            if out is not None and out <= 0:
                extent = tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
                raise LearnloopError(
                    f"{type(self).__name__} '{self.name}' with kernel_size {self.kernel_size} "
                    f"(dilation {self.dilation_rate}, so windows of {extent}) and padding='valid' needs inputs at "
                    f"least that large; got shape {tuple(input_shape)}. Use padding='same' or a smaller kernel.")
            spatial.append(out)
        return (input_shape[0], *spatial, self.filters)

    def build(self, input_shape: Shape) -> None:
        self.check_rank(input_shape)
        c_in = input_shape[-1]
        if c_in is None:
            raise LearnloopError(
                f"{type(self).__name__} '{self.name}' needs a known channel count (last axis); got shape "
                f"{tuple(input_shape)}.")
        self.add_weight("kernel", (*self.kernel_size, c_in, self.filters), self.kernel_initializer,
                        self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)
        self.built = True

    def check_input_shape(self, shape: Shape) -> None:
        self.check_rank(shape)
        c_in = self.kernel.shape[-2]
        if shape[-1] != c_in:
            raise LearnloopError(
                f"{type(self).__name__} '{self.name}' was built for {c_in} input channels (last axis); got shape "
                f"{tuple(shape)}.")
        self.compute_output_shape((None,) + tuple(shape[1:]))

    # ---- computing -----------------------------------------------------------------------------------------
    def forward(self, x: Array, *, training: bool = False) -> Array:
        x4 = x[:, None] if self.rank == 1 else x                                  # (b, h, w, c)
        b, h, w, c = x4.shape
        pads = (win.pad_amounts(h, self._k2[0], self._s2[0], self._pad2[0], self._d2[0]),
                win.pad_amounts(w, self._k2[1], self._s2[1], self._pad2[1], self._d2[1]))
        out_hw = (win.output_length(h, self._k2[0], self._s2[0], self._pad2[0], self._d2[0]),
                  win.output_length(w, self._k2[1], self._s2[1], self._pad2[1], self._d2[1]))
        xp = win.pad(x4, pads)
        weights = self._kernel_and_bias()
        per_sample = out_hw[0] * out_hw[1] * weights.shape[0] * xp.itemsize      # bytes of cols per sample
        step = b if training else max(1, INFERENCE_COLS_BYTES // per_sample)
        if step >= b:
            self._cols, z = self._convolve(xp, out_hw, weights)
        else:                                  # inference on a large batch: bounded memory, nothing to cache
            self._cols, z = None, np.concatenate([self._convolve(xp[i:i + step], out_hw, weights)[1]
                                                  for i in range(0, b, step)])
        self._z = z.copy() if self._keep_z else None
        self._a = activations.apply_inplace(self.activation, z)
        self._geometry = (x.shape, (h, w), xp.shape, pads, out_hw)
        return self._a.reshape((b, *out_hw[2 - self.rank:], self.filters))

    def _convolve(self, xp: Array, out_hw: tuple[int, int], weights: Array) -> tuple[Array, Array]:
        """(cols, z) for padded inputs ``xp``: cols (n, kh*kw*c [+ 1]) and z = cols W + b (n, filters)."""
        cols = win.im2col(xp, self._k2, self._s2, self._d2, out_hw, ones=self.use_bias)
        return cols, cols @ weights

    def _kernel_and_bias(self) -> Array:
        """The kernel as (kh*kw*c_in, filters), with the bias as one more row when the layer has one."""
        w = self.kernel.reshape(-1, self.filters)
        return np.concatenate([w, self.bias[None]]) if self.use_bias else w

    def backward(self, grad: Array) -> Array | None:
        if self._cols is None:
            raise LearnloopError(
                f"{type(self).__name__} '{self.name}': backward() needs forward(x, training=True) on batches this "
                f"large (inference keeps nothing for it).")
        dz = self._activation_grad(self._a, self._z, grad.reshape(self._a.shape))  # dL/dz = dL/da * g'(z)
        if self._trainable:
            dw = self._cols.T @ dz                                                 # dL/d[W; b] = [cols 1]^T dz
            gk = self.grads["kernel"]
            gk[...] = dw[:gk.size // self.filters].reshape(gk.shape)
            if self.use_bias:
                self.grads["bias"][...] = dw[-1]
        if not self.input_grad_needed:
            return None
        x_shape, (h, w), xp_shape, pads, out_hw = self._geometry
        kh, kw = self._k2
        b, c = xp_shape[0], xp_shape[3]
        per_offset = self.kernel.reshape(kh * kw, c, self.filters).transpose(0, 2, 1)
        dcols = np.matmul(dz, per_offset)                                          # dL/dcols = dz W^T, per offset
        dxp = np.zeros(xp_shape, dtype=dcols.dtype)
        for i in range(kh):                                                        # col2im: each window adds back
            for j in range(kw):
                view = win.offset_view(dxp, i, j, self._s2, self._d2, out_hw)
                view += dcols[i * kw + j].reshape(b, out_hw[0], out_hw[1], c)
        (top, _), (left, _) = pads
        return dxp[:, top:top + h, left:left + w].reshape(x_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": 1}


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels) -> (batch, new_steps, filters); kernel (k, c_in, filters).

    Args:
        filters: number of output channels.
        kernel_size: window length (int or 1-tuple).
        strides: step between windows.
        padding: "valid" (no padding), "same" (ceil(steps / strides) outputs, like TensorFlow) or "causal"
            (zeros on the left only, so output t sees inputs <= t).
        dilation_rate: spacing between the taps of the kernel.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer:
            as in :class:`learnloop.layers.Dense`.
    """

    rank = 1
    layout = "(batch, steps, channels)"


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels) -> (batch, new_h, new_w, filters).

    The kernel is (kh, kw, c_in, filters), Keras's layout. Arguments as :class:`Conv1D`, with ints or 2-tuples for
    ``kernel_size``, ``strides`` and ``dilation_rate``; padding is "valid" or "same".
    """

    rank = 2
    layout = "(batch, height, width, channels)"
