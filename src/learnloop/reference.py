"""Forward propagation exactly as the course notes derive it: the readable spec the engine is checked against.

``dense_loop`` computes one unit at a time (column j of W is neuron j), ``dense`` is the vectorized
``g(A_in @ W + b)``, and ``sequential`` chains layers given as ``(W, b, g)`` triples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Array = np.ndarray


def dense_loop(a_in: Array, W: Array, b: Array, g: Callable[[Array], Array]) -> Array:
    """One layer, one unit at a time.

    Args:
        a_in: (n,) activations of the previous layer (one example).
        W: (n, j) weights; column j holds neuron j's weights.
        b: (j,) biases.
        g: activation function.
    Returns:
        (j,) activations of this layer.
    """
    units = W.shape[1]
    a_out = np.zeros(units, dtype=np.result_type(a_in, W, b, np.float32))
    for j in range(units):
        w = W[:, j]
        z = np.dot(w, a_in) + b[j]
        a_out[j] = g(z)
    return a_out


def dense(A_in: Array, W: Array, b: Array, g: Callable[[Array], Array]) -> Array:
    """One layer for a batch: ``g(A_in @ W + b)``.

    Args:
        A_in: (m, n) one example per row.
        W: (n, j); b: (j,) or (1, j); g: activation function.
    Returns:
        (m, j).
    """
    Z = np.matmul(A_in, W) + b
    return g(Z)


def sequential(x: Array, layers: Sequence[tuple[Array, Array, Callable[[Array], Array]]]) -> Array:
    """Chain :func:`dense` through ``layers`` = [(W1, b1, g1), (W2, b2, g2), ...]."""
    a = x
    for W, b, g in layers:
        a = dense(a, W, b, g)
    return a
