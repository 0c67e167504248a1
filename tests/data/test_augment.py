"""Array augmentation: shapes, dtypes and labels kept, exact geometry, exact SNR, and a measurable gain on digits."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from learnloop.data import augment as aug
from learnloop.errors import LearnloopError

IMAGE_FUNCTIONS = [
    partial(aug.rotate, max_degrees=20),
    partial(aug.zoom, factor=0.2),
    partial(aug.translate, factor=0.2),
    partial(aug.elastic_warp, alpha=1.0, sigma=2.0),
    partial(aug.add_noise, stddev=2.0),
]


@pytest.mark.parametrize("fn", IMAGE_FUNCTIONS, ids=lambda f: f.func.__name__)
@pytest.mark.parametrize("shape", [(5, 8, 8), (4, 9, 7, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_image_transforms_keep_shape_and_dtype(rng, fn, shape, dtype):
    images = (rng.random(shape) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    out = fn(images, seed=1)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert not np.array_equal(out, images)
    assert_array_equal(fn(images, seed=1), out)                       # same seed, same result


@pytest.mark.parametrize("fn", [aug.rotate, aug.zoom, aug.translate], ids=lambda f: f.__name__)
def test_zero_strength_geometry_is_the_identity(rng, fn):
    images = rng.random((6, 8, 8, 2)).astype(np.float32)
    assert_array_equal(fn(images, 0, seed=3), images)
    assert_array_equal(aug.elastic_warp(images, alpha=0.0, seed=3), images)


def test_rotation_by_90_degrees_turns_counter_clockwise_and_matches_rot90():
    images = np.random.default_rng(0).random((2, 7, 7))
    assert_allclose(aug.rotate(images, (90, 90), seed=0), np.rot90(images, k=1, axes=(1, 2)), atol=1e-12)
    assert_allclose(aug.rotate(images, (-90, -90), seed=0), np.rot90(images, k=-1, axes=(1, 2)), atol=1e-12)


def test_translate_moves_content_down_and_right_by_the_drawn_fraction():
    image = np.zeros((1, 10, 10))
    image[0, 2, 3] = 1.0
    out = aug.translate(image, (0.2, 0.2), seed=0, width_factor=(0.3, 0.3))
    assert_allclose(out[0, 4, 6], 1.0, atol=1e-12)
    assert_allclose(out.sum(), 1.0, atol=1e-12)


def test_zoom_out_shrinks_and_zoom_in_grows_the_content():
    image = np.zeros((1, 21, 21))
    image[0, 5:16, 5:16] = 1.0
    assert aug.zoom(image, (0.5, 0.5), seed=0).sum() < image.sum() < aug.zoom(image, (-0.3, -0.3), seed=0).sum()


def test_elastic_warp_displaces_by_about_alpha_pixels():
    # On a horizontal ramp (value = column index), the change of each pixel is its column displacement.
    ramp = np.tile(np.arange(32.0), (4, 32, 1))
    out = aug.elastic_warp(ramp, alpha=1.5, sigma=4.0, seed=0, fill_mode="nearest")
    inner = (out - ramp)[:, 6:-6, 6:-6]
    assert 0.5 < np.sqrt(np.mean(inner**2)) < 2.5


def test_integer_images_are_rounded_and_clipped():
    images = np.full((3, 6, 6), 250, dtype=np.uint8)
    out = aug.add_noise(images, stddev=20.0, seed=0)
    assert out.dtype == np.uint8 and out.max() == 255


def test_errors_name_the_function_and_the_shape():
    with pytest.raises(LearnloopError, match=r"rotate\(\) expects images of shape .* got an array of shape \(8, 8\)"):
        aug.rotate(np.zeros((8, 8)), 10)
    with pytest.raises(LearnloopError, match="Unknown fill_mode 'reflekt'.*Did you mean 'reflect'"):
        aug.rotate(np.zeros((1, 8, 8)), 10, fill_mode="reflekt")
    with pytest.raises(LearnloopError, match="low <= high"):
        aug.zoom(np.zeros((1, 8, 8)), (0.2, 0.1))


# ---- signals -------------------------------------------------------------------------------------------------
def _snr_db(clean: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    axes = tuple(range(1, clean.ndim))
    return 10 * np.log10(np.mean(clean**2, axis=axes) / np.mean((noisy - clean) ** 2, axis=axes))


@pytest.mark.parametrize("snr", [0.0, 10.0, 25.0])
def test_background_noise_reaches_the_requested_snr(rng, snr):
    t = np.linspace(0, 1, 400)
    signals = np.stack([np.sin(2 * np.pi * f * t) * a for f, a in [(5, 1.0), (11, 0.2), (3, 4.0)]])
    white = aug.add_background_noise(signals, snr, seed=0)
    recorded = aug.add_background_noise(signals, snr, noise=rng.normal(size=(2, 150)) ** 3, seed=0)
    assert np.all(np.abs(_snr_db(signals, white) - snr) < 0.5)
    assert np.all(np.abs(_snr_db(signals, recorded) - snr) < 0.5)


def test_background_noise_snr_range_and_channels(rng):
    signals = rng.normal(size=(50, 200, 2)).astype(np.float32)
    noisy = aug.add_background_noise(signals, (5.0, 15.0), noise=rng.normal(size=(3, 500, 2)), seed=1)
    achieved = _snr_db(signals.astype(np.float64), noisy.astype(np.float64))
    assert noisy.dtype == np.float32 and noisy.shape == signals.shape
    assert np.all((achieved > 4.5) & (achieved < 15.5)) and achieved.std() > 1.0
    with pytest.raises(LearnloopError, match="silent noise"):
        aug.add_background_noise(signals, 10, noise=np.zeros(300))
    with pytest.raises(LearnloopError, match=r"\(m, length, 2\) for signals of shape \(50, 200, 2\); got \(3, 9, 4\)"):
        aug.add_background_noise(signals, 10, noise=np.ones((3, 9, 4)))


def test_time_shift_moves_whole_steps_and_fills_or_wraps():
    signals = np.tile(np.arange(1.0, 11.0), (20, 1))
    shifted = aug.time_shift(signals, 0.3, seed=0)
    wrapped = aug.time_shift(signals, 0.3, seed=0, wrap=True)
    for row, w in zip(shifted, wrapped):
        assert np.sort(w).tolist() == signals[0].tolist()                  # a roll keeps every value
        kept = row[row != 0]
        assert np.all(np.diff(kept) == 1)                                   # still consecutive steps
        assert len(kept) >= 7
    assert any(not np.array_equal(r, signals[0]) for r in shifted)


def test_amplitude_scale_multiplies_each_signal_by_one_gain(rng):
    signals = rng.normal(size=(30, 100))
    out = aug.amplitude_scale(signals, (0.5, 2.0), seed=0)
    gains = out[:, 0] / signals[:, 0]
    assert_allclose(out, signals * gains[:, None])
    assert np.all((gains >= 0.5) & (gains <= 2.0))


# ---- augment() -----------------------------------------------------------------------------------------------
def test_augment_keeps_labels_and_puts_originals_first(rng):
    x = rng.random((12, 64)).astype(np.float32)
    y = np.arange(12) % 3
    xa, ya = aug.augment(x, y, n_copies=3, transforms=["rotate", ("elastic_warp", {"alpha": 0.5})], seed=0,
                         image_shape=(8, 8))
    assert xa.shape == (48, 64) and xa.dtype == np.float32
    assert_array_equal(ya, np.tile(y, 4))
    assert_array_equal(xa[:12], x)
    assert not np.array_equal(xa[12:24], xa[24:36])                         # each copy draws anew
    only, _ = aug.augment(x, y, 2, [partial(aug.add_noise, stddev=0.1)], seed=0, include_original=False)
    assert only.shape == (24, 64)
    with pytest.raises(LearnloopError, match="Unknown transform 'rotat'"):
        aug.augment(x, y, 1, ["rotat"])


def test_augmented_training_lowers_j_cv_on_small_digits():
    """100 labelled digits: elastic distortions (9 copies each) beat training on the originals alone."""
    from sklearn.datasets import load_digits

    import learnloop
    from learnloop import Input, Sequential
    from learnloop.layers import Dense
    from learnloop.losses import SparseCategoricalCrossentropy

    digits = load_digits()
    x, y = (digits.data / 16.0).astype(np.float32), digits.target

    def fit_and_measure(x_train, y_train, epochs, seed, x_cv, y_cv):
        learnloop.set_seed(seed)
        model = Sequential([Input((64,)), Dense(64, activation="relu"), Dense(10)])
        model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
        return np.mean(model.predict(x_cv).argmax(1) != y_cv), model.evaluate(x_cv, y_cv, verbose=0)

    gains = []
    for seed in (0, 1, 2):
        order = np.random.default_rng(seed).permutation(len(x))
        train, cv = order[:100], order[100:]
        err, loss = fit_and_measure(x[train], y[train], 200, seed, x[cv], y[cv])
        xa, ya = aug.augment(x[train], y[train], n_copies=9, seed=seed, image_shape=(8, 8),
                             transforms=[partial(aug.elastic_warp, alpha=0.3, sigma=1.5)])
        err_aug, loss_aug = fit_and_measure(xa, ya, 40, seed, x[cv], y[cv])
        assert err_aug < err and loss_aug < loss, (seed, err, err_aug, loss, loss_aug)
        gains.append(err - err_aug)
    assert np.mean(gains) > 0.01                                            # > 1 point of cv error
