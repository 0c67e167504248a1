"""How much a sweep's setting matters: differences in J_cv with intervals, and the one-standard-error rule.

Every value of a sweep is scored on the same cv examples, so the values are compared pairwise over those examples:

- the value with the lowest J_cv is the *best*; each other value's difference from it, J_cv(value) - J_cv(best),
  gets a paired interval (Bonett-Price for error rates; otherwise the mean of the per-example differences
  +- z x their standard error). The best was picked by looking at all k values, so the intervals are
  simultaneous: each at level 1 - 0.05 / (k(k-1)/2), Bonferroni over every pair the pick could have compared.
- the setting has a *measurable effect* when at least one value's difference lies wholly above zero and exceeds
  one standard error of the best J_cv (sd of its per-example losses / sqrt(m_cv)): a difference the cv set can
  see and that is larger than the noise of J_cv itself. Otherwise the sweep says "no measurable effect" and
  recommends nothing about the setting.
- the *chosen* value follows the one-standard-error rule (Breiman et al. 1984; Hastie, Tibshirani and Friedman,
  section 7.10): the simplest value whose J_cv is within one standard error of the best. Simpler means a larger
  lambda, a smaller network or degree, or the earlier entry of a list ordered simplest first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from learnloop.diagnostics import intervals as iv
from learnloop.errors import LearnloopError

SIMPLER = ("low", "high", "first")


@dataclass(frozen=True, eq=False)
class SweepEffect:
    """What a sweep's J_cv differences say.

    Attributes:
        best_index: the value with the lowest J_cv (the first on ties).
        chosen_index: the one-standard-error choice.
        standard_error: standard error of the best J_cv.
        differences: (k,) J_cv(value) - J_cv(best); 0 at the best.
        intervals: (k,) simultaneous intervals of ``differences`` (the best's is [0, 0]).
        level: the per-comparison level of those intervals.
        measurable: whether some value differs from the best beyond noise (see the module docstring).
        simpler: how values were ordered from simplest: ``"low"``, ``"high"`` or ``"first"``.
    """

    best_index: int
    chosen_index: int
    standard_error: float
    differences: np.ndarray
    intervals: tuple[iv.Interval, ...]
    level: float
    measurable: bool
    simpler: str

    @property
    def worse(self) -> list[int]:
        """Indices of the values measurably worse than the best."""
        return [i for i, (d, ci) in enumerate(zip(self.differences, self.intervals))
                if ci.low > 0 and d > self.standard_error]

    def as_dict(self) -> dict:
        return {"best_index": self.best_index, "chosen_index": self.chosen_index, "rule": "one standard error",
                "standard_error": self.standard_error, "differences": self.differences.tolist(),
                "difference_intervals": [ci.as_list() for ci in self.intervals], "level": self.level,
                "measurable_effect": self.measurable, "measurably_worse": self.worse, "simpler": self.simpler}


def simplicity_order(values: np.ndarray, simpler: str) -> np.ndarray:
    """Indices of ``values`` from the simplest model to the most complex."""
    if simpler not in SIMPLER:
        raise LearnloopError(f"simpler must be one of {list(SIMPLER)} or 'auto'; got {simpler!r}.")
    if simpler == "first":
        return np.arange(len(values))
    numeric = values.astype(float)
    return np.argsort(-numeric if simpler == "high" else numeric, kind="stable")


def sweep_effect(cv_losses, values, simpler: str = "first", level: float = iv.LEVEL) -> SweepEffect:
    """Compare a sweep's values on their per-example cv losses.

    Args:
        cv_losses: (k, m_cv) losses of the k fitted models on the same cv examples.
        values: (k,) the values swept (read only through ``simpler``).
        simpler: ``"low"`` (smaller values are simpler), ``"high"`` (larger are: lambda) or ``"first"``
            (the order given, simplest first).
        level: family-wise level of the comparisons.

    Returns:
        :class:`SweepEffect`.
    """
    losses = np.asarray(cv_losses, dtype=np.float64)
    if losses.ndim != 2 or len(losses) != len(values):
        raise LearnloopError(f"sweep_effect expects (k, m_cv) losses for the k = {len(values)} values; got shape "
                             f"{losses.shape}.")
    j_cv = losses.mean(axis=1)
    k = len(j_cv)
    best = int(np.argmin(j_cv))
    se = iv.standard_error(losses[best])
    pairs = max(1, k * (k - 1) // 2)
    each = 1 - (1 - iv.check_level(level)) / pairs
    intervals = tuple(iv.Interval(0.0, 0.0, 0.0, "best", each, losses.shape[1]) if i == best
                      else iv.paired_z(losses[i], losses[best], each) for i in range(k))
    differences = j_cv - j_cv[best]
    measurable = any(ci.low > 0 and d > se for d, ci in zip(differences, intervals))
    order = simplicity_order(np.asarray(values), simpler)
    chosen = next(int(i) for i in order if j_cv[i] <= j_cv[best] + se)
    return SweepEffect(best, chosen, se, differences, intervals, each, measurable, simpler)
