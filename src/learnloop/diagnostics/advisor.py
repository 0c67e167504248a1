"""Deciding what to try next: the notes' table of fixes for high bias and high variance, ranked by the evidence.

| problem       | fixes                                                                                    |
|---------------|------------------------------------------------------------------------------------------|
| high variance | get more training examples; try smaller sets of features; increase lambda               |
| high bias     | try a bigger network; add polynomial features; get additional features; decrease lambda  |

A learning curve whose J_cv still falls moves "more training examples" to the top; a lambda (or degree, or size)
sweep whose best value sits at the edge of the range moves the matching fix up.
"""

from __future__ import annotations

from dataclasses import dataclass

from learnloop.diagnostics.bias_variance import BiasVariance

MORE_DATA = "get more training examples"
FEWER_FEATURES = "try smaller sets of features"
INCREASE_LAMBDA = "increase lambda (stronger regularization)"
BIGGER_NETWORK = "try a bigger neural network (more units or layers)"
POLYNOMIAL = "add polynomial features (x1^2, x2^2, x1*x2, ...)"
ADD_FEATURES = "get additional features"
DECREASE_LAMBDA = "decrease lambda (weaker regularization)"
HOLD_DATA = "hold off on collecting more data"
KEEP = "keep this model and measure J_test once"

_LAMBDA_NAMES = ("lambda", "lam", "alpha", "l2", "regularization", "weight_decay")
_DEGREE_NAMES = ("degree", "poly")
_SIZE_NAMES = ("units", "size", "hidden", "layers", "architecture", "network", "width")


@dataclass(frozen=True)
class Advice:
    """One thing to try: what, why (one sentence grounded in the numbers) and its rank (1 = try first)."""

    action: str
    reason: str
    priority: int

    def as_dict(self) -> dict:
        return {"action": self.action, "reason": self.reason, "priority": self.priority}


def _sweep_kind(name: str) -> str | None:
    name = name.lower()
    for kind, names in (("lambda", _LAMBDA_NAMES), ("degree", _DEGREE_NAMES), ("size", _SIZE_NAMES)):
        if any(n in name for n in names):
            return kind
    return None


def _g(value: float) -> str:
    return f"{value:.3g}"


def _variance_options(d: BiasVariance, lc, vc, sweep: str | None) -> list[tuple[float, str, str]]:
    gap = (f"J_cv {_g(d.cv)} is {_g(d.variance_gap)} above J_train {_g(d.train)} (more than "
           f"{_g(d.variance_threshold)}), so the model fits the examples it was trained on much better than new ones")
    options = []
    if lc is not None and lc.cv_still_falling:
        options.append((3.0, MORE_DATA, f"The learning curve's J_cv still falls ({_g(lc.j_cv[-2])} to "
                                        f"{_g(lc.j_cv[-1])} from m={lc.sizes[-2]} to m={lc.sizes[-1]}), so more "
                                        f"examples should keep closing the gap of {_g(lc.final_gap)}."))
    elif lc is not None:
        options.append((1.0, MORE_DATA, f"{gap}; but the learning curve's J_cv has flattened near "
                                        f"{_g(lc.j_cv[-1])}, so more examples alone may help only slowly."))
    else:
        options.append((2.0, MORE_DATA, f"{gap}; more examples make it harder to fit noise."))
    if sweep == "lambda" and vc.best_at_edge == "high":
        options.append((3.5, INCREASE_LAMBDA, f"The lowest J_cv of the {vc.name} sweep ({_g(vc.best_j_cv)}) is at "
                                              f"the largest value tried, {vc.name}={vc.best_value:g}: try larger."))
    elif sweep == "lambda" and vc.best_value == 0:
        smallest = min((float(v) for v in vc.values if float(v) > 0), default=0.0)
        options.append((0.8, INCREASE_LAMBDA, f"The {vc.name} sweep's J_cv is lowest ({_g(vc.best_j_cv)}) with no "
                                              f"regularization: every {vc.name} tried made it worse, so regularize "
                                              f"at most lightly (below {vc.name}={smallest:g})."))
    elif sweep == "lambda":
        options.append((2.5, INCREASE_LAMBDA, f"The {vc.name} sweep's J_cv is lowest ({_g(vc.best_j_cv)}) at "
                                              f"{vc.name}={vc.best_value:g}; use at least that much regularization."))
    else:
        options.append((2.0, INCREASE_LAMBDA, f"{gap}; a larger lambda keeps the weights small and the fit "
                                              f"smoother."))
    fewer = "fewer features (or a lower polynomial degree)" if sweep == "degree" else "fewer features"
    options.append((1.5, FEWER_FEATURES, f"{gap}; {fewer} leave less room to fit noise."))
    return options


def _bias_options(d: BiasVariance, lc, vc, sweep: str | None) -> list[tuple[float, str, str]]:
    gap = (f"J_train {_g(d.train)} is {_g(d.bias_gap)} above the baseline {_g(d.baseline)} (more than "
           f"{_g(d.bias_threshold)}), so the model does not fit even the training set well enough")
    size_edge = sweep == "size" and vc.best_at_edge == "high"
    degree_edge = sweep == "degree" and vc.best_at_edge == "high"
    lambda_edge = sweep == "lambda" and vc.best_at_edge == "low"
    options = [
        (3.5 if size_edge else 2.5, BIGGER_NETWORK,
         f"The largest {vc.name} tried has the lowest J_cv ({_g(vc.best_j_cv)}): go bigger."
         if size_edge else f"{gap}; a bigger network can fit more complex functions."),
        (3.5 if degree_edge else 2.0, POLYNOMIAL,
         f"The highest degree tried has the lowest J_cv ({_g(vc.best_j_cv)}): the model wants more flexibility."
         if degree_edge else f"{gap}; polynomial features let it bend to the data."),
        (1.5, ADD_FEATURES, f"{gap}; new information about each example can explain what the current features "
                            f"cannot."),
        _decrease_lambda(gap, vc, lambda_edge),
    ]
    if not d.high_variance:
        flat = lc is not None and not lc.cv_still_falling
        options.append((0.5, HOLD_DATA,
                        f"J_cv {_g(d.cv)} is already close to J_train {_g(d.train)}"
                        + (f" and the learning curve has flattened near {_g(lc.j_cv[-1])}" if flat else "")
                        + ", so more examples will not lower the error by themselves."))
    return options


def _decrease_lambda(gap: str, vc, lambda_edge: bool) -> tuple[float, str, str]:
    if lambda_edge and vc.best_value == 0:
        return (0.2, DECREASE_LAMBDA, f"The {vc.name} sweep's J_cv is lowest ({_g(vc.best_j_cv)}) with no "
                                      f"regularization at all, so regularization is not what holds the fit back.")
    if lambda_edge:
        return (3.0, DECREASE_LAMBDA, f"The {vc.name} sweep's J_cv is lowest ({_g(vc.best_j_cv)}) at the smallest "
                                      f"value tried, {vc.name}={vc.best_value:g}: regularization is holding the "
                                      f"fit back.")
    return 1.5, DECREASE_LAMBDA, f"{gap}; a smaller lambda lets the weights fit the training set more closely."


def advise(diagnosis: BiasVariance, learning_curve=None, validation_curve=None) -> list[Advice]:
    """Rank the fixes for a diagnosis.

    Args:
        diagnosis: a :class:`BiasVariance`.
        learning_curve: optional :class:`~learnloop.diagnostics.curves.LearningCurve` of the model; a J_cv that
            still falls ranks "get more training examples" first.
        validation_curve: optional :class:`~learnloop.diagnostics.curves.ValidationCurve`; its name says what
            was swept ("lambda"/"alpha"/"l2", "degree", "units"/"size"/"architecture") and a best value at the
            edge of the range ranks the matching fix up.

    Returns:
        A list of :class:`Advice`, best first, priorities 1, 2, 3...; with high bias and high variance the bias
        fixes come first on ties (the notes' recipe: fit the training set first, then close the cv gap).
    """
    sweep = _sweep_kind(validation_curve.name) if validation_curve is not None else None
    options: list[tuple[float, str, str]] = []
    if diagnosis.high_bias:
        options += _bias_options(diagnosis, learning_curve, validation_curve, sweep)
    if diagnosis.high_variance:
        options += _variance_options(diagnosis, learning_curve, validation_curve, sweep)
    if not options:
        options.append((1.0, KEEP, f"J_train {_g(diagnosis.train)} is within {_g(diagnosis.bias_threshold)} of the "
                                   f"baseline {_g(diagnosis.baseline)} and J_cv {_g(diagnosis.cv)} within "
                                   f"{_g(diagnosis.variance_threshold)} of J_train: neither bias nor variance is "
                                   f"the problem."))
    order = sorted(range(len(options)), key=lambda i: (-options[i][0], i))
    return [Advice(action=options[i][1], reason=options[i][2], priority=rank + 1) for rank, i in enumerate(order)]
