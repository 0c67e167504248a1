"""Coded findings: what the loop found, each with a stable code, a title, its evidence (the numbers and their
intervals) and its actions in order of expected payoff.

``CODES`` is the one table of codes; ``docs/findings.md`` is generated from it by :func:`markdown` and a test
checks that the two agree. Codes never change
meaning; a new situation gets a new code.

:func:`find` reads a diagnosis and the loop's curves and returns the findings, most important first: a network that
does worse than a simple baseline, then the bias/variance verdict, then what the learning curve, the sweeps, the
test set and the fairness audit add.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from learnloop.diagnostics import advisor as A
from learnloop.diagnostics import intervals as iv
from learnloop.diagnostics.advisor import Advice, advise
from learnloop.diagnostics.bias_variance import BASELINE_SOURCES, BiasVariance

SEVERITIES = ("problem", "warning", "info")


@dataclass(frozen=True)
class Code:
    """One entry of the table of codes: what the code means, when it is reported and what it suggests."""

    code: str
    title: str
    severity: str
    when: str
    suggests: str


CODES: dict[str, Code] = {c.code: c for c in (
    Code("LL-BASELINE-BETTER", "A simple model does better than the network", "problem",
         "The baseline is a simple model's (or a competing algorithm's) held-out error and the whole 95% interval of "
         "J_cv - baseline lies above 0.",
         "Use the simple model, or train the network better (epochs, learning rate, input scaling) before reading "
         "bias and variance."),
    Code("LL-BASELINE-TIE", "The network does no better than a simple model", "warning",
         "The baseline is a simple model's (or a competing algorithm's) held-out error, J_cv is at or above it and "
         "the 95% interval of J_cv - baseline reaches 0.",
         "Prefer the simple model unless the network earns a measurable gain."),
    Code("LL-BIAS", "High bias", "problem",
         "The whole interval of the bias gap J_train - baseline lies above its threshold (tolerance x the largest of "
         "the three error levels); the variance gap's does not.",
         "A bigger network (when the size sweep's best is its largest), additional or polynomial features, a "
         "smaller lambda (when the lambda sweep's best is its smallest, nonzero)."),
    Code("LL-VARIANCE", "High variance", "problem",
         "The whole interval of the variance gap J_cv - J_train lies above its threshold (tolerance x max(J_train, "
         "J_cv)); the bias gap's does not.",
         "More training examples (when the learning curve still falls beyond noise), a larger lambda (when the "
         "lambda sweep's best is its largest), fewer features (when there are more than one per ten training "
         "examples), else other regularization."),
    Code("LL-BIAS-VARIANCE", "High bias and high variance", "problem",
         "Both gaps' intervals lie wholly above their thresholds.",
         "The bias fixes first (fit the training set), then the variance fixes."),
    Code("LL-GOOD-FIT", "Good fit", "info",
         "Both gaps' intervals lie wholly at or below their thresholds.",
         "Keep the model and measure J_test once."),
    Code("LL-CANT-TELL", "Can't tell bias from variance yet", "warning",
         "Neither gap's interval lies wholly above its threshold, and at least one straddles it.",
         "Score the model on a larger cv set: the finding says about how many examples would separate the gap from "
         "its threshold."),
    Code("LL-DATA-HELPS", "More data should help", "info",
         "On an inverse power law fitted to the learning curve (J_cv = a + b m^-c), the 95% interval of J_cv's "
         "drop over the last doubling of the training set lies above 1% of J_cv.",
         "Get more training examples; the finding gives the expected J_cv at 2x and 10x the data."),
    Code("LL-DATA-FLAT", "More data is unlikely to help", "info",
         "The learning curve is flat within noise: that drop's interval reaches 1% of J_cv, and the top of the "
         "interval of the gain from doubling the data again is under a tenth of J_cv.",
         "Hold off on collecting more data for this model."),
    Code("LL-DATA-UNCLEAR", "The learning curve cannot tell whether more data helps", "info",
         "Neither: the drop's interval reaches 1% of J_cv, but the gain from doubling the data may exceed a tenth "
         "of J_cv.",
         "Nothing about data yet; a larger cv set or more sizes on the curve would tell."),
    Code("LL-LAMBDA-NO-EFFECT", "Lambda has no measurable effect", "info",
         "No lambda's J_cv differs from the best one's by more than one standard error with a simultaneous "
         "interval (Bonferroni over all pairs) wholly above 0.",
         "Nothing about lambda: the chosen value is the largest within one standard error of the lowest J_cv."),
    Code("LL-LAMBDA-EDGE", "The best lambda is at the edge of the range", "warning",
         "Lambda has a measurable effect and the lowest J_cv is at the largest value tried, or at the smallest "
         "nonzero one.",
         "Extend the sweep past that edge (larger, or smaller, lambdas)."),
    Code("LL-LAMBDA-CHOSEN", "Lambda chosen by the one-standard-error rule", "info",
         "Lambda has a measurable effect and its best value lies inside the range tried (or is 0).",
         "Nothing: lambda is tuned; the chosen value is the largest within one standard error of the lowest J_cv."),
    Code("LL-SIZE-NO-EFFECT", "Network size has no measurable effect", "info",
         "No network size's J_cv differs from the best one's beyond noise (as for lambda).",
         "Nothing about size: the chosen network is the smallest within one standard error of the lowest J_cv."),
    Code("LL-SIZE-EDGE", "The best network size is at the edge of the ladder", "warning",
         "Size has a measurable effect and the lowest J_cv is at the largest (or smallest) network tried.",
         "Extend the ladder past that edge."),
    Code("LL-SIZE-CHOSEN", "Network size chosen by the one-standard-error rule", "info",
         "Size has a measurable effect and its best value lies inside the ladder.",
         "Nothing: the chosen network is the smallest within one standard error of the lowest J_cv."),
    Code("LL-TEST-WORSE", "J_test is worse than J_cv", "warning",
         "The whole 95% interval of J_test - J_cv (independent examples) lies above 0.",
         "Report J_test, not J_cv, as the expected error; choosing among many settings on a small cv set makes J_cv "
         "optimistic, and a test set unlike the cv set does the same."),
    Code("LL-FAIRNESS-GAP", "A group gap beyond noise", "problem",
         "A fairness metric's gap between the highest and the lowest group has a simultaneous bootstrap interval "
         "wholly above 0.",
         "Look at the group with the worse rate: its errors, its share of the training data, its features."),
    Code("LL-FAIRNESS-NOISE", "Group gaps within noise", "info",
         "Every fairness metric's gap interval reaches 0.",
         "Nothing yet: the groups cannot be told apart with these samples; a larger audit set would say more."),
)}


@dataclass(frozen=True)
class Finding:
    """One coded finding.

    Attributes:
        code: a key of ``CODES``.
        summary: one or two sentences with the numbers.
        evidence: the numbers behind it, each interval as ``[low, high]``.
        actions: what to try, in order of expected payoff (possibly none).
    """

    code: str
    summary: str
    evidence: dict = field(default_factory=dict)
    actions: tuple[Advice, ...] = ()

    @property
    def title(self) -> str:
        return CODES[self.code].title

    @property
    def severity(self) -> str:
        return CODES[self.code].severity

    def as_dict(self) -> dict:
        return {"code": self.code, "title": self.title, "severity": self.severity, "summary": self.summary,
                "evidence": self.evidence,
                "actions": [{"action": a.action, "reason": a.reason} for a in self.actions]}


def _value(interval: iv.Interval | None, value: float | None = None) -> dict:
    if interval is None:
        return {"value": value}
    return {"value": interval.estimate if value is None else value, "interval": interval.as_list(),
            "method": interval.method}


def _g(value: float) -> str:
    return f"{value:.4g}"


def _ci(interval: iv.Interval) -> str:
    return f"[{_g(interval.low)}, {_g(interval.high)}]"


# ---- each part of the loop -------------------------------------------------------------------------------------
def _baseline_finding(d: BiasVariance, advice: list[Advice]) -> Finding | None:
    first = next((a for a in advice if a.action == A.SIMPLE_MODEL), None)
    if first is None:
        return None
    ints = d.intervals or {}
    evidence = {"j_cv": _value(ints.get("j_cv"), d.cv), "baseline": {**_value(ints.get("baseline"), d.baseline),
                                                                      "source": d.baseline_source},
                "j_cv_minus_baseline": _value(ints.get("cv_baseline_gap"), d.cv_baseline_gap)}
    code = "LL-BASELINE-BETTER" if d.baseline_comparison == "worse" else "LL-BASELINE-TIE"
    return Finding(code, first.reason, evidence, (first,))


def _verdict_finding(d: BiasVariance, advice: list[Advice]) -> Finding:
    code = {"high bias": "LL-BIAS", "high variance": "LL-VARIANCE", "high bias and high variance": "LL-BIAS-VARIANCE",
            "good fit": "LL-GOOD-FIT", "can't tell": "LL-CANT-TELL"}[d.verdict]
    ints = d.intervals or {}
    evidence = {
        "verdict": d.verdict, "decided_by": d.evidence,
        "baseline": {**_value(ints.get("baseline"), d.baseline), "source": d.baseline_source,
                     "source_text": BASELINE_SOURCES[d.baseline_source]},
        "j_train": _value(ints.get("j_train"), d.train), "j_cv": _value(ints.get("j_cv"), d.cv),
        "bias_gap": {**_value(ints.get("bias_gap"), d.bias_gap), "threshold": d.bias_threshold,
                     "reads": d.bias_call},
        "variance_gap": {**_value(ints.get("variance_gap"), d.variance_gap), "threshold": d.variance_threshold,
                         "reads": d.variance_call},
    }
    if d.evidence == "intervals":
        evidence["examples_to_separate"] = d.examples_to_separate()
    actions = tuple(a for a in advice if a.action != A.SIMPLE_MODEL)
    return Finding(code, d.explain(), evidence, actions)


def _data_finding(lc) -> Finding | None:
    if lc is None or lc.law is None:
        return None
    law, m = lc.law, int(lc.sizes[-1])
    evidence = {"sizes": lc.sizes.tolist(), "j_cv": lc.j_cv.tolist(),
                "j_cv_intervals": [ci.as_list() for ci in lc.j_cv_intervals], "law": law.as_dict()}
    gain = law.gain(2)
    if law.more_data == "helps":
        at2, at10 = law.at(2 * m), law.at(10 * m)
        summary = (f"J_cv still falls beyond noise: {_g(lc.j_cv[-1])} at m={m}; the fitted law expects "
                   f"{_g(at2.estimate)} {_ci(at2)} at 2x the data and {_g(at10.estimate)} {_ci(at10)} at 10x.")
        return Finding("LL-DATA-HELPS", summary, evidence, (Advice(A.MORE_DATA, summary, 1),))
    if law.more_data == "unlikely to help":
        summary = (f"The learning curve is flat within noise: doubling the training set would lower J_cv by "
                   f"{_g(gain.estimate)} {_ci(gain)}, under a tenth of J_cv {_g(lc.j_cv[-1])}.")
        return Finding("LL-DATA-FLAT", summary, evidence, (Advice(A.HOLD_DATA, summary, 1),))
    drop = law.recent_drop()
    summary = (f"The learning curve cannot tell whether more data helps: the last doubling of the data lowered J_cv "
               f"by {_g(drop.estimate)} {_ci(drop)}, an interval that reaches no drop, and doubling it again could "
               f"save up to {_g(gain.high)}, more than a tenth of J_cv {_g(lc.j_cv[-1])}.")
    return Finding("LL-DATA-UNCLEAR", summary, evidence)


def _format(value) -> str:
    if isinstance(value, (tuple, list)):
        return "-".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _sweep_finding(vc, knob: str) -> Finding | None:
    """``knob`` is ``"LAMBDA"`` or ``"SIZE"``."""
    if vc is None or vc.effect is None:
        return None
    effect = vc.effect
    name = "lambda" if knob == "LAMBDA" else "network size"
    chosen, best = _format(vc.chosen_value), _format(vc.best_value)
    se = effect.standard_error
    rule = ("the largest lambda" if effect.simpler == "high" else
            "the smallest network" if knob == "SIZE" else "the simplest value")
    chose = (f"Chosen: {vc.name}={chosen} by the one-standard-error rule, {rule} whose J_cv is within one standard "
             f"error ({_g(se)}) of the lowest, {_g(vc.best_j_cv)} at {vc.name}={best}.")
    evidence = {"values": [_format(v) for v in vc.values], "j_cv": vc.j_cv.tolist(),
                "j_cv_intervals": [ci.as_list() for ci in vc.j_cv_intervals], **effect.as_dict(),
                "chosen_value": chosen, "best_value": best}
    spread = float(vc.j_cv.max() - vc.j_cv.min())
    if not effect.measurable:
        summary = (f"{name.capitalize()} has no measurable effect: J_cv spans {_g(float(vc.j_cv.min()))}-"
                   f"{_g(float(vc.j_cv.max()))} across the values tried ({_g(spread)}), within the noise of the cv "
                   f"set: no value's J_cv lies above the lowest by more than one standard error ({_g(se)}) with a "
                   f"simultaneous 95% interval wholly above 0. The sweep recommends nothing about {name}. {chose}")
        return Finding(f"LL-{knob}-NO-EFFECT", summary, evidence)
    worst = int(max(effect.worse, key=lambda i: effect.differences[i]))
    ci = effect.intervals[worst]
    differs = (f"{vc.name}={_format(vc.values[worst])} is {_g(effect.differences[worst])} {_ci(ci)} worse than the "
               f"best ({ci.level:.2%} simultaneous interval).")
    if knob == "LAMBDA":
        edge = vc.best_at_edge
        edge = None if edge == "low" and float(vc.best_value) <= 0 else edge
    else:
        edge = "high" if vc.best_index == len(vc.values) - 1 else ("low" if vc.best_index == 0 else None)
    if edge is not None:
        larger = edge == "high"
        if knob == "LAMBDA":
            action = A.INCREASE_LAMBDA if larger else A.DECREASE_LAMBDA
        else:
            action = A.BIGGER_NETWORK if larger else "try smaller networks"
        summary = (f"The lowest J_cv of the {name} sweep, {_g(vc.best_j_cv)}, is at the "
                   f"{'largest' if larger else 'smallest'} value tried ({vc.name}={best}), and {name} has a "
                   f"measurable effect: {differs} Extend the sweep {'upward' if larger else 'downward'}. {chose}")
        return Finding(f"LL-{knob}-EDGE", summary, evidence, (Advice(action, summary, 1),))
    summary = f"{name.capitalize()} has a measurable effect and is tuned: {differs} {chose}"
    return Finding(f"LL-{knob}-CHOSEN", summary, evidence)


def _test_finding(d: BiasVariance, test_losses) -> Finding | None:
    if test_losses is None or d.cv_losses is None:
        return None
    j_test = iv.mean_interval(test_losses, d.level)
    gap = iv.unpaired_difference(test_losses, d.cv_losses, d.level)
    evidence = {"j_test": _value(j_test), "j_cv": _value(d.intervals["j_cv"]), "j_test_minus_j_cv": _value(gap)}
    if gap.low <= 0:
        return None
    summary = (f"J_test {j_test} is {_g(gap.estimate)} {_ci(gap)} above J_cv {d.intervals['j_cv']}: the cv set's "
               f"choice looks optimistic, or the test set differs from it. Expect J_test, not J_cv, on new data.")
    return Finding("LL-TEST-WORSE", summary, evidence)


def fairness_findings(gaps: dict, features=None) -> list[Finding]:
    """LL-FAIRNESS-GAP per metric whose gap is beyond noise, else one LL-FAIRNESS-NOISE.

    Args:
        gaps: metric -> gap, as :meth:`FairnessReport.gaps` gives them or as their ``as_dict()``.
        features: the sensitive features' names, for the evidence.
    """
    rows = {m: (g.as_dict() if hasattr(g, "as_dict") else dict(g)) for m, g in gaps.items()}
    rows = {m: g for m, g in rows.items() if g.get("interval") is not None}
    if not rows:
        return []
    evidence = {"features": list(features or []), "gaps": rows}
    beyond = {m: g for m, g in rows.items() if not g["within_noise"]}
    if not beyond:
        shown = "; ".join(f"{m} {_g(g['difference'])} [{_g(g['interval'][0])}, {_g(g['interval'][1])}]"
                          for m, g in rows.items())
        return [Finding("LL-FAIRNESS-NOISE", f"Every gap between groups is within noise ({shown}; simultaneous "
                                             f"intervals reaching 0).", evidence)]
    out = []
    for metric, gap in beyond.items():
        high, low = gap["between"]
        summary = (f"{metric} differs between {high} and {low} by {_g(gap['difference'])} "
                   f"[{_g(gap['interval'][0])}, {_g(gap['interval'][1])}] ({gap['level']:.2%} simultaneous "
                   f"bootstrap interval), beyond noise.")
        worse = low if metric in ("accuracy", "tpr", "tnr") else high
        action = Advice(f"look at the errors of group {worse} and its share of the training data", summary, 1)
        out.append(Finding("LL-FAIRNESS-GAP", summary, {**evidence, "metric": metric}, (action,)))
    return out


def with_fairness(findings: list[dict], fairness: dict | None) -> list[dict]:
    """Findings as dicts, with the fairness audit's (from ``FairnessReport.to_dict()``) placed by severity after
    the first finding of the verdict."""
    if not fairness or "gaps" not in fairness:
        return list(findings)
    extra = [f.as_dict() for f in fairness_findings(fairness["gaps"], fairness.get("features"))]
    verdicts = {"LL-BIAS", "LL-VARIANCE", "LL-BIAS-VARIANCE", "LL-GOOD-FIT", "LL-CANT-TELL"}
    cut = next((i + 1 for i, f in enumerate(findings) if f["code"] in verdicts), 0)
    rest = findings[cut:] + extra
    rest.sort(key=lambda f: SEVERITIES.index(f["severity"]))
    return list(findings[:cut]) + rest


def find(diagnosis: BiasVariance, lambda_curve=None, size_curve=None, learning_curve=None, test_losses=None,
         n_features: int | None = None, fairness=None) -> list[Finding]:
    """The loop's findings, most important first.

    Args:
        diagnosis: :class:`BiasVariance` of the chosen model (with its per-example losses, the intervals decide).
        lambda_curve: the lambda :class:`~learnloop.diagnostics.curves.ValidationCurve`.
        size_curve: the network-size sweep (a ValidationCurve over architectures).
        learning_curve: the :class:`~learnloop.diagnostics.curves.LearningCurve` of the chosen model.
        test_losses: (m_test,) per-example losses of the chosen model on the test set.
        n_features: number of input features (for "fewer features").
        fairness: a :class:`~learnloop.diagnostics.fairness.FairnessReport`.

    Returns:
        A list of :class:`Finding`: LL-BASELINE-BETTER (or -TIE) when it holds, then the verdict, then the rest
        by severity.
    """
    advice = advise(diagnosis, learning_curve=learning_curve, validation_curve=lambda_curve, n_features=n_features,
                    size_curve=size_curve)
    head = [f for f in (_baseline_finding(diagnosis, advice), _verdict_finding(diagnosis, advice)) if f is not None]
    test = _test_finding(diagnosis, test_losses)
    rest = [f for f in (_data_finding(learning_curve), _sweep_finding(lambda_curve, "LAMBDA"),
                        _sweep_finding(size_curve, "SIZE"), test) if f is not None]
    if fairness is not None:
        rest += fairness_findings(fairness.gaps(), fairness.features)
    rest.sort(key=lambda f: SEVERITIES.index(f.severity))
    return head + rest


def actions(findings: list[Finding]) -> list[Advice]:
    """Every finding's actions in the findings' order, each action once, ranked 1, 2, 3..."""
    seen, out = set(), []
    for finding in findings:
        for a in finding.actions:
            if a.action not in seen:
                seen.add(a.action)
                out.append(Advice(a.action, a.reason, len(out) + 1))
    return out


def markdown() -> str:
    """The documentation page listing every code (docs/findings.md)."""
    lines = ["# Finding codes", "",
             "`learnloop run` and `learnloop.diagnostics.findings.find` report what they found as coded findings, "
             "most important first, in report.json's `findings` and at the top of report.html. Each finding has its "
             "code, a title, a severity, a summary with the numbers, its evidence (every interval as `[low, high]`) "
             "and its actions in order of expected payoff. Codes are stable: a code never changes meaning.", "",
             "This page is generated from the table in `src/learnloop/diagnostics/findings.py` (`python -c \"from "
             "learnloop.diagnostics.findings import markdown; print(markdown(), end='')\" > docs/findings.md`); a "
             "test checks that they agree.", "",
             "Intervals are 95%: Wilson for error rates, a percentile bootstrap over examples for other costs, "
             "paired (Bonett-Price, or a paired bootstrap) where the same examples are scored, Newcombe's hybrid "
             "score interval (or independent bootstraps) where they are not. See "
             "`src/learnloop/diagnostics/intervals.py`.", "",
             "| code | title | severity | reported when | suggests |", "|---|---|---|---|---|"]
    for c in CODES.values():
        lines.append(f"| `{c.code}` | {c.title} | {c.severity} | {c.when} | {c.suggests} |")
    return "\n".join(lines) + "\n"

