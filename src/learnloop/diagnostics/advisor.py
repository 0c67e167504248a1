"""Deciding what to try next: the notes' table of fixes for high bias and high variance, ranked by the evidence.

| problem       | fixes                                                                                    |
|---------------|------------------------------------------------------------------------------------------|
| high variance | get more training examples; try smaller sets of features; increase lambda               |
| high bias     | try a bigger network; add polynomial features; get additional features; decrease lambda  |

The evidence decides which fixes are offered, so no advice contradicts the numbers:

- more training examples first when the learning curve still falls beyond noise; for high variance as the notes
  say, lower, when the curve cannot tell or is missing; never when it is flat within noise, where "hold off on
  more data" is said instead;
- lambda only when the lambda sweep shows a measurable effect and its best value sits at the edge of the range
  (a sweep whose best value is inside the range has already tuned lambda; a sweep without a measurable effect
  says nothing about lambda); the same for network size and polynomial degree;
- fewer features only when there are many features for the training examples (more than one per ten);
- "can't tell" asks for the larger cv set that would tell, before any fix;
- a network that does worse than a simple model's held-out error is told so first.

Curves and diagnoses built from plain numbers (no per-example losses) keep the notes' rules: a learning curve
whose J_cv still falls moves "more training examples" to the top; a sweep whose best value sits at the edge of
the range moves the matching fix up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from learnloop.diagnostics.bias_variance import BiasVariance
from learnloop.diagnostics.curves import sweep_kind

MORE_DATA = "get more training examples"
FEWER_FEATURES = "try smaller sets of features"
INCREASE_LAMBDA = "increase lambda (stronger regularization)"
BIGGER_NETWORK = "try a bigger neural network (more units or layers)"
POLYNOMIAL = "add polynomial features (x1^2, x2^2, x1*x2, ...)"
ADD_FEATURES = "get additional features"
DECREASE_LAMBDA = "decrease lambda (weaker regularization)"
HOLD_DATA = "hold off on collecting more data"
KEEP = "keep this model and measure J_test once"
MEASURE_MORE = "score the model on a larger cross-validation set"
OTHER_REGULARIZATION = "regularize another way (dropout, early stopping, data augmentation) or use a smaller network"
SIMPLE_MODEL = "prefer the simple model, or train the network better"

FEATURES_PER_EXAMPLE = 0.1     # "many features": more than one feature per ten training examples


@dataclass(frozen=True)
class Advice:
    """One thing to try: what, why (one sentence grounded in the numbers) and its rank (1 = try first)."""

    action: str
    reason: str
    priority: int

    def as_dict(self) -> dict:
        return {"action": self.action, "reason": self.reason, "priority": self.priority}


def _g(value: float) -> str:
    return f"{value:.4g}"


def _ci(interval) -> str:
    return f"[{_g(interval.low)}, {_g(interval.high)}]"


# ---- what the evidence says about each lever ---------------------------------------------------------------------
def _sweep_reading(vc) -> str | None:
    """``"no effect"``, ``"low"``/``"high"`` (measurable, best at that edge), ``"tuned"`` (measurable, inside), or
    ``None`` without a curve; from plain arrays, the edge alone (``"low"``, ``"high"``, ``"tuned"``)."""
    if vc is None:
        return None
    if vc.measurable_effect is False:
        return "no effect"
    return vc.best_at_edge or "tuned"


def _data_reading(lc) -> str | None:
    """``"helps"``, ``"unlikely to help"`` or ``"can't tell"`` (law), ``"falling"``/``"flat"`` (plain arrays)."""
    if lc is None:
        return None
    if lc.more_data is not None:
        return lc.more_data
    return "falling" if lc.cv_still_falling else "flat"


def _more_data_reason(lc) -> str:
    law = lc.law
    m = int(lc.sizes[-1])
    at2, at10, gain = law.at(2 * m), law.at(10 * m), law.gain(2)
    return (f"The learning curve's J_cv still falls beyond noise: the inverse power law fitted to it expects J_cv "
            f"{_g(at2.estimate)} {_ci(at2)} with twice the training examples (m={2 * m}) and {_g(at10.estimate)} "
            f"{_ci(at10)} with ten times as many, from {_g(lc.j_cv[-1])} now (doubling saves {_g(gain.estimate)} "
            f"{_ci(gain)}).")


def _flat_data_reason(lc) -> str:
    gain = lc.law.gain(2)
    return (f"The learning curve is flat within noise: doubling the training set would lower J_cv by "
            f"{_g(gain.estimate)} (at most {_g(gain.high)}), under a tenth of J_cv {_g(lc.j_cv[-1])}.")


def _training_examples(d: BiasVariance, lc, vc) -> int | None:
    """The training set's size, from the diagnosis or, for three numbers, from the curves that came with it."""
    if d.n_train is not None:
        return d.n_train
    if lc is not None:
        return int(lc.sizes[-1])
    train = getattr(vc, "train_losses", None)
    return None if train is None else int(np.shape(train)[1])


def _many_features(n_features: int | None, m_train: int | None) -> bool:
    if n_features is None or m_train is None:
        return True                      # unknown: the notes' advice stands
    return n_features > FEATURES_PER_EXAMPLE * m_train


def _variance_gap(d: BiasVariance) -> str:
    if d.intervals is None:
        return (f"J_cv {_g(d.cv)} is {_g(d.variance_gap)} above J_train {_g(d.train)} (more than "
                f"{_g(d.variance_threshold)}), so the model fits the examples it was trained on much better than "
                f"new ones")
    return (f"J_cv {_g(d.cv)} is {_g(d.variance_gap)} {_ci(d.intervals['variance_gap'])} above J_train "
            f"{_g(d.train)}, beyond the threshold {_g(d.variance_threshold)}, so the model fits the examples it was "
            f"trained on much better than new ones")


def _bias_gap(d: BiasVariance) -> str:
    if d.intervals is None:
        return (f"J_train {_g(d.train)} is {_g(d.bias_gap)} above the baseline {_g(d.baseline)} (more than "
                f"{_g(d.bias_threshold)}), so the model does not fit even the training set well enough")
    return (f"J_train {_g(d.train)} is {_g(d.bias_gap)} {_ci(d.intervals['bias_gap'])} above the baseline "
            f"{_g(d.baseline)}, beyond the threshold {_g(d.bias_threshold)}, so the model does not fit even the "
            f"training set well enough")


# ---- the fixes ---------------------------------------------------------------------------------------------------
def _variance_options(d: BiasVariance, lc, vc, sweep: str | None, n_features: int | None) -> list:
    gap = _variance_gap(d)
    data, lam = _data_reading(lc), _sweep_reading(vc) if sweep == "lambda" else None
    options = []
    if data == "helps":
        options.append((3.0, MORE_DATA, _more_data_reason(lc)))
    elif data == "falling":
        options.append((3.0, MORE_DATA, f"The learning curve's J_cv still falls ({_g(lc.j_cv[-2])} to "
                                        f"{_g(lc.j_cv[-1])} from m={lc.sizes[-2]} to m={lc.sizes[-1]}), so more "
                                        f"examples should keep closing the gap of {_g(lc.final_gap)}."))
    elif data == "flat":
        options.append((1.0, MORE_DATA, f"{gap}; but the learning curve's J_cv has flattened near "
                                        f"{_g(lc.j_cv[-1])}, so more examples alone may help only slowly."))
    elif data == "can't tell":
        drop = lc.law.recent_drop()
        options.append((1.8, MORE_DATA, f"{gap}; more examples make it harder to fit noise, the notes' first fix, "
                                        f"though the learning curve cannot tell yet whether they help (the last "
                                        f"doubling of the data lowered J_cv by {_g(drop.estimate)} {_ci(drop)})."))
    elif data is None:
        options.append((2.0, MORE_DATA, f"{gap}; more examples make it harder to fit noise."))
    if lam == "high":
        options.append((3.5, INCREASE_LAMBDA, f"The lowest J_cv of the {vc.name} sweep ({_g(vc.best_j_cv)}) is at "
                                              f"the largest value tried, {vc.name}={vc.best_value:g}: try larger."))
    elif lam == "low" and vc.effect is None and vc.best_value == 0:
        smallest = min((float(v) for v in vc.values if float(v) > 0), default=0.0)
        options.append((0.8, INCREASE_LAMBDA, f"The {vc.name} sweep's J_cv is lowest ({_g(vc.best_j_cv)}) with no "
                                              f"regularization: every {vc.name} tried made it worse, so regularize "
                                              f"at most lightly (below {vc.name}={smallest:g})."))
    elif sweep != "lambda" or vc is None:
        options.append((2.0, INCREASE_LAMBDA, f"{gap}; a larger lambda keeps the weights small and the fit "
                                              f"smoother."))
    m_train = _training_examples(d, lc, vc)
    if _many_features(n_features, m_train):
        fewer = "fewer features (or a lower polynomial degree)" if sweep == "degree" else "fewer features"
        many = "" if n_features is None or m_train is None else \
            f" ({n_features} features for {m_train} training examples)"
        options.append((1.5, FEWER_FEATURES, f"{gap}; {fewer}{many} leave less room to fit noise."))
    if not any(action in (MORE_DATA, INCREASE_LAMBDA) for _, action, _ in options):
        tried = []
        if lam is not None:
            tried.append(f"the {vc.name} sweep ({_lambda_words(lam, vc)})")
        if data in ("unlikely to help", "can't tell"):
            tried.append("the learning curve (more data " + ("is unlikely to help" if data == "unlikely to help"
                                                             else "has no measurable effect yet") + ")")
        options.append((1.2, OTHER_REGULARIZATION, f"{gap}; " + (" and ".join(tried) + " leave no simpler lever"
                                                                 if tried else "other regularizers may close it")
                        + "."))
    return options


def _lambda_words(reading: str, vc) -> str:
    return {"no effect": "no measurable effect", "tuned": f"already tuned at {vc.name}={vc.chosen_value:g}",
            "low": f"lowest J_cv at the smallest {vc.name}", "high": f"lowest J_cv at the largest {vc.name}"}[reading]


def _bias_options(d: BiasVariance, lc, vc, sweep: str | None, size_curve) -> list:
    gap = _bias_gap(d)
    size_vc = vc if sweep == "size" else size_curve
    size = _sweep_reading(size_vc)
    degree = _sweep_reading(vc) if sweep == "degree" else None
    lam = _sweep_reading(vc) if sweep == "lambda" else None
    options = []
    if size == "high":
        options.append((3.5, BIGGER_NETWORK, f"The largest {size_vc.name} tried has the lowest J_cv "
                                              f"({_g(size_vc.best_j_cv)}): go bigger."))
    elif size is None or (size in ("low", "tuned") and size_vc.effect is None):
        options.append((2.5, BIGGER_NETWORK, f"{gap}; a bigger network can fit more complex functions."))
    if degree == "high":
        options.append((3.5, POLYNOMIAL, f"The highest degree tried has the lowest J_cv ({_g(vc.best_j_cv)}): the "
                                         f"model wants more flexibility."))
    else:
        options.append((2.0, POLYNOMIAL, f"{gap}; polynomial features let it bend to the data."))
    network = ""
    if size == "no effect":
        network = " (network size has no measurable effect on J_cv, so capacity is not what is missing)"
    elif size in ("low", "tuned") and size_vc.effect is not None:
        network = (f" (networks larger than {_size_name(size_vc)} did not lower J_cv, so capacity is not what is "
                   f"missing)")
    options.append((2.8 if network else 1.5, ADD_FEATURES, f"{gap}; new information about each example can explain "
                                                           f"what the current features cannot{network}."))
    decrease = _decrease_lambda(gap, vc, lam)
    if decrease is not None:
        options.append(decrease)
    if not d.high_variance:
        options += _hold_data(d, lc)
    return options


def _size_name(vc) -> str:
    value = vc.chosen_value
    return "-".join(str(v) for v in value) if isinstance(value, (tuple, list)) else str(value)


def _hold_data(d: BiasVariance, lc) -> list:
    data = _data_reading(lc)
    if data == "unlikely to help":
        return [(0.5, HOLD_DATA, _flat_data_reason(lc))]
    if data in ("helps", "can't tell", "falling"):
        return []
    return [(0.5, HOLD_DATA, f"J_cv {_g(d.cv)} is already close to J_train {_g(d.train)}"
                             + (f" and the learning curve has flattened near {_g(lc.j_cv[-1])}" if data == "flat"
                                else "") + ", so more examples will not lower the error by themselves.")]


def _decrease_lambda(gap: str, vc, lam: str | None) -> tuple | None:
    if lam == "low" and vc.best_value == 0:
        if vc.effect is not None:
            return None
        return (0.2, DECREASE_LAMBDA, f"The {vc.name} sweep's J_cv is lowest ({_g(vc.best_j_cv)}) with no "
                                      f"regularization at all, so regularization is not what holds the fit back.")
    if lam == "low":
        return (3.0, DECREASE_LAMBDA, f"The {vc.name} sweep's J_cv is lowest ({_g(vc.best_j_cv)}) at the smallest "
                                      f"value tried, {vc.name}={vc.best_value:g}: regularization is holding the "
                                      f"fit back.")
    if lam is None:
        return 1.5, DECREASE_LAMBDA, f"{gap}; a smaller lambda lets the weights fit the training set more closely."
    return None


def _cant_tell_options(d: BiasVariance, lc) -> list:
    needs = d.examples_to_separate()
    parts = []
    if needs["variance"] is not None:
        extra = "" if needs["variance"]["train"] is None else \
            f" (with about {needs['variance']['train']:,} training examples)"
        parts.append(f"the variance gap {_g(d.variance_gap)} {_ci(d.intervals['variance_gap'])} straddles its "
                     f"threshold {_g(d.variance_threshold)}; a cv set of about {needs['variance']['cv']:,} "
                     f"examples{extra} would tell whether it is large")
    if needs["bias"] is not None:
        parts.append(f"the bias gap {_g(d.bias_gap)} {_ci(d.intervals['bias_gap'])} straddles its threshold "
                     f"{_g(d.bias_threshold)}; about {needs['bias']['train']:,} training examples would tell")
    options = [(3.0, MEASURE_MORE, "Neither bias nor variance stands out beyond noise: " + "; ".join(parts) + ".")]
    if _data_reading(lc) == "helps":
        options.append((2.0, MORE_DATA, _more_data_reason(lc)))
    return options


def _baseline_option(d: BiasVariance) -> tuple | None:
    comparison = d.baseline_comparison
    if d.baseline_source not in ("simple model", "competing algorithm") or comparison == "better" or \
            (comparison == "tie" and d.cv_baseline_gap < 0):
        return None                    # better, or better by its estimate: nothing to flag
    gap = d.cv_baseline_gap
    ci = "" if d.intervals is None else f" {_ci(d.intervals['cv_baseline_gap'])}"
    who = "a simple model" if d.baseline_source == "simple model" else "the competing algorithm"
    if comparison == "worse":
        return (5.0, SIMPLE_MODEL, f"J_cv {_g(d.cv)} is {_g(gap)}{ci} worse than {who}'s held-out error "
                                   f"{_g(d.baseline)}: use that model, or train the network better (more epochs, a "
                                   f"different learning rate, scaled inputs) before reading bias and variance.")
    return (4.0, SIMPLE_MODEL, f"J_cv {_g(d.cv)} is no better than {who}'s held-out error {_g(d.baseline)} "
                               f"(J_cv - baseline {_g(gap)}{ci}, within noise of 0): prefer that model unless the "
                               f"network earns a measurable gain.")


def advise(diagnosis: BiasVariance, learning_curve=None, validation_curve=None, n_features: int | None = None,
           size_curve=None) -> list[Advice]:
    """Rank the fixes for a diagnosis.

    Args:
        diagnosis: a :class:`BiasVariance`.
        learning_curve: optional :class:`~learnloop.diagnostics.curves.LearningCurve` of the model; with its
            per-example losses, "get more training examples" is offered only when J_cv still falls beyond
            noise (with the expected gain), and "hold off on more data" when it is flat within noise.
        validation_curve: optional :class:`~learnloop.diagnostics.curves.ValidationCurve`; its name says what
            was swept ("lambda"/"alpha"/"l2", "degree", "units"/"size"/"architecture"). A best value at the
            edge of the range ranks the matching fix up; with losses, a sweep without a measurable effect
            recommends nothing about its setting.
        n_features: number of input features; "try smaller sets of features" needs more than one per ten
            training examples (offered whenever the number is unknown, as in the notes).
        size_curve: optional network-size sweep, read like a validation curve named "units".

    Returns:
        A list of :class:`Advice`, best first, priorities 1, 2, 3...; with high bias and high variance the bias
        fixes come first on ties (the notes' recipe: fit the training set first, then close the cv gap).
    """
    vc = validation_curve
    sweep = sweep_kind(vc.name) if vc is not None else None
    options: list[tuple[float, str, str]] = []
    baseline = _baseline_option(diagnosis)
    if baseline is not None:
        options.append(baseline)
    verdict = diagnosis.verdict
    if verdict == "can't tell":
        options += _cant_tell_options(diagnosis, learning_curve)
    if diagnosis.high_bias:
        options += _bias_options(diagnosis, learning_curve, vc, sweep, size_curve)
    if diagnosis.high_variance:
        options += _variance_options(diagnosis, learning_curve, vc, sweep, n_features)
    if verdict == "good fit":
        options.append((1.0, KEEP, _keep_reason(diagnosis)))
        if _data_reading(learning_curve) == "helps":
            options.append((0.8, MORE_DATA, _more_data_reason(learning_curve)))
    order = sorted(range(len(options)), key=lambda i: (-options[i][0], i))
    seen, out = set(), []
    for i in order:
        if options[i][1] not in seen:
            seen.add(options[i][1])
            out.append(Advice(action=options[i][1], reason=options[i][2], priority=len(out) + 1))
    return out


def _keep_reason(d: BiasVariance) -> str:
    if d.intervals is None:
        return (f"J_train {_g(d.train)} is within {_g(d.bias_threshold)} of the baseline {_g(d.baseline)} and J_cv "
                f"{_g(d.cv)} within {_g(d.variance_threshold)} of J_train: neither bias nor variance is the "
                f"problem.")
    return (f"The bias gap {_g(d.bias_gap)} {_ci(d.intervals['bias_gap'])} and the variance gap "
            f"{_g(d.variance_gap)} {_ci(d.intervals['variance_gap'])} both lie below their thresholds "
            f"({_g(d.bias_threshold)}, {_g(d.variance_threshold)}): neither bias nor variance is the problem.")
