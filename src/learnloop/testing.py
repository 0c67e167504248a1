"""Finite-difference gradient checks for layers, losses and activations (float64, central differences)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def numerical_gradient(f: Callable[[], float], x: Array, eps: float = 1e-6) -> Array:
    """d f / d x by central differences, perturbing ``x`` in place (restored afterwards)."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def max_relative_error(analytic: Array, numeric: Array, floor: float = 1e-4) -> float:
    """``max(abs(a - n) / (abs(a) + abs(n)))`` elementwise, the usual gradient-check measure.

    The denominator is floored at ``floor`` times the largest ``abs(a) + abs(n)``, so entries many orders of magnitude
    smaller than the rest are judged against the finite differences' absolute noise, not against themselves.
    """
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    if not analytic.size:
        return 0.0
    scale = np.abs(analytic) + np.abs(numeric)
    denom = np.maximum(scale, max(floor * float(scale.max()), 1e-8))
    return float(np.max(np.abs(analytic - numeric) / denom))


def assert_gradients_match(layer, x: Array, rtol: float = 1e-6, seed: int = 0, training: bool = False,
                           eps: float = 1e-6) -> None:
    """Check ``layer.backward`` against finite differences of L = sum(forward(x) * R), R a fixed random array.

    Checks dL/dx and dL/dw for every trainable weight. The layer should use ``dtype="float64"``.
    """
    x = np.array(x, dtype=np.float64)
    out = layer(x, training=training)
    r = np.random.default_rng(seed).normal(size=out.shape)

    def loss() -> float:
        return float(np.sum(layer.forward(x, training=training) * r))

    layer.forward(x, training=training)
    dx = layer.backward(r.copy())
    analytic = {name: g.copy() for name, g in layer.grads.items()}
    problems = []
    err = max_relative_error(dx, numerical_gradient(loss, x, eps))
    if err > rtol:
        problems.append(f"dL/dx: max relative error {err:.2e}")
    for spec in layer.weight_specs():
        if not spec.trainable:
            continue
        w = getattr(layer, spec.attr)
        err = max_relative_error(analytic[spec.attr], numerical_gradient(loss, w, eps))
        if err > rtol:
            problems.append(f"dL/d{spec.attr}: max relative error {err:.2e}")
    assert not problems, f"{type(layer).__name__} '{layer.name}' gradients disagree (rtol {rtol}): {problems}"


def assert_loss_gradient_matches(loss, y: Array, p: Array, rtol: float = 1e-6, sample_weight=None,
                                 eps: float = 1e-6) -> None:
    """Check ``loss.value_and_gradient`` against finite differences of ``loss(y, p)`` in float64."""
    p = np.array(p, dtype=np.float64)
    yp = loss.prepare(y, p)
    sw = None if sample_weight is None else np.asarray(sample_weight, np.float64)
    _, grad = loss.value_and_gradient(yp, p.copy(), sw)
    numeric = numerical_gradient(lambda: loss.value_and_gradient(yp, p, sw)[0], p, eps)
    err = max_relative_error(grad, numeric)
    assert err <= rtol, f"{type(loss).__name__} gradient disagrees: max relative error {err:.2e} > {rtol}"
