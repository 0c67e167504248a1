"""Font-rendered digits: shapes, ranges, balance, reproducibility, optdigits-like values, and learnability."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from learnloop.data.synthetic import bundled_font_paths, synthetic_digits
from learnloop.errors import LearnloopError


@pytest.mark.parametrize("size", [8, 20, 28])
def test_shapes_range_and_balanced_labels(size):
    images, labels = synthetic_digits(60, size=size, seed=0)
    assert images.shape == (60, size, size) and images.dtype == np.float32
    assert labels.shape == (60,) and labels.dtype == np.int64
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert np.bincount(labels, minlength=10).tolist() == [6] * 10


def test_same_seed_same_images_other_seed_other_images():
    a, la = synthetic_digits(30, seed=5)
    b, lb = synthetic_digits(30, seed=5)
    c, _ = synthetic_digits(30, seed=6)
    assert_array_equal(a, b) and assert_array_equal(la, lb)
    assert not np.array_equal(a, c)


def test_size_8_is_block_counts_like_scikit_learn_digits():
    from sklearn.datasets import load_digits

    images, _ = synthetic_digits(1000, size=8, seed=0)
    counts = images * 16
    assert_array_equal(counts, np.round(counts))                    # 4x4 blocks of a binary 32x32 bitmap
    real = load_digits().images
    assert abs(counts.mean() - real.mean()) < 1.5                  # ink per image: 4.9 of 16 in the real data
    assert abs((counts > 0).mean() - (real > 0).mean()) < 0.1
    # The ink sits where it sits in the real digits: the mean images correlate strongly.
    assert np.corrcoef(counts.mean(0).ravel(), real.mean(0).ravel())[0, 1] > 0.8


def test_several_fonts_and_clean_renders_differ_only_by_font():
    assert len(bundled_font_paths()) >= 10
    clean, labels = synthetic_digits(200, size=20, seed=0, distortion=0.0, noise=0.0)
    ones = clean[labels == 1]
    assert len({im.tobytes() for im in ones}) > 3                   # different fonts draw different 1s


def test_digits_are_learnable_and_transfer_to_real_digits():
    """A classifier trained only on synthetic digits recognises many real scikit-learn digits (chance: 10%)."""
    from sklearn.datasets import load_digits
    from sklearn.neighbors import KNeighborsClassifier

    x, y = synthetic_digits(2000, size=8, seed=0)
    clf = KNeighborsClassifier(5).fit(x.reshape(len(x), -1), y)
    real = load_digits()
    assert clf.score(real.data / 16.0, real.target) > 0.5


def test_bad_arguments_are_reported():
    with pytest.raises(LearnloopError, match=r"size must be one of \[8, 20, 28\]; got 16"):
        synthetic_digits(10, size=16)
    with pytest.raises(LearnloopError, match="non-negative int"):
        synthetic_digits(-1)
