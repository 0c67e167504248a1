"""Pooling layers: finite-difference gradients, a plain-loop reference, TensorFlow's padding, errors, an oracle."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from learnloop.errors import LearnloopError
from learnloop.layers import (
    REGISTRY,
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from learnloop.testing import assert_gradients_match

POOL_2D = (MaxPooling2D, AveragePooling2D)
POOL_1D = (MaxPooling1D, AveragePooling1D)
GLOBAL_2D = (GlobalMaxPooling2D, GlobalAveragePooling2D)
GLOBAL_1D = (GlobalMaxPooling1D, GlobalAveragePooling1D)


# ---- a plain-loop reference ---------------------------------------------------------------------------------
def _geometry(n: int, p: int, s: int, padding: str) -> tuple[int, int]:
    """(outputs, padding before) along one axis, as TensorFlow defines them."""
    if padding == "valid":
        return (n - p) // s + 1, 0
    out = -(-n // s)
    return out, max((out - 1) * s + p - n, 0) // 2


def pool2d_loop(x, pool, strides, padding, reduce):
    """``reduce`` over the real (unpadded) inputs of each window: max, or a mean that does not count pads."""
    b, h, w, c = x.shape
    (oh, top), (ow, left) = _geometry(h, pool[0], strides[0], padding), _geometry(w, pool[1], strides[1], padding)
    out = np.zeros((b, oh, ow, c))
    for n in range(b):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    values = [x[n, r, q, ch]
                              for r in range(i * strides[0] - top, i * strides[0] - top + pool[0])
                              for q in range(j * strides[1] - left, j * strides[1] - left + pool[1])
                              if 0 <= r < h and 0 <= q < w]
                    out[n, i, j, ch] = reduce(values)
    return out


def _reduce_for(cls):
    return max if "Max" in cls.__name__ else (lambda v: sum(v) / len(v))


# ---- gradients ------------------------------------------------------------------------------------------------
# (pool_size, strides, padding, input h x w): non-overlapping (the fast case), remainders, overlaps, gaps.
CASES_2D = [
    (2, None, "valid", (4, 6)),
    (2, None, "valid", (5, 7)),
    (2, None, "same", (5, 7)),
    (3, None, "same", (7, 5)),
    (3, 2, "valid", (7, 6)),
    (3, 2, "same", (6, 7)),
    ((2, 3), (1, 2), "same", (5, 6)),
    ((3, 1), (2, 1), "valid", (7, 3)),
    (2, 3, "valid", (8, 7)),
    (4, 1, "same", (4, 5)),
    (1, 1, "valid", (3, 3)),
]


@pytest.mark.parametrize("pool_size, strides, padding, hw", CASES_2D)
@pytest.mark.parametrize("cls", POOL_2D)
def test_pooling2d_gradients_match_finite_differences(rng, cls, pool_size, strides, padding, hw):
    layer = cls(pool_size, strides, padding, dtype="float64")
    assert_gradients_match(layer, rng.normal(size=(2, *hw, 3)), rtol=1e-6, eps=1e-4)


CASES_1D = [(2, None, "valid", 7), (3, None, "same", 8), (3, 2, "valid", 9), (4, 3, "same", 10), (2, 3, "valid", 8),
            (5, 1, "same", 6)]


@pytest.mark.parametrize("pool_size, strides, padding, steps", CASES_1D)
@pytest.mark.parametrize("cls", POOL_1D)
def test_pooling1d_gradients_match_finite_differences(rng, cls, pool_size, strides, padding, steps):
    layer = cls(pool_size, strides, padding, dtype="float64")
    assert_gradients_match(layer, rng.normal(size=(2, steps, 2)), rtol=1e-6, eps=1e-4)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("cls, shape", [(c, (2, 5, 4, 3)) for c in GLOBAL_2D] + [(c, (2, 7, 3)) for c in GLOBAL_1D])
def test_global_pooling_gradients_match_finite_differences(rng, cls, shape, keepdims):
    assert_gradients_match(cls(keepdims=keepdims, dtype="float64"), rng.normal(size=shape), rtol=1e-6, eps=1e-4)


# ---- forward against the loop reference ---------------------------------------------------------------------
@pytest.mark.parametrize("pool_size, strides, padding, hw", CASES_2D)
@pytest.mark.parametrize("cls", POOL_2D)
def test_pooling2d_forward_equals_loop_reference(rng, cls, pool_size, strides, padding, hw):
    x = rng.normal(size=(2, *hw, 3))
    pool = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    stride = pool if strides is None else ((strides, strides) if isinstance(strides, int) else strides)
    assert_allclose(cls(pool_size, strides, padding, dtype="float64")(x),
                    pool2d_loop(x, pool, stride, padding, _reduce_for(cls)), atol=1e-12)


@pytest.mark.parametrize("pool_size, strides, padding, steps", CASES_1D)
@pytest.mark.parametrize("cls", POOL_1D)
def test_pooling1d_forward_equals_loop_reference(rng, cls, pool_size, strides, padding, steps):
    x = rng.normal(size=(2, steps, 2))
    expected = pool2d_loop(x[:, None], (1, pool_size), (1, strides or pool_size), padding, _reduce_for(cls))[:, 0]
    assert_allclose(cls(pool_size, strides, padding, dtype="float64")(x), expected, atol=1e-12)


@pytest.mark.parametrize("cls, shape", [(c, (2, 5, 4, 3)) for c in GLOBAL_2D] + [(c, (2, 7, 3)) for c in GLOBAL_1D])
def test_global_pooling_forward_equals_loop_reference(rng, cls, shape):
    x = rng.normal(size=shape)
    reduce = _reduce_for(cls)
    expected = np.array([[reduce(list(x[n, ..., ch].ravel())) for ch in range(shape[-1])] for n in range(shape[0])])
    assert_allclose(cls(dtype="float64")(x), expected, atol=1e-12)
    kept = cls(keepdims=True, dtype="float64")(x)
    assert kept.shape == (shape[0],) + (1,) * (len(shape) - 2) + (shape[-1],)
    assert_allclose(kept.reshape(shape[0], -1), expected, atol=1e-12)


# ---- TensorFlow's conventions, worked by hand ---------------------------------------------------------------
def test_max_gradient_goes_to_the_first_maximum_of_each_window():
    x = np.array([[1.0, 1.0, 0.0, 2.0],
                  [0.0, 1.0, 2.0, 2.0]]).reshape(1, 2, 4, 1)
    layer = MaxPooling2D(2, dtype="float64")
    assert_allclose(layer(x).ravel(), [1.0, 2.0])
    dx = layer.backward(np.array([10.0, 20.0]).reshape(1, 1, 2, 1))
    assert_allclose(dx[0, :, :, 0], [[10.0, 0.0, 0.0, 20.0],
                                     [0.0, 0.0, 0.0, 0.0]])


def test_overlapping_max_windows_add_their_gradients():
    x = np.array([0.0, 5.0, 1.0, 2.0]).reshape(1, 4, 1)
    layer = MaxPooling1D(2, strides=1, dtype="float64")
    assert_allclose(layer(x).ravel(), [5.0, 5.0, 2.0])
    assert_allclose(layer.backward(np.array([1.0, 2.0, 4.0]).reshape(1, 3, 1)).ravel(), [0.0, 3.0, 0.0, 4.0])


def test_same_padding_is_ignored_by_max_and_left_out_of_the_average():
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)                   # all negative: a zero pad would win a max
    assert_allclose(MaxPooling2D(2, padding="same", dtype="float64")(x)[0, :, :, 0], [[-1.0, -3.0], [-7.0, -9.0]])
    ones = np.ones((1, 3, 3, 1))
    assert_allclose(AveragePooling2D(2, padding="same", dtype="float64")(ones), np.ones((1, 2, 2, 1)))
    # The average's gradient spreads over the real inputs only: 1/4, 1/2, 1/2 and 1 per window here.
    layer = AveragePooling2D(2, padding="same", dtype="float64")
    layer(ones)
    assert_allclose(layer.backward(np.ones((1, 2, 2, 1)))[0, :, :, 0],
                    [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 1.0]])


def test_valid_pooling_drops_the_remainder():
    x = np.arange(1.0, 8.0).reshape(1, 7, 1)
    layer = AveragePooling1D(2, dtype="float64")
    assert_allclose(layer(x).ravel(), [1.5, 3.5, 5.5])
    assert_allclose(layer.backward(np.ones((1, 3, 1))).ravel(), [0.5] * 6 + [0.0])


@pytest.mark.parametrize("layer, input_shape, expected", [
    (lambda: MaxPooling2D(), (None, 26, 26, 16), (None, 13, 13, 16)),
    (lambda: MaxPooling2D(2), (None, 11, 11, 32), (None, 5, 5, 32)),
    (lambda: MaxPooling2D(2, padding="same"), (None, 11, 11, 32), (None, 6, 6, 32)),
    (lambda: MaxPooling2D(3, strides=2), (None, 7, 7, 1), (None, 3, 3, 1)),
    (lambda: AveragePooling2D((2, 3), strides=(1, 2), padding="same"), (None, 5, 6, 2), (None, 5, 3, 2)),
    (lambda: AveragePooling2D(2), (None, None, 8, 2), (None, None, 4, 2)),
    (lambda: MaxPooling1D(), (None, 136, 16), (None, 68, 16)),
    (lambda: AveragePooling1D(4), (None, 141, 3), (None, 35, 3)),
    (lambda: AveragePooling1D(4, padding="same"), (None, 141, 3), (None, 36, 3)),
    (lambda: GlobalAveragePooling2D(), (None, 7, 7, 32), (None, 32)),
    (lambda: GlobalMaxPooling2D(keepdims=True), (None, 7, 7, 32), (None, 1, 1, 32)),
    (lambda: GlobalAveragePooling1D(keepdims=True), (None, 70, 8), (None, 1, 8)),
    (lambda: GlobalMaxPooling1D(), (None, None, 8), (None, 8)),
])
def test_output_shapes_are_keras_shapes(layer, input_shape, expected):
    assert layer().compute_output_shape(input_shape) == expected


def test_default_names_and_strides_follow_keras():
    layer = MaxPooling2D((3, 2))
    assert layer.strides == (3, 2) and layer.name.startswith("max_pooling2d")
    assert GlobalAveragePooling1D().name.startswith("global_average_pooling1d")


# ---- layer contract -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", POOL_2D + GLOBAL_2D)
def test_float32_in_float32_out_and_no_input_gradient_when_not_needed(rng, cls):
    layer = cls()
    x = rng.normal(size=(2, 6, 6, 3)).astype(np.float32)
    out = layer(x)
    assert out.dtype == np.float32 and layer.backward(np.ones_like(out)).dtype == np.float32
    layer.trainable = False
    assert layer.backward(np.ones_like(out)).shape == x.shape         # frozen: still passes dL/dx down
    layer.input_grad_needed = False
    assert layer.backward(np.ones_like(out)) is None
    assert layer.get_weights() == [] and layer.count_params() == 0


@pytest.mark.parametrize("layer", [MaxPooling2D((3, 2), strides=(1, 2), padding="same", name="p"),
                                   AveragePooling1D(4, padding="same"), GlobalMaxPooling2D(keepdims=True),
                                   GlobalAveragePooling1D(dtype="float64"), MaxPooling1D(), AveragePooling2D(),
                                   GlobalMaxPooling1D(), GlobalAveragePooling2D()])
def test_config_round_trip_rebuilds_the_same_layer(layer):
    config = layer.get_config()
    assert config["data_format"] == "channels_last"
    assert REGISTRY[type(layer).__name__].from_config(config).get_config() == config


# ---- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, shape, layout", [
    (MaxPooling2D, (8, 28, 28), r"\(batch, height, width, channels\); got shape \(8, 28, 28\)\. Add a channel axis"),
    (GlobalAveragePooling2D, (8, 28, 28), r"\(batch, height, width, channels\); got shape \(8, 28, 28\)\. Add a"),
    (AveragePooling1D, (8, 140), r"\(batch, steps, channels\); got shape \(8, 140\)\. Add a channel axis"),
    (GlobalMaxPooling1D, (8, 5, 5, 2), r"\(batch, steps, channels\); got shape \(8, 5, 5, 2\)\.$"),
])
def test_wrong_rank_says_which_axes(cls, shape, layout):
    with pytest.raises(LearnloopError, match=rf"{cls.__name__} '.+' expects {layout}"):
        cls()(np.zeros(shape))


def test_pool_larger_than_a_valid_input_is_an_error():
    with pytest.raises(LearnloopError, match=r"MaxPooling2D 'p' with pool_size \(3, 3\) and padding='valid' needs "
                                             r"inputs at least that large; got shape \(None, 2, 5, 1\)"):
        MaxPooling2D(3, name="p")(np.zeros((1, 2, 5, 1)))
    assert MaxPooling2D(3, padding="same")(np.zeros((1, 2, 5, 1))).shape == (1, 1, 2, 1)


@pytest.mark.parametrize("cls, kwargs, match", [
    (MaxPooling2D, {"pool_size": 0}, r"MaxPooling2D expects pool_size to be a positive int or a tuple of 2 positive "
                                      r"ints; got 0"),
    (AveragePooling2D, {"pool_size": (2, 2, 2)}, r"pool_size .* got \(2, 2, 2\)"),
    (MaxPooling1D, {"strides": -1}, r"MaxPooling1D expects strides to be a positive int; got -1"),
    (AveragePooling1D, {"padding": "causal"}, r"padding to be one of \['valid', 'same'\]; got 'causal'"),
    (MaxPooling2D, {"padding": "full"}, r"padding to be one of \['valid', 'same'\]; got 'full'"),
    (MaxPooling2D, {"data_format": "channels_first"}, r"channels_last' only"),
    (GlobalAveragePooling2D, {"data_format": "channels_first"}, r"channels_last' only"),
])
def test_bad_arguments_are_named_in_the_error(cls, kwargs, match):
    with pytest.raises(LearnloopError, match=match):
        cls(**kwargs)


# ---- oracle: PyTorch, when installed ----------------------------------------------------------------------------
@pytest.mark.parametrize("pool_size, strides, padding, hw", CASES_2D[:10])
@pytest.mark.parametrize("cls", POOL_2D)
def test_pooling2d_matches_torch_forward_and_backward(rng, cls, pool_size, strides, padding, hw):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    layer = cls(pool_size, strides, padding, dtype="float64")
    x = rng.normal(size=(2, *hw, 3))
    out = layer(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    pool, stride = layer.pool_size, layer.strides
    pads = [0, 0, 0, 0]                                                       # (left, right, top, bottom)
    if padding == "same":
        for n, p, s, slot in ((hw[1], pool[1], stride[1], 0), (hw[0], pool[0], stride[0], 2)):
            total = max((-(-n // s) - 1) * s + p - n, 0)
            pads[slot], pads[slot + 1] = total // 2, total - total // 2
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    if cls is MaxPooling2D:
        yt = F.max_pool2d(F.pad(xt, pads, value=-np.inf), pool, stride)
    else:                                                                     # window sums / real-input counts
        count = F.avg_pool2d(F.pad(torch.ones_like(xt), pads), pool, stride, divisor_override=1)
        yt = F.avg_pool2d(F.pad(xt, pads), pool, stride, divisor_override=1) / count
    yt.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    assert_allclose(out, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-12)
    assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-12)


@pytest.mark.parametrize("cls", GLOBAL_1D + GLOBAL_2D)
def test_global_pooling_matches_torch_forward_and_backward(rng, cls):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(3, 5, 4, 2) if cls in GLOBAL_2D else (3, 6, 2))
    layer = cls(dtype="float64")
    out = layer(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    axes = tuple(range(1, x.ndim - 1))
    yt = xt.amax(dim=axes) if "Max" in cls.__name__ else xt.mean(dim=axes)
    yt.backward(torch.tensor(g))
    assert_allclose(out, yt.detach().numpy(), atol=1e-12)
    assert_allclose(dx, xt.grad.numpy(), atol=1e-12)


# ---- oracle: Keras itself, when installed ------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs, shape", [
    (MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 8, 7, 2)),
    (AveragePooling2D, {"pool_size": (2, 3), "strides": (2, 2), "padding": "same"}, (2, 7, 8, 2)),
    (AveragePooling1D, {"pool_size": 4, "strides": 3, "padding": "same"}, (2, 10, 2)),
    (MaxPooling1D, {"pool_size": 2}, (2, 9, 2)),
    (GlobalAveragePooling2D, {"keepdims": True}, (2, 5, 4, 3)),
    (GlobalMaxPooling1D, {}, (2, 5, 3)),
])
def test_pooling_matches_keras(rng, cls, kwargs, shape):
    keras = pytest.importorskip("keras")
    x = rng.normal(size=shape).astype(np.float32)
    theirs = getattr(keras.layers, cls.__name__)(**kwargs)
    ours = cls(**kwargs)
    assert ours.compute_output_shape((None, *shape[1:])) == tuple(theirs.compute_output_shape((None, *shape[1:])))
    assert_allclose(ours(x), np.asarray(theirs(x)), atol=1e-6)
