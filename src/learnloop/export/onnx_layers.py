"""One ONNX converter per learnloop layer family: ``convert(builder, layer)`` appends the layer's nodes.

A converter reads the layer's weights and attributes, emits ONNX nodes on the builder's current tensor and leaves
the builder's current tensor at the layer's output (the builder updates the logical shape). Keras layouts are
translated here: a Dense kernel (n_in, units) is MatMul's right operand as it is; a Conv kernel
(k..., c_in, filters) becomes ONNX's (filters, c_in, k...); "same" padding is written out as TensorFlow pads it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from learnloop import activations
from learnloop.errors import LearnloopError
from learnloop.layers import _windows as win

_SQRT_2 = math.sqrt(2.0)


# ---- activations -------------------------------------------------------------------------------------------------
def activation(b, fn, hint: str) -> None:
    """Append g(current tensor) for a learnloop activation function (softmax along the channel axis)."""
    name = activations.serialize(fn)
    if name == "linear":
        return
    if name in _SIMPLE:
        b.apply(_SIMPLE[name], f"{hint}/{_SIMPLE[name]}")
    elif name == "leaky_relu":
        b.apply("LeakyRelu", f"{hint}/LeakyRelu", alpha=0.2)          # learnloop.activations.leaky_relu's slope
    elif name == "elu":
        b.apply("Elu", f"{hint}/Elu", alpha=1.0)
    elif name == "softmax":
        softmax(b, hint)
    elif name == "gelu":
        gelu(b, hint)
    else:
        raise LearnloopError(f"ONNX export has no conversion for activation {name!r} in '{hint}'; it converts "
                             f"{sorted([*_SIMPLE, 'elu', 'gelu', 'leaky_relu', 'linear', 'softmax'])}.")


_SIMPLE = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus"}


def softmax(b, hint: str) -> None:
    b.apply("Softmax", f"{hint}/Softmax", axis=1 if b.channels_first else -1)


def gelu(b, hint: str) -> None:
    """x * Phi(x), exact (erf) form: ONNX's Gelu from opset 20, else 0.5 x (1 + erf(x / sqrt 2))."""
    if b.opset >= 20:
        b.apply("Gelu", f"{hint}/Gelu")
        return
    x = b.tensor
    t = b.node("Div", [x, b.const(f"{hint}/sqrt2", _SQRT_2)], f"{hint}/gelu_scaled")
    t = b.node("Erf", [t], f"{hint}/gelu_erf")
    t = b.node("Add", [t, b.const(f"{hint}/one", 1.0)], f"{hint}/gelu_1_plus_erf")
    t = b.node("Mul", [x, t], f"{hint}/gelu_x_times")
    b.tensor = b.node("Mul", [t, b.const(f"{hint}/half", 0.5)], f"{hint}/Gelu")


# ---- layers ------------------------------------------------------------------------------------------------------
def dense(b, layer) -> None:
    b.nhwc(layer.name)
    b.apply("MatMul", f"{layer.name}/MatMul", b.const(f"{layer.name}/kernel", layer.kernel))
    if layer.use_bias:
        b.apply("Add", f"{layer.name}/BiasAdd", b.const(f"{layer.name}/bias", layer.bias))
    activation(b, layer.activation, layer.name)


def activation_layer(b, layer) -> None:
    activation(b, layer.activation, layer.name)


def softmax_layer(b, layer) -> None:
    softmax(b, layer.name)


def leaky_relu_layer(b, layer) -> None:
    b.apply("LeakyRelu", f"{layer.name}/LeakyRelu", alpha=float(layer.negative_slope))


def identity_at_inference(b, layer) -> None:
    """Dropout (inverted), noise and random augmentation act only while training: the identity in the graph."""
    b.apply("Identity", f"{layer.name}/Identity")


def flatten(b, layer) -> None:
    b.nhwc(layer.name)                                                # Keras flattens in channels-last order
    b.apply("Flatten", f"{layer.name}/Flatten", axis=1)


def reshape(b, layer) -> None:
    b.nhwc(layer.name)
    shape = b.const(f"{layer.name}/shape", [0, *layer.target_shape], dtype=np.int64)   # 0: keep the batch size
    b.apply("Reshape", f"{layer.name}/Reshape", shape)


def normalization(b, layer) -> None:
    """(x - mean) / max(sqrt(variance), 1e-7), or x * std + mean when ``invert``; the stats broadcast on ``axis``."""
    from learnloop.layers.normalization import _EPSILON

    b.nhwc(layer.name)
    rank = len(b.shape)
    mean = np.asarray(layer.mean, dtype=np.float64)
    std = np.maximum(np.sqrt(np.asarray(layer.variance, dtype=np.float64)), _EPSILON)
    if layer.axis is not None:
        axis = layer.axis % rank
        shape = [1] * (rank - 1)
        shape[axis - 1] = mean.shape[0]
        mean, std = mean.reshape(shape), std.reshape(shape)
    mean, std = mean.astype(np.float32), std.astype(np.float32)   # the layer computes in float32 from these casts
    if layer.invert:
        b.apply("Mul", f"{layer.name}/Mul", b.const(f"{layer.name}/std", std))
        b.apply("Add", f"{layer.name}/Add", b.const(f"{layer.name}/mean", mean))
    else:
        b.apply("Sub", f"{layer.name}/Sub", b.const(f"{layer.name}/mean", mean))
        b.apply("Div", f"{layer.name}/Div", b.const(f"{layer.name}/std", std))


def rescaling(b, layer) -> None:
    """x * scale + offset, per channel (last axis) when given as lists."""
    b.nhwc(layer.name)
    b.apply("Mul", f"{layer.name}/Mul", b.const(f"{layer.name}/scale", np.asarray(layer.scale, np.float32)))
    b.apply("Add", f"{layer.name}/Add", b.const(f"{layer.name}/offset", np.asarray(layer.offset, np.float32)))


def _pads(b, layer, window: tuple, strides: tuple, dilation: tuple) -> dict:
    """ONNX padding attributes for the spatial axes: explicit TensorFlow pads, or SAME_UPPER for unknown sizes."""
    if layer.padding == "valid":
        return {}
    spatial = b.shape[1:-1]
    if layer.padding == "same" and any(n is None for n in spatial):
        return {"auto_pad": "SAME_UPPER"}                             # TensorFlow's split: the odd pad at the end
    amounts = [win.pad_amounts(n if n is not None else 0, k, s, layer.padding, d)
               for n, k, s, d in zip(spatial, window, strides, dilation)]
    return {"pads": [p[0] for p in amounts] + [p[1] for p in amounts]}


def conv(b, layer) -> None:
    rank = layer.rank
    pads = _pads(b, layer, layer.kernel_size, layer.strides, layer.dilation_rate)
    b.nchw(layer.name)
    kernel = np.transpose(layer.kernel, (rank + 1, rank, *range(rank)))          # (filters, c_in, k...)
    inputs = [b.const(f"{layer.name}/kernel", kernel)]
    if layer.use_bias:
        inputs.append(b.const(f"{layer.name}/bias", layer.bias))
    b.apply("Conv", f"{layer.name}/Conv", *inputs, kernel_shape=list(layer.kernel_size),
            strides=list(layer.strides), dilations=list(layer.dilation_rate), **pads)
    activation(b, layer.activation, layer.name)


def pooling(b, layer, op: str) -> None:
    ones = (1,) * layer.rank
    pads = _pads(b, layer, layer.pool_size, layer.strides, ones)
    b.nchw(layer.name)
    attrs = dict(kernel_shape=list(layer.pool_size), strides=list(layer.strides), **pads)
    if op == "AveragePool":
        attrs["count_include_pad"] = 0                                # pads left out of the mean, as in TensorFlow
    b.apply(op, f"{layer.name}/{op}", **attrs)                        # MaxPool's pads count as -inf


def global_pooling(b, layer, op: str) -> None:
    b.nchw(layer.name)
    b.apply(op, f"{layer.name}/{op}")                                 # (batch, channels, 1, ...)
    if not layer.keepdims:
        b.apply("Flatten", f"{layer.name}/Flatten", axis=1)
        b.channels_first = False


CONVERTERS: dict[str, Callable] = {
    "Dense": dense,
    "Activation": activation_layer,
    "Softmax": softmax_layer,
    "LeakyReLU": leaky_relu_layer,
    "Dropout": identity_at_inference,
    "GaussianNoise": identity_at_inference,
    "RandomFlip": identity_at_inference,
    "RandomRotation": identity_at_inference,
    "RandomZoom": identity_at_inference,
    "RandomTranslation": identity_at_inference,
    "Flatten": flatten,
    "Reshape": reshape,
    "Normalization": normalization,
    "Rescaling": rescaling,
    "Conv1D": conv,
    "Conv2D": conv,
    "MaxPooling1D": functools.partial(pooling, op="MaxPool"),
    "MaxPooling2D": functools.partial(pooling, op="MaxPool"),
    "AveragePooling1D": functools.partial(pooling, op="AveragePool"),
    "AveragePooling2D": functools.partial(pooling, op="AveragePool"),
    "GlobalAveragePooling1D": functools.partial(global_pooling, op="GlobalAveragePool"),
    "GlobalAveragePooling2D": functools.partial(global_pooling, op="GlobalAveragePool"),
    "GlobalMaxPooling1D": functools.partial(global_pooling, op="GlobalMaxPool"),
    "GlobalMaxPooling2D": functools.partial(global_pooling, op="GlobalMaxPool"),
}


def converter_for(layer) -> Callable:
    """The converter for ``layer``'s class or its nearest base class (ReLU is an Activation), or a clear error."""
    for cls in type(layer).__mro__:
        if cls.__name__ in CONVERTERS:
            return CONVERTERS[cls.__name__]
    raise LearnloopError(
        f"ONNX export does not support layer '{layer.name}' ({type(layer).__name__}); supported layers: "
        f"{sorted(CONVERTERS)}.")
