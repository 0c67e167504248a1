"""Intervals: golden values from the papers that define them, coverage by simulation, and the bootstrap's pairing."""

from __future__ import annotations

import numpy as np
import pytest

from learnloop.diagnostics import intervals as iv
from learnloop.errors import LearnloopError


def test_wilson_matches_newcombe_1998_and_the_zero_errors_bound():
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", 81/263 by the score method
    ci = iv.wilson(81, 263)
    assert (round(ci.low, 4), round(ci.high, 4)) == (0.2553, 0.3662)
    # 0 of n: the upper bound is z^2 / (n + z^2), not 0
    zero = iv.wilson(0, 10)
    assert zero.low == 0 and zero.high == pytest.approx(1.959964 ** 2 / (10 + 1.959964 ** 2), rel=1e-6)
    assert str(iv.wilson(7, 359)) == "0.0195 [0.009477, 0.03969]"
    with pytest.raises(LearnloopError, match="0 <= errors <= n"):
        iv.wilson(11, 10)


def test_newcombe_difference_matches_the_paper():
    # Newcombe (1998), "Interval estimation for the difference between independent proportions", method 10
    ci = iv.newcombe(56, 70, 48, 80)
    assert ci.estimate == pytest.approx(0.2)
    assert (round(ci.low, 4), round(ci.high, 4)) == (0.0524, 0.3339)


def test_bonett_price_by_hand():
    # 100 examples, 15 wrong only for a, 5 only for b: (16/102 - 6/102) +- z sqrt((22/102 - (10/102)^2) / 102)
    a = np.r_[np.ones(15), np.zeros(5), np.ones(30), np.zeros(50)]
    b = np.r_[np.zeros(15), np.ones(5), np.ones(30), np.zeros(50)]
    ci = iv.bonett_price(a, b)
    half = 1.959964 * np.sqrt((22 / 102 - (10 / 102) ** 2) / 102)
    assert ci.estimate == pytest.approx(0.1)
    assert (ci.low, ci.high) == pytest.approx((10 / 102 - half, 10 / 102 + half), rel=1e-5)
    assert iv.paired_difference(a, b).method == "bonett-price"
    with pytest.raises(LearnloopError, match="same examples"):
        iv.bonett_price(a, b[:50])


def test_wilson_covers_95_percent_near_zero_errors(rng):
    n, p = 60, 0.03
    errors = rng.binomial(n, p, size=4000)
    bounds = np.array([iv._wilson_bounds(e, n, 1.959964) for e in errors])
    coverage = np.mean((bounds[:, 0] <= p) & (p <= bounds[:, 1]))
    assert coverage >= 0.93


def test_bootstrap_covers_the_mean_of_skewed_costs(rng):
    hits = 0
    for seed in range(100):
        losses = np.random.default_rng(seed).exponential(2.0, size=200) ** 2 / 2    # squared errors / 2: skewed
        ci = iv.bootstrap(losses, n_boot=400, seed=seed)
        hits += ci.low <= 4.0 <= ci.high                                             # E[x^2] / 2 = 2 scale^2 / 2
    assert 0.87 <= hits / 100 <= 0.99


def test_bootstrap_means_pairs_columns_and_separates_streams(rng):
    a = rng.normal(size=500)
    b = a + 0.01 * rng.normal(size=500)                  # nearly the same losses: the paired difference is tight
    reps = iv.bootstrap_means(np.stack([a, b], axis=1), n_boot=400)
    assert reps.shape == (400, 2)
    assert np.std(reps[:, 0] - reps[:, 1]) < 0.05 * np.std(reps[:, 0])
    independent = iv.bootstrap_means(a, 400, stream=1) - iv.bootstrap_means(b, 400, stream=2)
    assert np.std(independent) > 1.2 * np.std(reps[:, 0])
    np.testing.assert_array_equal(iv.bootstrap_means(a, 50, seed=3), iv.bootstrap_means(a, 50, seed=3))


def test_binary_bootstrap_by_patterns_has_the_binomial_spread(rng):
    losses = (rng.random(2000) < 0.1).astype(float)
    reps = iv.bootstrap_means(losses, n_boot=2000)
    p = losses.mean()
    assert np.std(reps) == pytest.approx(np.sqrt(p * (1 - p) / 2000), rel=0.1)


def test_dispatch_by_kind_of_loss(rng):
    errors = (rng.random(300) < 0.2).astype(float)
    costs = rng.exponential(size=300)
    assert iv.mean_interval(errors).method == "wilson"
    assert iv.mean_interval(costs).method == "bootstrap"
    assert iv.unpaired_difference(errors, errors[:100]).method == "newcombe"
    assert iv.unpaired_difference(costs, costs[:100]).method == "independent bootstraps"
    assert iv.paired_difference(costs, costs * 0.9).method == "paired bootstrap"
    assert iv.given(0.1).as_list() == [0.1, 0.1]
    with pytest.raises(LearnloopError, match="one loss per example"):
        iv.mean_interval(np.ones((3, 2)))
    with pytest.raises(LearnloopError, match="finite"):
        iv.mean_interval([0.1, np.nan])


def test_resamples_are_reused_and_streamed_past_the_cache(rng, monkeypatch):
    losses = rng.exponential(size=3000)
    first = iv.bootstrap_means(losses, n_boot=300, seed=5)
    np.testing.assert_allclose(iv.bootstrap_means(2 * losses, n_boot=300, seed=5), 2 * first)   # same resamples
    monkeypatch.setattr(iv, "_CACHE_BYTES", 1000)
    monkeypatch.setattr(iv, "_CHUNK_VALUES", 50_000)
    streamed = iv.bootstrap_means(losses, n_boot=300, seed=6)
    assert np.std(streamed) == pytest.approx(losses.std() / np.sqrt(3000), rel=0.15)
    intervals = iv.mean_intervals(np.stack([losses, losses + 1.0]))
    assert intervals[1].low == pytest.approx(intervals[0].low + 1.0)        # one bootstrap for both rows
