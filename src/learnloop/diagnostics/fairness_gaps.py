"""Intervals for a fairness audit's group gaps, so a gap within noise is called that.

For each metric, the gap is read between the groups with the highest and the lowest value (the spread that
``difference()`` reports), as a signed difference with a percentile bootstrap interval (fairlearn's ``n_boot`` and
``ci_quantiles``): the samples are resampled within each group, so every group keeps its size, and each replicate
recomputes both groups' rates. Those two groups were picked by looking at every pair, so the interval is
simultaneous over the G(G-1)/2 pairs (Bonferroni). A gap whose interval reaches 0 is *within noise*: these samples
cannot tell the groups apart on that metric.

The built-in metrics are all rates (a count over a count), which a replicate recomputes from per-sample
indicators; a custom ``f(y_true, y_pred)`` gets no interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from learnloop.diagnostics import intervals as iv

FAIRNESS_N_BOOT = 2000


def _indicators(metric: str, y_true: np.ndarray, y_pred: np.ndarray, pos_label) -> tuple | None:
    """(numerator, denominator) 0/1 per sample for a built-in rate; ``None`` for other metrics."""
    t, p = y_true == pos_label, y_pred == pos_label
    ones = np.ones(len(y_true), dtype=bool)
    table = {"accuracy": (y_true == y_pred, ones), "error_rate": (y_true != y_pred, ones),
             "selection_rate": (p, ones), "tpr": (t & p, t), "fpr": (~t & p, ~t), "fnr": (t & ~p, t),
             "tnr": (~t & ~p, ~t)}
    return table.get(metric)


@dataclass(frozen=True)
class GroupGap:
    """The spread of one metric across groups, with its interval.

    Attributes:
        metric: the metric's name.
        high, low: the groups with the highest and the lowest value.
        difference: value(high) - value(low), the ``between_groups`` difference.
        interval: its simultaneous interval, or ``None`` for a metric without one.
    """

    metric: str
    high: Any
    low: Any
    difference: float
    interval: iv.Interval | None

    @property
    def within_noise(self) -> bool | None:
        """True when the interval reaches 0 (``None`` without an interval)."""
        return None if self.interval is None else self.interval.low <= 0

    def as_dict(self) -> dict:
        plain = [g.item() if isinstance(g, np.generic) else (list(g) if isinstance(g, tuple) else g)
                 for g in (self.high, self.low)]
        return {"metric": self.metric, "between": plain, "difference": self.difference,
                "interval": None if self.interval is None else self.interval.as_list(),
                "level": None if self.interval is None else self.interval.level, "within_noise": self.within_noise}


def group_gaps(report, n_boot: int = FAIRNESS_N_BOOT, level: float = iv.LEVEL, seed: int = 0) -> dict:
    """metric -> :class:`GroupGap` for a :class:`~learnloop.diagnostics.fairness.FairnessReport`."""
    groups = list(report.by_group)
    pairs = max(1, len(groups) * (len(groups) - 1) // 2)
    each = 1 - (1 - iv.check_level(level)) / pairs
    out = {}
    for metric in report.metrics:
        values = np.array([report.by_group[g][metric] for g in groups], dtype=float)
        defined = np.flatnonzero(~np.isnan(values))
        if len(defined) < 2:
            out[metric] = GroupGap(metric, None, None, math.nan, None)
            continue
        hi, lo = defined[np.argmax(values[defined])], defined[np.argmin(values[defined])]
        gap = float(values[hi] - values[lo])
        replicates = []
        for index in (hi, lo):
            mask = report._inverse == index
            parts = _indicators(metric, report._y_true[mask], report._y_pred[mask], report.pos_label)
            if parts is None:
                break
            means = iv.bootstrap_means(np.stack(parts, axis=1).astype(np.float64), n_boot, seed, stream=int(index))
            with np.errstate(divide="ignore", invalid="ignore"):
                replicates.append(means[:, 0] / means[:, 1])
        interval = None
        if len(replicates) == 2:
            diff = replicates[0] - replicates[1]
            diff = diff[np.isfinite(diff)]
            if diff.size:
                interval = iv.percentile(diff, gap, "bootstrap within groups", each, int(np.sum(
                    np.isin(report._inverse, [hi, lo]))))
        out[metric] = GroupGap(metric, groups[hi], groups[lo], gap, interval)
    return out
