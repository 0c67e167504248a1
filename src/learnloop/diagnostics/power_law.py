"""Would more data help, and how much: an inverse power law fitted to a learning curve's J_cv(m), extrapolated
with intervals.

    J_cv(m) ~ a + b * m^(-c),   a >= 0 (what more data cannot remove), b >= 0, 0.1 <= c <= 2

Learning curves of most models follow this law over the range where they are measured (Cortes et al. 1994;
Hestness et al. 2017). The fit: for each exponent c on a grid, (a, b) by least squares under their constraints,
keeping the c with the smallest squared error. With two sizes the exponent is not identifiable and is taken as
0.5, a typical value.

Intervals come from refitting the law (not the networks: nothing is retrained) to replicates of the curve:

- the cv examples are resampled, the same resample for every size, so the points keep their pairing;
- a wild bootstrap of the law's residuals (random signs, scaled by sqrt(k / (k - 3))) adds the training noise
  that moves points off the law, which resampling the cv examples does not see.

More data *helps* when the law's drop over the last doubling of the measured curve, J(m/2) - J(m), has its 95%
interval above 1% of J_cv (the old "still falling" rule, with the noise accounted for; read inside the measured
range, where the law is not extrapolated); it is *unlikely to help* when the curve is flat within noise and even
the top of the interval of the gain from doubling the data again, J(m) - J(2m), is under a tenth of J_cv;
otherwise the curve cannot tell (a larger cv set, or more sizes, would). The 2x and 10x extrapolations say how
much more data would give.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from learnloop.diagnostics import intervals as iv

EXPONENTS = np.geomspace(0.1, 2.0, 48)
TWO_POINT_EXPONENT = 0.5
FALLING_RTOL = 0.01     # more data "helps": doubling m lowers J_cv by more than 1% of it, beyond noise
FLAT_RTOL = 0.1         # "unlikely to help": even the optimistic gain of doubling m is under a tenth of J_cv
FACTORS = (2, 10)


def _fit(sizes: np.ndarray, y: np.ndarray, exponents: np.ndarray = EXPONENTS) -> np.ndarray:
    """(a, b, c) per row of ``y`` (n, k): least squares over ``exponents``, a >= 0, b >= 0."""
    y = np.atleast_2d(y)
    x = sizes[None, :] ** -exponents[:, None]                         # (g, k)
    xm = x.mean(axis=1, keepdims=True)
    xc = x - xm                                                        # (g, k)
    ym = y.mean(axis=1)                                                # (n,)
    b = (xc @ (y - ym[:, None]).T) / np.maximum((xc * xc).sum(axis=1), 1e-300)[:, None]   # (g, n)
    a = ym[None, :] - b * xm
    flat = b < 0                                                       # a rising curve: the flat law fits best
    a, b = np.where(flat, ym[None, :], a), np.where(flat, 0.0, b)
    through_zero = a < 0                                               # no floor in sight: a = 0, b >= 0
    b0 = np.maximum((x @ y.T) / np.maximum((x * x).sum(axis=1), 1e-300)[:, None], 0.0)
    a, b = np.where(through_zero, 0.0, a), np.where(through_zero, b0, b)
    residual = y[None, :, :] - (a[:, :, None] + b[:, :, None] * x[:, None, :])   # (g, n, k)
    best = np.argmin((residual ** 2).sum(axis=2), axis=0)             # (n,)
    cols = np.arange(y.shape[0])
    return np.stack([a[best, cols], b[best, cols], exponents[best]], axis=1)


def _predict(params: np.ndarray, m) -> np.ndarray:
    params = np.atleast_2d(params)
    return params[:, 0] + params[:, 1] * float(m) ** -params[:, 2]


@dataclass(frozen=True, eq=False)
class PowerLaw:
    """The law fitted to J_cv(m), and its bootstrap replicates.

    Attributes:
        a, b, c: the fitted law ``a + b m^-c``.
        sizes: (k,) training-set sizes of the curve.
        j_cv: (k,) the curve's J_cv.
        replicates: (n_boot, 3) (a, b, c) fitted to each replicate of the curve.
        level: coverage of the intervals.
    """

    a: float
    b: float
    c: float
    sizes: np.ndarray
    j_cv: np.ndarray
    replicates: np.ndarray
    level: float = iv.LEVEL

    def predict(self, m) -> float:
        """J_cv the law expects with ``m`` training examples."""
        return float(_predict(np.array([self.a, self.b, self.c]), m)[0])

    def _interval(self, values: np.ndarray, estimate: float, method: str) -> iv.Interval:
        return iv.percentile(values, estimate, method, self.level, int(self.sizes[-1]))

    def at(self, m) -> iv.Interval:
        """J_cv expected with ``m`` training examples, with its interval."""
        return self._interval(_predict(self.replicates, m), self.predict(m), "power law, bootstrap")

    def gain(self, factor: float) -> iv.Interval:
        """J_cv(m) - J_cv(factor x m) on the law at the curve's largest m: what that much more data would save."""
        m = float(self.sizes[-1])
        values = _predict(self.replicates, m) - _predict(self.replicates, factor * m)
        return self._interval(values, self.predict(m) - self.predict(factor * m), "power law, bootstrap")

    def recent_drop(self) -> iv.Interval:
        """J_cv(m/2) - J_cv(m) on the law at the curve's largest m: how much the last doubling of the data saved,
        read inside the measured range (no extrapolation)."""
        m = float(self.sizes[-1])
        values = _predict(self.replicates, m / 2) - _predict(self.replicates, m)
        return self._interval(values, self.predict(m / 2) - self.predict(m), "power law, bootstrap")

    @cached_property
    def more_data(self) -> str:
        """``"helps"`` when the last doubling of the data lowered J_cv by more than 1% of it, beyond noise (the
        drop's whole interval above that); else ``"unlikely to help"`` when even the top of the interval of the gain
        from doubling the data again is under a tenth of J_cv; else ``"can't tell"``."""
        level = max(float(self.j_cv[-1]), 1e-12)
        if self.recent_drop().low > FALLING_RTOL * level:
            return "helps"
        return "unlikely to help" if self.gain(2).high <= FLAT_RTOL * level else "can't tell"

    def as_dict(self) -> dict:
        m = int(self.sizes[-1])
        out = {"law": "J_cv(m) = a + b * m^(-c)", "a": self.a, "b": self.b, "c": self.c, "level": self.level,
               "more_data": self.more_data, "extrapolation": {}}
        for factor in FACTORS:
            at, gain = self.at(factor * m), self.gain(factor)
            out["extrapolation"][f"{factor}x"] = {"m": factor * m, "j_cv": at.estimate, "interval": at.as_list(),
                                                  "gain": gain.estimate, "gain_interval": gain.as_list()}
        return out


def fit_power_law(sizes, cv_losses, level: float = iv.LEVEL, n_boot: int = iv.N_BOOT, seed: int = 0) -> PowerLaw:
    """Fit the law to a learning curve measured on one cv set, with bootstrap replicates for its intervals.

    Args:
        sizes: (k,) training-set sizes, k >= 2.
        cv_losses: (k, m_cv) per-example cv losses of the model fitted at each size.
        level, n_boot, seed: the intervals' coverage, replicates and draws.

    Returns:
        :class:`PowerLaw`.
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    losses = np.asarray(cv_losses, dtype=np.float64)
    j_cv = losses.mean(axis=1)
    exponents = EXPONENTS if len(sizes) > 2 else np.array([TWO_POINT_EXPONENT])
    a, b, c = _fit(sizes, j_cv, exponents)[0]
    residual = j_cv - (a + b * sizes ** -c)
    residual *= np.sqrt(len(sizes) / max(len(sizes) - 3, 1))
    curves = iv.bootstrap_means(losses.T, n_boot, seed)                          # (n_boot, k), paired over m
    signs = np.random.default_rng([seed, 7]).choice([-1.0, 1.0], size=curves.shape)
    replicates = _fit(sizes, curves + signs * residual, exponents)
    return PowerLaw(float(a), float(b), float(c), sizes, j_cv, replicates, level)
