"""Activation functions g(z) on arrays, each with its derivative written right under it.

Every function keeps a float input's dtype (float64 stays float64); other inputs become the global float type.
A layer picks the derivative through :func:`derivative`, which works from the output ``a`` (and from ``z`` for
the few functions that need it), so layers can let go of ``z`` after the forward pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from learnloop._registry import lookup
from learnloop.config import floatx

Array = np.ndarray


def _float(x) -> Array:
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(floatx())


def linear(x) -> Array:
    """g(z) = z."""
    return _float(x)


def _linear_grad(a: Array, z: Array | None, grad: Array) -> Array:
    return grad


def sigmoid(x) -> Array:
    """g(z) = 1 / (1 + e^-z), computed as (1 + tanh(z/2)) / 2, which never overflows."""
    x = _float(x)
    out = np.tanh(x * 0.5)
    out *= 0.5
    out += 0.5
    return out


def _sigmoid_grad(a: Array, z: Array | None, grad: Array) -> Array:
    return grad * a * (1 - a)                                   # g' = a (1 - a)


_ZERO_BLOCK = 65536
_zero_blocks: dict = {}


def _max_zero(x: Array, out: Array) -> Array:
    """max(x, 0) into ``out`` (may be ``x``), NaN kept.

    NumPy's SIMD loop for ``np.maximum`` runs only when both operands are arrays: against a scalar 0 it is ~3.5x
    slower on float32. So contiguous inputs take the maximum against a cached block of zeros, 64k values at a time.
    """
    if not (x.flags.c_contiguous and out.flags.c_contiguous) or x.size < 1024:
        return np.maximum(x, 0, out=out, dtype=x.dtype)
    zeros = _zero_blocks.get(x.dtype)
    if zeros is None:
        zeros = _zero_blocks[x.dtype] = np.zeros(_ZERO_BLOCK, x.dtype)
        zeros.flags.writeable = False
    src, dst = x.reshape(-1), out.reshape(-1)
    for start in range(0, src.size, _ZERO_BLOCK):
        part = src[start:start + _ZERO_BLOCK]
        np.maximum(part, zeros[:part.size], out=dst[start:start + _ZERO_BLOCK])
    return out


def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Array:
    """g(z) = max(0, z); Keras's optional ``negative_slope``, ``max_value`` and ``threshold`` are honoured."""
    x = _float(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return _max_zero(x, np.empty_like(x, order="C")) if x.ndim else np.maximum(x, 0, dtype=x.dtype)
    out = np.where(x >= threshold, x, negative_slope * (x - threshold)).astype(x.dtype, copy=False)
    return out if max_value is None else np.minimum(out, max_value).astype(x.dtype, copy=False)


def _relu_grad(a: Array, z: Array | None, grad: Array) -> Array:
    return grad * (a > 0)                                       # g' = 1 where z > 0


def leaky_relu(x, negative_slope: float = 0.2) -> Array:
    """g(z) = z for z > 0, ``negative_slope`` * z otherwise (Keras 3's default slope 0.2)."""
    x = _float(x)
    out = np.multiply(x, np.asarray(negative_slope, x.dtype), out=np.empty_like(x))
    # max(z, s z) is z for z > 0 and s z below when s <= 1 (min when s > 1): one array-array pass, ~20x faster
    # than np.where on large float32 arrays; NaN stays NaN.
    return (np.maximum if negative_slope <= 1 else np.minimum)(x, out, out=out)


def leaky_relu_grad(positive: Array, grad: Array, negative_slope: float) -> Array:
    """dL/dz = ``grad`` where z > 0 (``positive``), ``negative_slope * grad`` elsewhere."""
    slope = np.asarray(negative_slope, grad.dtype)
    rest = np.asarray(1, grad.dtype) - slope
    if rest + slope != 1:                                       # slope + (1 - slope) is not exactly 1 in this dtype
        return np.where(positive, grad, grad * slope)
    factor = positive.astype(grad.dtype)                        # 1 or 0 ...
    factor *= rest
    factor += slope                                             # ... now 1 or slope, exactly
    factor *= grad
    return factor


def _leaky_relu_grad_for(slope: float):
    def grad_fn(a: Array, z: Array | None, grad: Array) -> Array:
        return leaky_relu_grad(a > 0, grad, slope)
    return grad_fn


def tanh(x) -> Array:
    """g(z) = tanh(z)."""
    return np.tanh(_float(x))


def _tanh_grad(a: Array, z: Array | None, grad: Array) -> Array:
    return grad * (1 - a * a)                                   # g' = 1 - a^2


def softmax(x, axis: int = -1) -> Array:
    """a_j = e^{z_j} / sum_k e^{z_k} along ``axis``; the max is subtracted first so e^z never overflows."""
    x = _float(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _softmax_grad(a: Array, z: Array | None, grad: Array) -> Array:
    # Jacobian-vector product: dz_j = a_j (g_j - sum_k g_k a_k)
    return a * (grad - (grad * a).sum(axis=-1, keepdims=True))


def elu(x, alpha: float = 1.0) -> Array:
    """g(z) = z for z > 0, alpha (e^z - 1) otherwise."""
    x = _float(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _elu_grad(a: Array, z: Array | None, grad: Array) -> Array:
    return np.where(a > 0, grad, grad * (a + 1.0))              # g' = a + alpha for z <= 0 (alpha = 1)


def softplus(x) -> Array:
    """g(z) = log(1 + e^z), as logaddexp(0, z) so it never overflows."""
    x = _float(x)
    return np.logaddexp(x.dtype.type(0), x)


def _softplus_grad(a: Array, z: Array | None, grad: Array) -> Array:
    return grad * -np.expm1(-a)                                 # g' = sigmoid(z) = 1 - e^{-a}


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x, approximate: bool = False) -> Array:
    """g(z) = z * Phi(z), the exact erf form by default (like Keras), or the tanh approximation."""
    x = _float(x)
    if approximate:
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
    return (0.5 * x * (1 + _erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)


def _erf(x: Array) -> Array:
    # math.erf vectorized; exact to double precision and keeps scipy out of ``import learnloop``.
    return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype) if x.size < 4096 else _erf_scipy(x)


def _erf_scipy(x: Array) -> Array:
    from scipy.special import erf

    return erf(x)


def _gelu_grad(a: Array, z: Array | None, grad: Array) -> Array:
    assert z is not None, "gelu's derivative needs z"
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + _erf(z / math.sqrt(2.0)))
    return grad * (cdf + z * pdf)                               # g' = Phi(z) + z phi(z)


_ALL: dict[str, Callable] = {
    "linear": linear,
    "sigmoid": sigmoid,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "tanh": tanh,
    "softmax": softmax,
    "elu": elu,
    "gelu": gelu,
    "softplus": softplus,
}

_DERIVATIVES: dict[Callable, Callable] = {
    linear: _linear_grad,
    sigmoid: _sigmoid_grad,
    relu: _relu_grad,
    leaky_relu: _leaky_relu_grad_for(0.2),
    tanh: _tanh_grad,
    softmax: _softmax_grad,
    elu: _elu_grad,
    gelu: _gelu_grad,
    softplus: _softplus_grad,
}

NEEDS_Z = frozenset({gelu})
"""Activations whose derivative needs the pre-activation z, not only the output a."""


def get(identifier) -> Callable:
    """An activation function from a name, ``None`` (linear) or one of this module's functions."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return lookup("activation", _ALL, identifier)
    if identifier in _DERIVATIVES:
        return identifier
    from learnloop.errors import LearnloopError

    raise LearnloopError(
        f"Unsupported activation {identifier!r}: learnloop needs to know its derivative. "
        f"Use one of {sorted(_ALL)} (a name or the function from learnloop.activations), or an activation layer."
    )


def serialize(fn: Callable) -> str:
    """The name of an activation function (inverse of :func:`get`)."""
    return fn.__name__


deserialize = get


def derivative(fn: Callable) -> Callable[[Array, Array | None, Array], Array]:
    """``d(a, z, grad) -> grad * g'(z)`` for an activation function ``fn``."""
    return _DERIVATIVES[fn]


def apply_inplace(fn: Callable, z: Array) -> Array:
    """``fn(z)``, overwriting ``z`` where that is possible (the layers' hot path; ``z`` must be a scratch array)."""
    if fn is linear:
        return z
    if fn is relu:
        return _max_zero(z, z)
    if fn is tanh:
        return np.tanh(z, out=z)
    if fn is sigmoid:
        z *= 0.5
        np.tanh(z, out=z)
        z *= 0.5
        z += 0.5
        return z
    return fn(z)
