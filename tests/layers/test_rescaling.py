"""Rescaling: the affine map it stands for, its gradient, per-channel factors, config, saving, Keras parity."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import learnloop
from learnloop import Input, Sequential
from learnloop.errors import LearnloopError
from learnloop.layers import REGISTRY, Dense, Flatten, Rescaling
from learnloop.testing import assert_gradients_match


def test_pixels_map_to_the_unit_interval_and_to_plus_minus_one():
    pixels = np.array([[0.0, 127.5, 255.0]], dtype=np.float32)
    assert_allclose(Rescaling(1 / 255)(pixels), [[0.0, 0.5, 1.0]], rtol=1e-6)
    assert_allclose(Rescaling(1 / 127.5, offset=-1)(pixels), [[-1.0, 0.0, 1.0]], atol=1e-6)
    assert Rescaling(2.0)(pixels).dtype == np.float32


def test_per_channel_factors_broadcast_along_the_last_axis(rng):
    x = rng.normal(size=(2, 4, 4, 3))
    layer = Rescaling([1.0, 2.0, 3.0], offset=[0.0, 1.0, -1.0], dtype="float64")
    assert_allclose(layer(x), x * [1.0, 2.0, 3.0] + [0.0, 1.0, -1.0])
    with pytest.raises(LearnloopError, match="has 3 scale values but the input has 2 channels"):
        Sequential([Input((4, 4, 2)), Rescaling([1.0, 2.0, 3.0])])


@pytest.mark.parametrize("scale, offset", [(0.5, 0.0), (-3.0, 2.0), ([1.0, -2.0], [0.5, 0.0])])
def test_gradient_matches_finite_differences(rng, scale, offset):
    layer = Rescaling(scale, offset=offset, dtype="float64")
    assert_gradients_match(layer, rng.normal(size=(3, 5, 2)))


def test_config_round_trip_saving_and_zero_parameters(tmp_path, rng):
    model = Sequential([Input((4, 2)), Rescaling([0.5, 2.0], offset=1.0), Flatten(), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    assert model.layers[0].count_params() == 0
    model.save(tmp_path / "m.zip")
    loaded = learnloop.load_model(tmp_path / "m.zip")
    x = rng.normal(size=(5, 4, 2)).astype(np.float32)
    assert_array_equal(loaded.predict(x), model.predict(x))
    assert REGISTRY["Rescaling"] is Rescaling
    assert loaded.layers[0].get_config()["scale"] == [0.5, 2.0]


@pytest.mark.parametrize("kwargs", [{"scale": "1/255"}, {"scale": float("nan")}, {"scale": []},
                                    {"scale": 1.0, "offset": [[1.0]]}])
def test_bad_factors_are_refused(kwargs):
    with pytest.raises(LearnloopError, match="must be a finite number or a list of them"):
        Rescaling(**kwargs)


def test_matches_keras(rng):
    keras = pytest.importorskip("keras")
    x = rng.uniform(0, 255, size=(2, 3, 3, 2)).astype(np.float32)
    for kwargs in ({"scale": 1 / 255}, {"scale": 1 / 127.5, "offset": -1.0}):
        assert_allclose(Rescaling(**kwargs)(x), np.asarray(keras.layers.Rescaling(**kwargs)(x)), rtol=1e-6)
