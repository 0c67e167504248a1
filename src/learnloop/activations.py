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


# e^z overflows above ~88.7 (float32) and ~709.8 (float64); sigmoid(z) rounds to exactly 1 well before that.
_EXP_CAP = {np.dtype(np.float16): 11.0, np.dtype(np.float32): 80.0, np.dtype(np.float64): 700.0}


def _sigmoid_into(z: Array, out: Array) -> Array:
    # e^z / (1 + e^z): in the left tail 1 + e^z rounds to 1, so the result is e^z itself, accurate to the last
    # bit (the (1 + tanh(z/2)) / 2 form loses every digit there: sigmoid(-20) came out 0 in float32). Capping z
    # where the result is already 1 keeps e^z finite; one exp and one division are also faster than tanh.
    np.minimum(z, z.dtype.type(_EXP_CAP.get(z.dtype, 700.0)), out=out)
    np.exp(out, out=out)
    np.divide(out, out + 1, out=out)
    return out


def sigmoid(x) -> Array:
    """g(z) = 1 / (1 + e^-z), accurate to a few ulp over the whole float range (both tails), never overflowing."""
    x = _float(x)
    return _sigmoid_into(x, np.empty_like(x))


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


# float32 rounds the shift z - max(z) by up to |z - max| * 2^-24, and e^(shift) inherits that relative error: below
# a shift of -8 it could pass 1e-6, so such inputs are shifted in float64, where it is exact for float32 values.
_EXACT_SHIFT = 8.0


def _shifted(x: Array, axis: int) -> Array:
    """z - max(z) along ``axis``: a new array, float64 when float32's rounding of it would cost digits."""
    d = x - x.max(axis=axis, keepdims=True)
    if x.dtype.itemsize < 8 and d.size and d.min() < -_EXACT_SHIFT:
        d = x.astype(np.float64)
        d -= d.max(axis=axis, keepdims=True)
    return d


def softmax(x, axis: int = -1) -> Array:
    """a_j = e^{z_j} / sum_k e^{z_k} along ``axis``; the max is subtracted first so e^z never overflows."""
    x = _float(x)
    e = _shifted(x, axis)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e.astype(x.dtype, copy=False)


def _softmax_grad(a: Array, z: Array | None, grad: Array) -> Array:
    # Jacobian-vector product: dz_j = a_j (g_j - sum_k g_k a_k)
    return a * (grad - (grad * a).sum(axis=-1, keepdims=True))


def log_softmax(x, axis: int = -1) -> Array:
    """log a_j = z_j - log sum_k e^{z_k} along ``axis``, accurate also where a_j is close to 1.

    With m = max z and r = sum over the other entries of e^{z_k - m}, log a_j = (z_j - m) - log1p(r): the largest
    entry keeps its tiny value -log1p(r) instead of the 0 that log(1 + r) rounds to.
    """
    x = _float(x)
    d = _shifted(x, axis)
    e = np.exp(d)
    np.put_along_axis(e, np.expand_dims(np.argmax(d, axis=axis), axis), 0.0, axis=axis)
    d -= np.log1p(e.sum(axis=axis, keepdims=True))
    return d.astype(x.dtype, copy=False)


def _log_softmax_grad(a: Array, z: Array | None, grad: Array) -> Array:
    return grad - np.exp(a) * grad.sum(axis=-1, keepdims=True)   # dz_j = g_j - softmax_j sum_k g_k


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
    """g(z) = z * Phi(z), the exact erf form by default (like Keras), or the tanh approximation.

    Phi(z) is written 0.5 erfc(-z / sqrt 2), and the tanh form 0.5 (1 + tanh(u)) as sigmoid(2u): both keep their
    digits in the left tail, where 1 + erf(.) and 1 + tanh(.) cancel to 0.
    """
    x = _float(x)
    w = x.astype(np.float64) if x.dtype.itemsize < 8 else x   # float32's rounding of u would cost digits in the tail
    if approximate:
        with np.errstate(over="ignore"):                      # z^3 overflows for |z| > 1e102: Phi is then 0 or 1
            u = _SQRT_2_OVER_PI * (w + 0.044715 * w**3)
        return (w * _sigmoid_into(2 * u, u)).astype(x.dtype, copy=False)
    return (0.5 * w * _erfc(-w / math.sqrt(2.0))).astype(x.dtype, copy=False)


def _erfc(x: Array) -> Array:
    # math.erfc vectorized: exact to double precision and keeps scipy out of ``import learnloop``.
    return np.frompyfunc(math.erfc, 1, 1)(x).astype(x.dtype) if x.size < 4096 else _erfc_scipy(x)


def _erfc_scipy(x: Array) -> Array:
    from scipy.special import erfc

    return erfc(x)


def _gelu_grad(a: Array, z: Array | None, grad: Array) -> Array:
    assert z is not None, "gelu's derivative needs z"
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    cdf = 0.5 * _erfc(-z / math.sqrt(2.0))
    return grad * (cdf + z * pdf)                               # g' = Phi(z) + z phi(z)


_ALL: dict[str, Callable] = {
    "linear": linear,
    "sigmoid": sigmoid,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "tanh": tanh,
    "softmax": softmax,
    "log_softmax": log_softmax,
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
    log_softmax: _log_softmax_grad,
    elu: _elu_grad,
    gelu: _gelu_grad,
    softplus: _softplus_grad,
}

_CANONICAL: dict[Callable, Callable] = {fn: fn for fn in _DERIVATIVES}

NEEDS_Z = frozenset({gelu})
"""Activations whose derivative needs the pre-activation z, not only the output a."""


def get(identifier) -> Callable:
    """An activation function from a name, ``None`` (linear) or one of this module's functions."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return lookup("activation", _ALL, identifier)
    if identifier in _DERIVATIVES:
        return _CANONICAL[identifier]          # an equal stand-in (a compat wrapper) resolves to the function itself
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
        return _sigmoid_into(z, z)
    return fn(z)
