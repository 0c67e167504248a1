"""Ranking of the notes' fixes by the diagnosis and the curves."""

from __future__ import annotations

import numpy as np

from learnloop.diagnostics import Advice, BiasVariance, LearningCurve, ValidationCurve, advise
from learnloop.diagnostics import advisor as A

HIGH_VARIANCE = BiasVariance(baseline=0.106, train=0.108, cv=0.148)
HIGH_BIAS = BiasVariance(baseline=0.106, train=0.15, cv=0.155)
BOTH = BiasVariance(baseline=0.106, train=0.15, cv=0.197)


def _lc(j_cv):
    sizes = np.array([100, 200, 400, 800])
    return LearningCurve(sizes=sizes, j_train=np.array([0.05, 0.08, 0.1, 0.108]), j_cv=np.array(j_cv))


def _vc(name, values, j_cv):
    j_cv = np.array(j_cv)
    return ValidationCurve(name=name, values=np.array(values), j_train=j_cv - 0.03, j_cv=j_cv,
                           best_index=int(np.argmin(j_cv)))


def _actions(advice):
    return [a.action for a in advice]


def test_high_variance_offers_the_notes_three_fixes_ranked_1_to_n():
    advice = advise(HIGH_VARIANCE)
    assert set(_actions(advice)) == {A.MORE_DATA, A.FEWER_FEATURES, A.INCREASE_LAMBDA}
    assert [a.priority for a in advice] == [1, 2, 3]
    assert all(isinstance(a, Advice) and "0.148" in a.reason for a in advice)


def test_a_still_falling_learning_curve_puts_more_data_first():
    advice = advise(HIGH_VARIANCE, learning_curve=_lc([0.30, 0.22, 0.18, 0.148]))
    assert advice[0].action == A.MORE_DATA and "0.18" in advice[0].reason
    flat = advise(HIGH_VARIANCE, learning_curve=_lc([0.2, 0.15, 0.148, 0.148]))
    assert flat[-1].action == A.MORE_DATA and "flattened" in flat[-1].reason


def test_a_lambda_sweep_best_at_its_largest_value_puts_increase_lambda_first():
    vc = _vc("lambda", [0.0, 0.01, 0.1, 1.0], [0.2, 0.18, 0.16, 0.148])
    advice = advise(HIGH_VARIANCE, learning_curve=_lc([0.30, 0.22, 0.18, 0.148]), validation_curve=vc)
    assert _actions(advice)[:2] == [A.INCREASE_LAMBDA, A.MORE_DATA]
    assert "lambda=1" in advice[0].reason


def test_high_bias_offers_the_bias_fixes_bigger_network_first():
    advice = advise(HIGH_BIAS)
    assert _actions(advice)[0] == A.BIGGER_NETWORK
    assert {A.POLYNOMIAL, A.ADD_FEATURES, A.DECREASE_LAMBDA} <= set(_actions(advice))
    assert A.MORE_DATA not in _actions(advice)
    assert _actions(advice)[-1] == A.HOLD_DATA


def test_high_bias_with_sweeps_at_their_edges():
    lam = _vc("lambda", [0.01, 0.1, 1.0], [0.155, 0.17, 0.2])
    assert advise(HIGH_BIAS, validation_curve=lam)[0].action == A.DECREASE_LAMBDA
    degree = _vc("degree", [1, 2, 3], [0.2, 0.18, 0.155])
    assert advise(HIGH_BIAS, validation_curve=degree)[0].action == A.POLYNOMIAL
    units = _vc("units", [4, 8, 16], [0.2, 0.18, 0.155])
    assert advise(HIGH_BIAS, validation_curve=units)[0].action == A.BIGGER_NETWORK
    assert "go bigger" in advise(HIGH_BIAS, validation_curve=units)[0].reason


def test_both_puts_bias_fixes_before_variance_fixes_on_ties():
    actions = _actions(advise(BOTH))
    assert actions[0] == A.BIGGER_NETWORK
    assert actions.index(A.POLYNOMIAL) < actions.index(A.MORE_DATA)
    assert A.INCREASE_LAMBDA in actions and A.HOLD_DATA not in actions


def test_good_fit_says_keep_it():
    advice = advise(BiasVariance(0.106, 0.11, 0.115))
    assert len(advice) == 1 and advice[0].action == A.KEEP and advice[0].priority == 1


def test_decrease_lambda_sinks_when_the_best_lambda_is_already_zero():
    lam = _vc("lambda", [0.0, 0.1, 1.0], [0.155, 0.17, 0.2])
    advice = advise(HIGH_BIAS, validation_curve=lam)
    decrease = next(a for a in advice if a.action == A.DECREASE_LAMBDA)
    assert decrease.priority == len(advice) and "no regularization" in decrease.reason


def test_high_variance_with_lambda_zero_best_does_not_push_regularization():
    import numpy as np

    from learnloop.diagnostics import BiasVariance, advise
    from learnloop.diagnostics.curves import ValidationCurve

    vc = ValidationCurve("lambda", np.array([0.0, 0.1, 1.0]), np.array([0.0, 0.01, 0.05]),
                         np.array([0.03, 0.04, 0.06]), best_index=0)
    advice = advise(BiasVariance(baseline=0.02, train=0.0, cv=0.03), validation_curve=vc)
    lam = next(a for a in advice if "lambda" in a.action)
    assert "made it worse" in lam.reason and "at least" not in lam.reason
    assert advice[0] is not lam
