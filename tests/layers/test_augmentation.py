"""Augmentation layers: random only while training, exact transposed gradients, config round trip, inside a model."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from learnloop.data.augment import affine_coordinates, resample, rotation_matrices
from learnloop.errors import LearnloopError
from learnloop.layers import REGISTRY, GaussianNoise, RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from learnloop.layers.augmentation import resample_transpose

LAYERS = [
    lambda: RandomRotation(0.1, seed=0, dtype="float64"),
    lambda: RandomZoom(0.2, seed=0, fill_mode="constant", dtype="float64"),
    lambda: RandomZoom((-0.2, 0.1), width_factor=0.3, interpolation="nearest", seed=0, dtype="float64"),
    lambda: RandomTranslation(0.2, 0.1, seed=0, fill_mode="wrap", dtype="float64"),
    lambda: GaussianNoise(0.3, seed=0, dtype="float64"),
]


@pytest.mark.parametrize("make", LAYERS)
@pytest.mark.parametrize("shape", [(4, 8, 8, 1), (3, 9, 7, 2), (4, 8, 8)])
def test_identity_at_inference_random_in_training(rng, make, shape):
    layer = make()
    x = rng.random(shape)
    assert_array_equal(layer(x), x)
    out = layer(x, training=True)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not np.allclose(out, x)
    assert not np.allclose(layer(x, training=True), out)              # a new draw each batch


@pytest.mark.parametrize("make", LAYERS)
def test_backward_is_the_exact_transpose_of_the_forward_pass(rng, make):
    layer = make()
    x = rng.normal(size=(3, 8, 8, 2))
    layer(x)
    out = layer.forward(x, training=True)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    # The transform is linear in x (plus a constant fill or noise): <A x, g> == <x, A^T g>.
    offset = layer.forward(np.zeros_like(x), training=True) if isinstance(layer, GaussianNoise) else None
    if offset is None:
        fill = resample(np.zeros_like(x), layer._coords, layer.fill_mode, layer.fill_value)
        assert_allclose(np.sum((out - fill) * g), np.sum(x * dx), rtol=1e-10)
    else:
        assert_array_equal(dx, g)


@pytest.mark.parametrize("mode", ["constant", "nearest", "reflect", "wrap", "mirror"])
@pytest.mark.parametrize("order", [0, 1])
def test_resample_transpose_matches_scipy_for_every_fill_mode(rng, mode, order):
    shape = (3, 7, 6, 2)
    matrices = rotation_matrices(rng.uniform(-1, 1, 3)) * rng.uniform(0.6, 1.6, (3, 1, 1))
    coords = affine_coordinates(shape[1:3], matrices, rng.uniform(-4, 4, (3, 2)))
    x, g = rng.normal(size=shape), rng.normal(size=shape)
    lhs = np.sum(resample(x, coords, mode, 0.0, order) * g)
    assert_allclose(lhs, np.sum(x * resample_transpose(g, coords, shape, mode, order)), rtol=1e-10)


def test_backward_at_inference_passes_the_gradient_and_first_layer_returns_none(rng):
    layer = RandomRotation(0.2, seed=0)
    x = rng.random((2, 8, 8, 1)).astype(np.float32)
    layer(x)
    g = rng.random((2, 8, 8, 1)).astype(np.float32)
    assert layer.backward(g) is g
    layer.input_grad_needed = False
    layer.forward(x, training=True)
    assert layer.backward(g) is None


@pytest.mark.parametrize("make", LAYERS)
def test_config_round_trip_and_registry(make):
    layer = make()
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert REGISTRY[type(layer).__name__] is type(layer)
    x = np.random.default_rng(0).random((2, 8, 8, 1))
    assert_array_equal(clone(x, training=True), make()(x, training=True))   # same seed, same draws


def test_errors_say_what_was_expected():
    with pytest.raises(LearnloopError, match=r"expects images of shape.*got samples of shape \(64,\)"):
        RandomRotation(0.1)(np.zeros((5, 64)))
    with pytest.raises(LearnloopError, match="fill_mode must be one of"):
        RandomZoom(0.1, fill_mode="edge")
    with pytest.raises(LearnloopError, match="above -1"):
        RandomZoom((-1.5, 0.1))
    with pytest.raises(LearnloopError, match="stddev must be >= 0"):
        GaussianNoise(-1)


def test_layers_train_inside_a_model_and_are_skipped_by_predict():
    from sklearn.datasets import load_digits

    import learnloop
    from learnloop import Input, Sequential
    from learnloop.layers import Dense, Flatten, Reshape

    digits = load_digits()
    x, y = (digits.data[:300] / 16).astype(np.float32), digits.target[:300]
    learnloop.set_seed(0)
    model = Sequential([Input((64,)), Reshape((8, 8, 1)), RandomRotation(0.03, fill_mode="constant", seed=1),
                        GaussianNoise(0.05, seed=2), Flatten(), Dense(32, activation="relu"), Dense(10)])
    model.compile(optimizer="adam", loss=learnloop.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert_array_equal(model.predict(x), model.predict(x))              # inference is deterministic
    assert np.mean(model.predict(x).argmax(1) == y) > 0.9


def test_a_model_with_augmentation_layers_saves_and_loads(tmp_path, rng):
    from learnloop import Input, Sequential, load_model
    from learnloop.layers import Dense, Flatten

    model = Sequential([Input((8, 8, 1)), RandomRotation((-0.05, 0.1), seed=3), RandomZoom(0.1, width_factor=0.2),
                        RandomTranslation(0.1, 0.1, fill_mode="constant"), GaussianNoise(0.1), Flatten(), Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "augmented.zip")
    loaded = load_model(tmp_path / "augmented.zip")
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    x = rng.random((4, 8, 8, 1)).astype(np.float32)
    assert_allclose(loaded.predict(x), model.predict(x))


# ---- RandomFlip ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode, axes", [("horizontal", [2]), ("vertical", [1]), ("horizontal_and_vertical", [1, 2])])
def test_random_flip_mirrors_whole_images_along_its_axes_only_while_training(rng, mode, axes):
    layer = RandomFlip(mode, seed=0, dtype="float64")
    x = rng.normal(size=(64, 5, 4, 2))
    assert_array_equal(layer(x), x)
    out = layer(x, training=True)
    seen = set()
    for image, flipped in zip(x, out):                               # image axes: 0 = height, 1 = width
        matches = [combo for combo in ((), (1,), (2,), (1, 2))
                   if np.array_equal(flipped, np.flip(image, [a - 1 for a in combo]))]
        assert matches and set(matches[0]) <= set(axes)
        seen.add(matches[0])
    assert len(seen) == 2 ** len(axes)                              # every combination drawn among 64 images


def test_random_flip_backward_is_its_transpose_and_draws_are_seeded(rng):
    layer = RandomFlip(seed=3, dtype="float64")
    x = rng.normal(size=(8, 4, 4, 1))
    layer(x)
    out = layer.forward(x, training=True)
    g = rng.normal(size=out.shape)
    assert_allclose(np.sum(out * g), np.sum(x * layer.backward(g)), rtol=1e-12)
    again = RandomFlip(seed=3, dtype="float64")
    again(x)
    assert_array_equal(again.forward(x, training=True), out)
    assert RandomFlip.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(LearnloopError, match="mode must be one of"):
        RandomFlip("diagonal")

