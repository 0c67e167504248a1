"""Bias and variance: the baseline level of error, J_train and J_cv, read with how precisely each is known.

The notes' reading: a large gap between the baseline and J_train is high bias (the model does not even fit the
training set as well as can be hoped); a large gap between J_train and J_cv is high variance (it fits the training
set much better than new data). Both can happen at once.

How a gap counts as large:

- From three numbers (the course's worked examples) there is no sample size, so the course's thresholds decide:
  a gap is large when it exceeds ``tolerance`` times the error level it is read against.
- From per-example losses (or error counts and sizes), each gap carries a 95% interval
  (:mod:`learnloop.diagnostics.intervals`: the bias gap J_train - baseline is paired when the baseline's losses
  are held-out predictions on the same training examples; the variance gap J_cv - J_train compares different
  examples). A gap is *large* when its whole interval lies above the threshold, *small* when its whole interval
  lies at or below it, and *unclear* when the interval straddles it. The verdict is "high bias", "high variance"
  or "high bias and high variance" when a gap is large, "good fit" when both are small, and "can't tell"
  otherwise, with the number of cv examples that would separate the variance gap from its threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from learnloop._html import render as render_html
from learnloop.diagnostics import intervals as iv
from learnloop.diagnostics.baseline import baseline_losses
from learnloop.diagnostics.measures import j_measures
from learnloop.errors import LearnloopError

DEFAULT_TOLERANCE = 0.1
VERDICTS = ("good fit", "high bias", "high variance", "high bias and high variance", "can't tell")
CALLS = ("small", "large", "unclear")
BASELINE_SOURCES = {
    "given": "a given error level",
    "human-level": "human-level error, given",
    "competing algorithm": "a competing algorithm's error, given",
    "simple model": "a simple model's held-out error",
}


def _finite(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise LearnloopError(f"BiasVariance expects {name} as a number; got {value!r}.") from None
    if not np.isfinite(value):
        raise LearnloopError(f"BiasVariance expects a finite {name}; got {value!r}.")
    return value


def _size(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise LearnloopError(f"BiasVariance expects {name} as a positive int (examples scored); got {value!r}.")
    return int(value)


def _errors_from(rate: float, n: int, name: str) -> np.ndarray:
    """0/1 losses with round(rate x n) ones: an error rate and its size say everything Wilson needs."""
    if not 0 <= rate <= 1:
        raise LearnloopError(f"BiasVariance reads {name} with its number of examples as an error rate in [0, 1]; "
                             f"got {rate!r}. For other costs pass the per-example losses (BiasVariance.from_losses).")
    out = np.zeros(n)
    out[:int(round(rate * n))] = 1.0
    return out


@dataclass(frozen=True)
class BiasVariance:
    """A diagnosis: which of bias and variance is the problem, and how sure that is.

    A gap counts as large when it exceeds ``tolerance`` times the error level it is read against: the variance gap
    (J_cv - J_train) against max(J_train, J_cv), the bias gap (J_train - baseline) against the largest of the three
    levels. With the default 0.1, the notes' speech example (baseline 10.6%, J_train 10.8%, J_cv 14.8%) has a
    variance gap of 4.0 points against a threshold of 1.48: high variance; its bias gap of 0.2 points is small.
    A baseline much worse than the model (a weak competing algorithm) does not hide a variance gap; a variance gap
    much larger than the bias gap can hide a moderate bias, so diagnose again after fixing the variance.
    ``atol`` sets a floor under both thresholds.

    Given only the three numbers, that comparison is the verdict. Given the numbers of examples behind error
    rates (``n_train``, ``n_cv``) or the per-example losses (:meth:`from_losses`, :meth:`from_model`), each gap
    has a 95% interval and the interval is compared with the threshold (see the module docstring): the notes'
    speech example with 2,000 cv examples is still high variance, with 200 it is "can't tell".

    Args:
        baseline: error one can reasonably hope for (human level, a competing algorithm, a simple model).
        train: J_train.
        cv: J_cv.
        tolerance: relative size of a gap that counts as large, >= 0.
        atol: absolute floor of both thresholds, >= 0.
        n_train, n_cv: examples behind J_train and J_cv when they are error rates (fractions misclassified).
        baseline_source: where the baseline comes from: one of ``BASELINE_SOURCES`` ("human-level",
            "competing algorithm", "simple model", or "given" when unsaid).
        level: coverage of the intervals.
        train_losses, cv_losses: (m,) per-example losses behind J_train and J_cv (0/1 errors or squared error / 2).
        baseline_losses: (m_train,) per-example losses of the baseline: a simple model's held-out predictions on
            the training examples, in their order, make the bias gap a paired comparison.
    """

    baseline: float
    train: float
    cv: float
    tolerance: float = DEFAULT_TOLERANCE
    atol: float = 0.0
    n_train: int | None = None
    n_cv: int | None = None
    baseline_source: str = "given"
    level: float = iv.LEVEL
    train_losses: np.ndarray | None = field(default=None, repr=False, compare=False)
    cv_losses: np.ndarray | None = field(default=None, repr=False, compare=False)
    baseline_losses: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        for name in ("baseline", "train", "cv", "tolerance", "atol"):
            object.__setattr__(self, name, _finite(name, getattr(self, name)))
        for name in ("tolerance", "atol"):
            if getattr(self, name) < 0:
                raise LearnloopError(f"BiasVariance expects {name} >= 0; got {getattr(self, name)!r}.")
        if self.baseline_source not in BASELINE_SOURCES:
            raise LearnloopError(f"BiasVariance baseline_source must be one of {list(BASELINE_SOURCES)}; got "
                                 f"{self.baseline_source!r}.")
        object.__setattr__(self, "level", iv.check_level(self.level))
        for name, n_name, value in (("train_losses", "n_train", "train"), ("cv_losses", "n_cv", "cv"),
                                    ("baseline_losses", None, "baseline")):
            losses = getattr(self, name)
            if losses is None:
                continue
            losses = iv.as_losses(losses, f"BiasVariance {name}")
            if not math.isclose(float(losses.mean()), getattr(self, value), rel_tol=1e-9, abs_tol=1e-12):
                raise LearnloopError(f"BiasVariance {name} average {losses.mean():.6g}, not {value} = "
                                     f"{getattr(self, value):.6g}; use BiasVariance.from_losses.")
            object.__setattr__(self, name, losses)
            if n_name is not None:
                object.__setattr__(self, n_name, losses.size)
        for name in ("n_train", "n_cv"):
            object.__setattr__(self, name, _size(name, getattr(self, name)))
        if (self.n_train is None) != (self.n_cv is None):
            raise LearnloopError("BiasVariance needs the sizes of both J_train and J_cv (n_train and n_cv, or both "
                                 f"sets of per-example losses) to give intervals; got n_train={self.n_train!r}, "
                                 f"n_cv={self.n_cv!r}.")
        if self.n_train is not None:
            for name, n_name in (("train", "n_train"), ("cv", "n_cv")):
                if getattr(self, f"{name}_losses") is None:
                    _errors_from(getattr(self, name), getattr(self, n_name), name)      # refuse non-counts early

    @classmethod
    def from_losses(cls, train_losses, cv_losses, baseline: float | None = None, baseline_losses=None,
                    baseline_source: str | None = None, tolerance: float = DEFAULT_TOLERANCE, atol: float = 0.0,
                    level: float = iv.LEVEL) -> BiasVariance:
        """Diagnose from per-example losses: 0/1 errors (classification) or squared error / 2 (regression).

        Args:
            train_losses: (m_train,) losses of the model on the examples it was fitted on.
            cv_losses: (m_cv,) losses on the cross-validation set.
            baseline: a known error level (human-level, a competing algorithm); or
            baseline_losses: (m_train,) held-out losses of a simple model on the same training examples (paired),
                or losses on any other set of examples (compared unpaired).
            baseline_source: see ``BASELINE_SOURCES``; default "simple model" with ``baseline_losses``, else "given".
            tolerance, atol, level: as in the class.
        """
        train, cv = iv.as_losses(train_losses, "train_losses"), iv.as_losses(cv_losses, "cv_losses")
        if (baseline is None) == (baseline_losses is None):
            raise LearnloopError("BiasVariance.from_losses needs exactly one of baseline (a number) and "
                                 "baseline_losses (per-example losses of a simple model).")
        base = None if baseline_losses is None else iv.as_losses(baseline_losses, "baseline_losses")
        value = float(base.mean()) if base is not None else _finite("baseline", baseline)
        source = baseline_source or ("simple model" if base is not None else "given")
        return cls(value, float(train.mean()), float(cv.mean()), tolerance, atol, baseline_source=source,
                   level=level, train_losses=train, cv_losses=cv, baseline_losses=base)

    # ---- the three numbers and the course's thresholds ---------------------------------------------------------
    @property
    def bias_gap(self) -> float:
        """J_train - baseline."""
        return self.train - self.baseline

    @property
    def variance_gap(self) -> float:
        """J_cv - J_train."""
        return self.cv - self.train

    @property
    def cv_baseline_gap(self) -> float:
        """J_cv - baseline: above 0 the network does worse on new data than the baseline."""
        return self.cv - self.baseline

    @property
    def bias_threshold(self) -> float:
        """The bias gap above which bias is high: tolerance x max(abs(baseline), abs(J_train), abs(J_cv)), at least
        atol."""
        return max(self.atol, self.tolerance * max(abs(self.baseline), abs(self.train), abs(self.cv)))

    @property
    def variance_threshold(self) -> float:
        """The variance gap above which variance is high: tolerance x max(abs(J_train), abs(J_cv)), at least
        atol."""
        return max(self.atol, self.tolerance * max(abs(self.train), abs(self.cv)))

    # ---- evidence ----------------------------------------------------------------------------------------------
    @property
    def evidence(self) -> str:
        """``"intervals"`` when sizes or per-example losses are known, else ``"thresholds"`` (three numbers)."""
        return "thresholds" if self.n_train is None else "intervals"

    @property
    def kind(self) -> str:
        """``"classification"`` when J_train and J_cv are error rates (0/1 losses or counts), else ``"regression"``."""
        for losses in (self.train_losses, self.cv_losses):
            if losses is not None and not iv.is_binary(losses):
                return "regression"
        return "classification"

    def _losses(self, which: str) -> np.ndarray | None:
        if which == "baseline":
            return self.baseline_losses
        losses = getattr(self, f"{which}_losses")
        if losses is None and self.n_train is not None:
            losses = _errors_from(getattr(self, which), getattr(self, f"n_{which}"), which)
        return losses

    @property
    def paired_baseline(self) -> bool:
        """True when the baseline's losses are on the training examples (same count): the bias gap is paired."""
        return self.baseline_losses is not None and self.train_losses is not None and \
            self.baseline_losses.size == self.train_losses.size

    @cached_property
    def intervals(self) -> dict[str, iv.Interval] | None:
        """``{"j_train", "j_cv", "baseline", "bias_gap", "variance_gap", "cv_baseline_gap"}`` -> Interval, or
        ``None`` from three numbers."""
        if self.evidence == "thresholds":
            return None
        train, cv, base = self._losses("train"), self._losses("cv"), self._losses("baseline")
        out = {"j_train": iv.mean_interval(train, self.level), "j_cv": iv.mean_interval(cv, self.level),
               "baseline": iv.given(self.baseline) if base is None else iv.mean_interval(base, self.level)}
        if base is None:
            out["bias_gap"] = out["j_train"].shifted(-self.baseline, out["j_train"].method + " - given baseline")
            out["cv_baseline_gap"] = out["j_cv"].shifted(-self.baseline, out["j_cv"].method + " - given baseline")
        else:
            out["bias_gap"] = (iv.paired_difference(train, base, self.level) if self.paired_baseline
                               else iv.unpaired_difference(train, base, self.level))
            out["cv_baseline_gap"] = iv.unpaired_difference(cv, base, self.level)
        out["variance_gap"] = iv.unpaired_difference(cv, train, self.level)
        return out

    @staticmethod
    def _call(gap: float, threshold: float, interval: iv.Interval | None) -> str:
        if interval is None:
            return "large" if gap > threshold else "small"
        if interval.low > threshold:
            return "large"
        return "small" if interval.high <= threshold else "unclear"

    @property
    def bias_call(self) -> str:
        """``"large"``, ``"small"`` or (with intervals) ``"unclear"``: how the bias gap reads against its threshold."""
        ints = self.intervals
        return self._call(self.bias_gap, self.bias_threshold, ints and ints["bias_gap"])

    @property
    def variance_call(self) -> str:
        """``"large"``, ``"small"`` or (with intervals) ``"unclear"``, for the variance gap."""
        ints = self.intervals
        return self._call(self.variance_gap, self.variance_threshold, ints and ints["variance_gap"])

    @property
    def high_bias(self) -> bool:
        return self.bias_call == "large"

    @property
    def high_variance(self) -> bool:
        return self.variance_call == "large"

    @property
    def verdict(self) -> str:
        """One of "good fit", "high bias", "high variance", "high bias and high variance", "can't tell"."""
        bias, variance = self.bias_call, self.variance_call
        if bias == "large" or variance == "large":
            return VERDICTS[int(bias == "large") + 2 * int(variance == "large")]
        return "good fit" if bias == variance == "small" else "can't tell"

    @property
    def baseline_comparison(self) -> str:
        """How J_cv compares with the baseline: ``"worse"`` (the whole interval of J_cv - baseline above 0),
        ``"better"`` (wholly below 0) or ``"tie"`` (it reaches 0); from three numbers, by the sign alone."""
        ints = self.intervals
        if ints is None:
            return "worse" if self.cv_baseline_gap > 0 else "better"
        gap = ints["cv_baseline_gap"]
        return "worse" if gap.low > 0 else ("better" if gap.high < 0 else "tie")

    @property
    def worse_than_baseline(self) -> bool:
        """True when J_cv is above the baseline beyond noise (the whole interval of J_cv - baseline above 0)."""
        return self.baseline_comparison == "worse"

    # ---- what would settle an unclear gap ----------------------------------------------------------------------
    def _variance_per_example(self, which: str) -> float:
        losses = self._losses(which)
        if iv.is_binary(losses):                      # Agresti-Coull's adjusted rate: never a zero variance
            z2 = iv.z_value(self.level) ** 2
            p = (losses.sum() + z2 / 2) / (losses.size + z2)
            return float(p * (1 - p))
        return float(losses.var(ddof=1)) if losses.size > 1 else 0.0

    def examples_to_separate(self) -> dict:
        """About how many examples would put an unclear gap's interval wholly on one side of its threshold, if the
        gap stayed where it is: ``{"variance": {"cv": n, "train": n or None} or None, "bias": {"train": n} or
        None}``. An unclear variance gap asks for a larger cv set; when J_train's own uncertainty makes that
        costly (or impossible), it asks for both sets grown in proportion, whichever needs fewer examples.
        Numbers are rounded up to two significant figures: an order of size, not a promise."""
        out: dict = {"variance": None, "bias": None}
        z = iv.z_value(self.level)
        if self.variance_call == "unclear":
            distance2 = max((abs(self.variance_gap - self.variance_threshold) / z) ** 2, 1e-300)
            v_cv, v_train = self._variance_per_example("cv"), self._variance_per_example("train")
            scale = (v_cv / self.n_cv + v_train / self.n_train) / distance2
            both = (self.n_cv * scale, self.n_train * scale)
            room = distance2 - v_train / self.n_train
            cv_only = max(v_cv / room, self.n_cv + 1) if room > 0 else math.inf
            if cv_only - self.n_cv <= sum(both) - self.n_cv - self.n_train:
                out["variance"] = {"cv": _round_up(cv_only), "train": None}
            else:
                out["variance"] = {"cv": _round_up(both[0]), "train": _round_up(max(both[1], self.n_train + 1))}
        if self.bias_call == "unclear":
            distance2 = max((abs(self.bias_gap - self.bias_threshold) / z) ** 2, 1e-300)
            train = self._losses("train")
            if self.paired_baseline:
                spread = float(np.var(train - self.baseline_losses, ddof=1))
            else:
                spread = self._variance_per_example("train")
                if self.baseline_losses is not None:
                    spread += self._variance_per_example("baseline") * train.size / self.baseline_losses.size
            out["bias"] = {"train": _round_up(max(spread / distance2, self.n_train + 1))}
        return out

    def cv_examples_to_separate(self) -> int | None:
        """The cv set's size in :meth:`examples_to_separate` for an unclear variance gap, else ``None``."""
        variance = self.examples_to_separate()["variance"]
        return None if variance is None else variance["cv"]

    # ---- words -------------------------------------------------------------------------------------------------
    def explain(self) -> str:
        """One sentence with the numbers behind the verdict (and their intervals when known)."""
        if self.intervals is None:
            return (f"J_train {self.train:.4g} is {self.bias_gap:+.3g} from the baseline {self.baseline:.4g} (large "
                    f"above {self.bias_threshold:.3g}) and J_cv {self.cv:.4g} is {self.variance_gap:+.3g} from "
                    f"J_train (large above {self.variance_threshold:.3g}), so: {self.verdict}.")
        ints = self.intervals
        side = {"large": "above", "small": "below", "unclear": "across"}
        pct = f"{self.level:.0%}"
        text = (f"J_train {ints['j_train']} is {_signed(ints['bias_gap'])} from the baseline "
                f"{self.baseline:.4g} ({BASELINE_SOURCES[self.baseline_source]}): that interval lies "
                f"{side[self.bias_call]} the bias threshold {self.bias_threshold:.3g}. J_cv {ints['j_cv']} is "
                f"{_signed(ints['variance_gap'])} from J_train: {side[self.variance_call]} the variance threshold "
                f"{self.variance_threshold:.3g}. So: {self.verdict} ({pct} intervals).")
        needs = self.examples_to_separate()
        if needs["variance"] is not None and needs["variance"]["train"] is None:
            text += (f" A cv set of about {needs['variance']['cv']:,} examples would separate the variance gap from "
                     f"its threshold.")
        elif needs["variance"] is not None:
            text += (f" J_train's own uncertainty is as large as the variance gap's distance to its threshold: about "
                     f"{needs['variance']['cv']:,} cv and {needs['variance']['train']:,} training examples would "
                     f"separate them.")
        if needs["bias"] is not None:
            text += (f" About {needs['bias']['train']:,} training examples would separate the bias gap from its "
                     f"threshold.")
        return text

    _repr_html_ = render_html                       # a notebook shows the dict below as a table

    def as_dict(self) -> dict:
        out = {"baseline": self.baseline, "j_train": self.train, "j_cv": self.cv, "tolerance": self.tolerance,
               "atol": self.atol,
               "bias_gap": self.bias_gap, "variance_gap": self.variance_gap,
               "bias_threshold": self.bias_threshold, "variance_threshold": self.variance_threshold,
               "verdict": self.verdict, "evidence": self.evidence, "bias_call": self.bias_call,
               "variance_call": self.variance_call, "baseline_source": self.baseline_source,
               "explanation": self.explain()}
        if self.intervals is not None:
            out.update({"kind": self.kind, "n_train": self.n_train, "n_cv": self.n_cv, "level": self.level,
                        "intervals": {k: v.as_list() for k, v in self.intervals.items()},
                        "methods": {k: v.method for k, v in self.intervals.items()},
                        "examples_to_separate": self.examples_to_separate()})
        return out

    @classmethod
    def from_model(cls, model, splits, baseline: float | None = None, kind: str = "auto",
                   tolerance: float = DEFAULT_TOLERANCE, threshold: float = 0.5,
                   baseline_method: str = "linear", atol: float | None = None,
                   baseline_source: str | None = None) -> BiasVariance:
        """Diagnose a model fitted on ``splits.train`` from its per-example losses (so the intervals decide).

        Args:
            model: fitted learnloop model or scikit-learn estimator.
            splits: train/cv/test splits; J_test is not touched.
            baseline: the baseline error; when ``None``, a simple model's held-out losses on the training set
                (:func:`~learnloop.diagnostics.baseline.baseline_losses`), compared pairwise with the model's
                training losses.
            kind: ``"classification"``, ``"regression"`` or ``"auto"``.
            tolerance: see the class docstring.
            threshold: probability cut for single-output classifiers.
            baseline_method: method of :func:`~learnloop.diagnostics.baseline.baseline_losses` when no baseline
                is given.
            atol: floor of the thresholds (default 0: the intervals already account for the cv set's size).
            baseline_source: see ``BASELINE_SOURCES`` (default "given" for a number, else "simple model").
        """
        if splits.cv is None:
            raise LearnloopError(f"BiasVariance.from_model needs a cross-validation set; got {splits!r}.")
        j = j_measures(model, splits, kind=kind, threshold=threshold)
        base = None
        if baseline is None:
            base = baseline_losses(splits.train.x, splits.train.y, kind=j.kind, method=baseline_method)
        return cls.from_losses(j.train_losses, j.cv_losses, baseline=baseline, baseline_losses=base,
                               baseline_source=baseline_source, tolerance=tolerance,
                               atol=0.0 if atol is None else atol)


def _signed(interval: iv.Interval) -> str:
    return f"{interval.estimate:+.3g} [{interval.low:+.3g}, {interval.high:+.3g}]"


def _round_up(n: float) -> int:
    """Two significant figures, rounded up: an order of size, not a promise."""
    n = max(1, math.ceil(n))
    scale = 10 ** max(0, len(str(n)) - 2)
    return int(math.ceil(n / scale) * scale)
