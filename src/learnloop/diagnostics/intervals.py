"""95% intervals for the loop's costs and for the differences its verdicts read, from predictions already made.

Which interval, and why::

    | quantity | error rate (0/1 per example) | any other cost (squared error / 2 per example...) |
    |---|---|---|
    | one cost: J_train, J_cv, J_test, a baseline | Wilson score | percentile bootstrap over examples |
    | a difference on the same examples (paired) | Bonett-Price adjusted Wald | paired percentile bootstrap |
    | a difference on different examples | Newcombe's hybrid score (method 10) | independent percentile bootstraps |

- Wilson keeps its 95% coverage near 0 errors, where the textbook ``p +- 1.96 sqrt(p(1-p)/n)`` collapses to a
  zero-width interval (a network with J_train = 0 on 1078 examples has a Wilson interval [0, 0.0036], not [0, 0]).
- A mean of squared errors is skewed by a few large errors; the percentile bootstrap follows that skew where a
  normal interval would not. Replicates resample the examples (never the models: nothing is refitted), and two
  costs scored on the same examples are resampled with the same draws, so their difference is paired.
- Bonett-Price (2012) adds one pseudo-observation to each discordant cell, which keeps the paired interval honest
  when the two models disagree on only a few examples; Newcombe (1998) combines the two Wilson intervals of
  independent samples.

Every interval is an :class:`Interval` with its estimate, bounds, method and level.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from learnloop.errors import LearnloopError

LEVEL = 0.95
N_BOOT = 1000
_CHUNK_VALUES = 4_000_000          # resampled indices drawn at once: bounds the bootstrap's memory (~32 MB)
_CACHE_BYTES = 64_000_000          # resample counts kept for reuse: the loop scores a handful of sets many times
_counts_cache: OrderedDict = OrderedDict()


@dataclass(frozen=True)
class Interval:
    """An estimate with its interval.

    Attributes:
        estimate: the measured value.
        low, high: the interval's bounds.
        method: how the interval was computed (``"wilson"``, ``"bootstrap"``, ``"newcombe"``, ...; ``"given"``
            for a number taken as exact, such as a human-level error stated by the user).
        level: coverage, 0.95 by default.
        n: examples behind the estimate, when one number says it.
    """

    estimate: float
    low: float
    high: float
    method: str
    level: float = LEVEL
    n: int | None = None

    def as_list(self) -> list[float]:
        return [self.low, self.high]

    def as_dict(self) -> dict:
        return {"estimate": self.estimate, "interval": self.as_list(), "method": self.method, "level": self.level,
                "n": self.n}

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def __contains__(self, value) -> bool:
        return self.low <= float(value) <= self.high

    def shifted(self, by: float, method: str | None = None) -> Interval:
        """The interval of ``estimate + by`` for a constant ``by`` (a given baseline subtracted, say)."""
        return Interval(self.estimate + by, self.low + by, self.high + by, method or self.method, self.level, self.n)

    def __str__(self) -> str:
        return f"{self.estimate:.4g} [{self.low:.4g}, {self.high:.4g}]"


def given(value: float) -> Interval:
    """A number taken as exact: its interval is the point itself."""
    value = float(value)
    return Interval(value, value, value, "given")


def check_level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise LearnloopError(f"interval level must lie strictly between 0 and 1; got {level!r}.")
    return level


@lru_cache(maxsize=64)
def z_value(level: float = LEVEL) -> float:
    """The two-sided normal quantile of ``level`` (1.96 for 0.95)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + check_level(level) / 2)


def as_losses(losses, where: str = "losses") -> np.ndarray:
    """(m,) float64 per-example losses; refuses empty or non-finite input."""
    a = np.asarray(losses, dtype=np.float64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise LearnloopError(f"{where} expects one loss per example, shape (m,); got shape {a.shape}.")
    if a.size == 0:
        raise LearnloopError(f"{where} expects at least one per-example loss; got none.")
    if not np.all(np.isfinite(a)):
        raise LearnloopError(f"{where} expects finite per-example losses; got {int(np.sum(~np.isfinite(a)))} "
                             f"non-finite of {a.size}.")
    return a


def is_binary(losses: np.ndarray) -> bool:
    """True when every loss is 0 or 1: an error indicator, so the mean is an error rate."""
    return bool(np.all((losses == 0) | (losses == 1)))


def standard_error(losses) -> float:
    """sd / sqrt(m) of the per-example losses: the standard error of their mean (0 for a single example)."""
    a = as_losses(losses)
    return float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else 0.0


# ---- error rates ---------------------------------------------------------------------------------------------
def _wilson_bounds(errors: float, n: int, z: float) -> tuple[float, float]:
    p = errors / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if errors == 0 else max(0.0, center - half)       # exact at the ends, not off by a rounding error
    return low, 1.0 if errors == n else min(1.0, center + half)


def wilson(errors: int, n: int, level: float = LEVEL) -> Interval:
    """Wilson score interval of an error rate: ``errors`` wrong out of ``n``.

    Args:
        errors: examples misclassified, 0 <= errors <= n.
        n: examples scored, >= 1.
        level: coverage.

    Returns:
        :class:`Interval` of ``errors / n``.
    """
    if n < 1 or not 0 <= errors <= n:
        raise LearnloopError(f"wilson expects 0 <= errors <= n and n >= 1; got errors={errors!r}, n={n!r}.")
    low, high = _wilson_bounds(errors, n, z_value(level))
    return Interval(errors / n, low, high, "wilson", level, int(n))


def newcombe(errors_a: int, n_a: int, errors_b: int, n_b: int, level: float = LEVEL) -> Interval:
    """Newcombe's hybrid score interval of ``errors_a / n_a - errors_b / n_b`` for two independent samples."""
    z = z_value(level)
    pa, pb = errors_a / n_a, errors_b / n_b
    la, ua = _wilson_bounds(errors_a, n_a, z)
    lb, ub = _wilson_bounds(errors_b, n_b, z)
    d = pa - pb
    return Interval(d, d - math.hypot(pa - la, ub - pb), d + math.hypot(ua - pa, pb - lb), "newcombe", level,
                    int(n_a + n_b))


def bonett_price(a, b, level: float = LEVEL) -> Interval:
    """Bonett-Price interval of ``mean(a) - mean(b)`` for 0/1 errors of two models on the same examples."""
    a, b = as_losses(a, "bonett_price"), as_losses(b, "bonett_price")
    if a.shape != b.shape:
        raise LearnloopError(f"a paired interval needs both models scored on the same examples; got {a.size} and "
                             f"{b.size} losses.")
    n = a.size
    only_a = float(np.count_nonzero((a == 1) & (b == 0)))
    only_b = float(np.count_nonzero((a == 0) & (b == 1)))
    p12, p21 = (only_a + 1) / (n + 2), (only_b + 1) / (n + 2)
    se = math.sqrt(max(p12 + p21 - (p12 - p21) ** 2, 0.0) / (n + 2))
    z = z_value(level)
    center = p12 - p21
    return Interval((only_a - only_b) / n, max(-1.0, center - z * se), min(1.0, center + z * se), "bonett-price",
                    level, n)


# ---- bootstrap -----------------------------------------------------------------------------------------------
def _draw_counts(rng, m: int, b: int) -> np.ndarray:
    """(b, m) uint8: how often each of m examples appears in each of b resamples."""
    draws = rng.integers(0, m, size=(b, m))
    draws += np.arange(b)[:, None] * m
    block = np.bincount(draws.ravel(), minlength=b * m)
    assert block.max() < 256                         # 256 copies of one example in a resample of m: never
    return block.reshape(b, m).astype(np.uint8)


def _resample_counts(m: int, n_boot: int, seed: int, stream: int):
    """Yields (start, counts) blocks of the (n_boot, m) resample counts.

    The same (m, n_boot, seed, stream) always gives the same resamples, and the last few fitting in 64 MB are kept,
    so the costs scored on one set of examples (J_cv of each value of a sweep, of each size of a learning curve, of
    the chosen model) reuse one draw: drawing n_boot x m indices is what a bootstrap over many examples spends its
    time on."""
    key = (m, n_boot, seed, stream)
    if key in _counts_cache:
        _counts_cache.move_to_end(key)
        yield 0, _counts_cache[key]
        return
    rng = np.random.default_rng([int(seed), int(stream), m])
    rows = max(1, min(n_boot, _CHUNK_VALUES // m))
    if n_boot * m > _CACHE_BYTES:                    # too many to keep: stream them
        for start in range(0, n_boot, rows):
            yield start, _draw_counts(rng, m, min(rows, n_boot - start))
        return
    counts = np.concatenate([_draw_counts(rng, m, min(rows, n_boot - start)) for start in range(0, n_boot, rows)])
    _counts_cache[key] = counts
    while sum(c.nbytes for c in _counts_cache.values()) > _CACHE_BYTES:
        _counts_cache.popitem(last=False)
    yield 0, counts


def bootstrap_means(losses, n_boot: int = N_BOOT, seed: int = 0, stream: int = 0) -> np.ndarray:
    """Means of ``n_boot`` resamples (with replacement) of the rows of ``losses``.

    All columns of a (m, k) matrix share each resample, so differences between columns are paired bootstraps.
    The resamples depend only on (m, n_boot, seed, stream): calls on losses of the same m examples pair up too,
    and samples that must be resampled independently take different ``stream`` values. When few distinct rows
    exist (0/1 errors: at most 2^k patterns), a resample is drawn as multinomial counts of the patterns, which is
    the same distribution at a fraction of the cost.

    Args:
        losses: (m,) or (m, k) per-example losses.
        n_boot: number of resamples.
        seed, stream: where the draws come from.

    Returns:
        (n_boot,) or (n_boot, k) means.
    """
    values = np.asarray(losses, dtype=np.float64)
    flat = values.ndim == 1
    matrix = values.reshape(len(values), -1)
    m = len(matrix)
    if m == 0:
        raise LearnloopError("bootstrap_means expects at least one example; got none.")
    binary = bool(np.all((matrix == 0) | (matrix == 1)))
    patterns, counts = np.unique(matrix, axis=0, return_counts=True) if binary else (matrix, None)
    if binary and len(patterns) <= max(1, m // 8):
        rng = np.random.default_rng([int(seed), int(stream), m, 1])
        out = rng.multinomial(m, counts / m, size=n_boot) @ patterns
    else:
        out = np.empty((n_boot, matrix.shape[1]))
        rows = max(1, min(n_boot, _CHUNK_VALUES // m))
        for offset, block in _resample_counts(m, n_boot, seed, stream):
            for start in range(0, len(block), rows):
                out[offset + start:offset + start + rows] = block[start:start + rows].astype(np.float64) @ matrix
    out /= m
    return out[:, 0] if flat else out


def percentile(replicates: np.ndarray, estimate: float, method: str, level: float = LEVEL,
               n: int | None = None) -> Interval:
    """The percentile interval of bootstrap ``replicates``."""
    alpha = 1 - check_level(level)
    low, high = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    return Interval(float(estimate), float(min(low, estimate)), float(max(high, estimate)), method, level, n)


def bootstrap(losses, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = 0, stream: int = 0) -> Interval:
    """Percentile bootstrap interval of the mean of per-example ``losses``."""
    a = as_losses(losses, "bootstrap")
    return percentile(bootstrap_means(a, n_boot, seed, stream), a.mean(), "bootstrap", level, a.size)


# ---- the dispatchers the diagnostics use ---------------------------------------------------------------------
def mean_interval(losses, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = 0) -> Interval:
    """Interval of a cost from its per-example losses: Wilson for 0/1 errors, else the bootstrap."""
    a = as_losses(losses, "mean_interval")
    if is_binary(a):
        return wilson(int(a.sum()), a.size, level)
    return bootstrap(a, level, n_boot, seed)


def mean_intervals(losses, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = 0) -> list[Interval]:
    """:func:`mean_interval` of each row of a (k, m) matrix of losses on the same m examples (a sweep's cv
    losses), with one bootstrap for all the rows."""
    matrix = np.asarray(losses, dtype=np.float64)
    if all(is_binary(row) for row in matrix):
        return [wilson(int(row.sum()), row.size, level) for row in matrix]
    replicates = bootstrap_means(matrix.T, n_boot, seed)
    return [percentile(replicates[:, j], row.mean(), "bootstrap", level, row.size) for j, row in enumerate(matrix)]


def paired_difference(a, b, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = 0) -> Interval:
    """Interval of ``mean(a) - mean(b)`` for two sets of losses on the same examples (same order)."""
    a, b = as_losses(a, "paired_difference"), as_losses(b, "paired_difference")
    if a.shape != b.shape:
        raise LearnloopError(f"a paired difference needs losses on the same examples; got {a.size} and {b.size}.")
    if is_binary(a) and is_binary(b):
        return bonett_price(a, b, level)
    d = a - b
    return percentile(bootstrap_means(d, n_boot, seed), d.mean(), "paired bootstrap", level, d.size)


def unpaired_difference(a, b, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = 0) -> Interval:
    """Interval of ``mean(a) - mean(b)`` for losses on different (independent) examples."""
    a, b = as_losses(a, "unpaired_difference"), as_losses(b, "unpaired_difference")
    if is_binary(a) and is_binary(b):
        return newcombe(int(a.sum()), a.size, int(b.sum()), b.size, level)
    # sets of different sizes draw different resamples anyway; equal sizes need a second stream to be independent
    replicates = bootstrap_means(a, n_boot, seed) - bootstrap_means(b, n_boot, seed, stream=int(a.size == b.size))
    return percentile(replicates, a.mean() - b.mean(), "independent bootstraps", level, a.size + b.size)


def paired_z(a, b, level: float = LEVEL) -> Interval:
    """``mean(a) - mean(b)`` +- z x the standard error of the per-example differences (same examples).

    Used at the Bonferroni-adjusted levels of a sweep's comparisons, where a percentile bootstrap would need tens
    of thousands of resamples to place its far quantiles; 0/1 errors use :func:`bonett_price` instead.
    """
    a, b = as_losses(a, "paired_z"), as_losses(b, "paired_z")
    if is_binary(a) and is_binary(b):
        return bonett_price(a, b, level)
    d = a - b
    half = z_value(level) * standard_error(d)
    return Interval(float(d.mean()), float(d.mean() - half), float(d.mean() + half), "paired normal", level, d.size)
