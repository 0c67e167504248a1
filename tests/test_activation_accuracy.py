"""Activations and from_logits losses against a 160-bit mpmath reference, over the whole float range.

Inputs run over a log-spaced grid of magnitudes from the smallest subnormal to the largest finite value, both signs
and zero, in float32 and float64. The reference is computed from the exact float inputs. The error is relative, with
the smallest normal number as the floor of the denominator (so an output in the subnormal range may be off by a
tolerance's worth of that floor, and one that rounds to 0 is right only if the true value is below it).
"""

import numpy as np
import pytest

from learnloop import activations as act
from learnloop import losses

mp = pytest.importorskip("mpmath")
mp.mp.prec = 160

TOL = {np.float32: 1e-6, np.float64: 1e-12}
RANGE = {np.float32: (-45, 38.5), np.float64: (-323, 308.2)}


def grid(dtype, n: int = 700) -> np.ndarray:
    lo, hi = RANGE[dtype]
    t = np.logspace(lo, hi, n)
    with np.errstate(over="ignore"):
        g = np.concatenate([-t, [0.0], t]).astype(dtype)
    return np.unique(g[np.isfinite(g)])


def relative_error(got: np.ndarray, ref, dtype) -> np.ndarray:
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    return np.abs(got - ref) / np.maximum(np.abs(ref), np.finfo(dtype).tiny)


def _sigmoid(z):
    return 1 / (1 + mp.exp(-z))


def _softplus(z):
    return mp.log1p(mp.exp(z)) if z < 0 else z + mp.log1p(mp.exp(-z))


def _gelu(z):
    if abs(z) > 1e3:                     # Phi(z) is 0 or 1 far below float64's resolution (and mpmath's erfc overflows)
        return z if z > 0 else mp.mpf(0)
    return z * mp.ncdf(z)


def _gelu_tanh(z):
    if abs(z) > 1e6:
        return z if z > 0 else mp.mpf(0)
    return z * _sigmoid(2 * mp.sqrt(2 / mp.pi) * (z + mp.mpf("0.044715") * z**3))


REFERENCES = {
    "sigmoid": (act.sigmoid, _sigmoid),
    "tanh": (act.tanh, mp.tanh),
    "softplus": (act.softplus, _softplus),
    "elu": (act.elu, lambda z: z if z > 0 else mp.expm1(z)),
    "gelu": (act.gelu, _gelu),
    "gelu_tanh": (lambda z: act.gelu(z, approximate=True), _gelu_tanh),
    "relu": (act.relu, lambda z: max(z, mp.mpf(0))),
    "leaky_relu": (act.leaky_relu, lambda z: z if z > 0 else mp.mpf(0.2) * z),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_elementwise_activation_is_accurate_over_the_whole_range(name, dtype):
    fn, ref = REFERENCES[name]
    z = grid(dtype)
    got = fn(z)
    assert got.dtype == dtype
    expected = [float(ref(mp.mpf(float(v)))) for v in z]
    err = relative_error(got, expected, dtype)
    worst = int(np.argmax(err))
    assert err[worst] <= TOL[dtype], f"{name}({z[worst]!r}) = {got[worst]!r}, expected {expected[worst]!r}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_the_left_tail(dtype):
    z = np.array([-18.0, -20.0, -50.0, -87.0], dtype=dtype)
    expected = [1.522997951276035e-08, 2.061153618190204e-09, 1.928749847963918e-22, 1.6458114310822737e-38]
    assert np.all(relative_error(act.sigmoid(z), expected, dtype) <= TOL[dtype])


def _rows(dtype) -> np.ndarray:
    """Logit rows whose entries lie 1e-3 .. 1e3 (and far beyond) below the largest, from offsets that make
    z - max(z) round in the input precision."""
    gaps = np.logspace(-3, 3.2, 60)
    rows = []
    for top in (0.0, 0.1, -3.7, 11.3):
        for gap in gaps:
            rows.append([top, top - gap, top - 0.5 * gap])
            rows.append([top - gap, top, top - 2 * gap])
    return np.array(rows).astype(dtype)


def _log_softmax_ref(row):
    zs = [mp.mpf(float(v)) for v in row]
    top = max(zs)
    others = list(zs)
    others.remove(top)                                      # 1 + sum(others) would drop them below 2^-160
    rest = mp.fsum(mp.exp(v - top) for v in others)
    return [(v - top) - mp.log1p(rest) for v in zs]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_are_accurate_in_the_tails(dtype):
    z = _rows(dtype)
    log_ref = [_log_softmax_ref(row) for row in z]
    soft_ref = [[float(mp.exp(v)) for v in row] for row in log_ref]
    log_ref = [[float(v) for v in row] for row in log_ref]
    for got, ref in ((act.softmax(z), soft_ref), (act.log_softmax(z), log_ref)):
        assert got.dtype == dtype
        err = relative_error(got, ref, dtype)
        worst = np.unravel_index(int(np.argmax(err)), err.shape)
        assert err[worst] <= TOL[dtype], f"row {z[worst[0]]!r}: got {got[worst]!r}, expected {ref[worst[0]]}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_crossentropy_from_logits_keeps_small_losses(dtype):
    z = grid(dtype)
    for label in (0.0, 1.0):
        y = np.full_like(z, label)
        got = losses.binary_crossentropy(y.reshape(-1, 1), z.reshape(-1, 1), from_logits=True)
        # -log sigmoid(z) for y = 1, -log(1 - sigmoid(z)) = softplus(z) for y = 0
        expected = [float(_softplus(mp.mpf(float(-v) if label else float(v)))) for v in z]
        err = relative_error(got, expected, dtype)
        worst = int(np.argmax(err))
        assert err[worst] <= TOL[dtype], f"y={label}, z={z[worst]!r}: got {got[worst]!r}, expected {expected[worst]!r}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_categorical_crossentropies_from_logits_keep_small_losses(dtype):
    z = _rows(dtype)
    log_ref = np.array([[float(v) for v in _log_softmax_ref(row)] for row in z])
    for label in range(3):
        labels = np.full(len(z), label)
        expected = -log_ref[:, label]
        sparse = losses.sparse_categorical_crossentropy(labels, z, from_logits=True)
        dense = losses.categorical_crossentropy(np.eye(3, dtype=dtype)[labels], z, from_logits=True)
        for got in (sparse, dense):
            err = relative_error(got, expected, dtype)
            worst = int(np.argmax(err))
            assert err[worst] <= TOL[dtype], f"label {label}, row {z[worst]!r}: {got[worst]!r} vs {expected[worst]!r}"
