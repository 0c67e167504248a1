"""Cases with known answers for the diagnosis, built from simulated per-example losses (cheap enough to repeat
over 20 seeds), and a checker that advice never contradicts the numbers it came from."""

from __future__ import annotations

import numpy as np

from learnloop.diagnostics import BiasVariance, LearningCurve, ValidationCurve
from learnloop.diagnostics import advisor as A

SEEDS = range(20)
LAMBDAS = np.array([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
SIZES = np.array([200, 400, 800, 1400, 2000])


def errors(rng, p: float, n: int) -> np.ndarray:
    """n independent 0/1 errors at rate p."""
    return (rng.random(n) < p).astype(float)


def shared_errors(rng, rates, n: int, shared: float = 0.8) -> np.ndarray:
    """(k, n) errors of k models on the same n examples: with probability ``shared`` an example's error comes
    from its own difficulty (the same for every model, as real models err on the same hard examples), else from a
    fresh draw; model j errs at rate ``rates[j]``."""
    rates = np.asarray(rates, dtype=float)
    difficulty = rng.random(n)
    own = rng.random((len(rates), n))
    common = rng.random((len(rates), n)) < shared
    return np.where(common, difficulty[None, :] < rates[:, None], own < rates[:, None]).astype(float)


def diagnosis(rng, baseline: float, train: float, cv: float, n_train: int, n_cv: int,
              source: str = "human-level") -> BiasVariance:
    """A given (human-level) baseline and simulated training and cv errors at the set rates."""
    return BiasVariance.from_losses(errors(rng, train, n_train), errors(rng, cv, n_cv), baseline=baseline,
                                    baseline_source=source)


def simple_model_diagnosis(rng, baseline: float, train: float, cv: float, n_train: int, n_cv: int) -> BiasVariance:
    """The baseline as a simple model's held-out errors on the same training examples (paired with J_train)."""
    pair = shared_errors(rng, [train, baseline], n_train, shared=0.6)
    return BiasVariance.from_losses(pair[0], errors(rng, cv, n_cv), baseline_losses=pair[1])


def lambda_sweep(rng, rates, n_cv: int = 400, n_train: int = 1200, regression: bool = False) -> ValidationCurve:
    """A lambda sweep whose models err at ``rates`` on the same cv examples (or, for regression, whose squared
    errors / 2 have those means)."""
    if regression:
        scale = np.sqrt(np.asarray(rates, dtype=float) * 2)
        z = rng.normal(size=n_cv)
        noise = rng.normal(size=(len(rates), n_cv))
        cv = (scale[:, None] * (0.9 * z[None, :] + np.sqrt(1 - 0.81) * noise)) ** 2 / 2
        train = (scale[:, None] * 0.8 * rng.normal(size=(len(rates), n_train))) ** 2 / 2
    else:
        cv = shared_errors(rng, rates, n_cv)
        train = shared_errors(rng, np.asarray(rates) * 0.5, n_train)
    return ValidationCurve("lambda", LAMBDAS[:len(rates)], train.mean(axis=1), cv.mean(axis=1),
                           int(np.argmin(cv.mean(axis=1))), kind="regression" if regression else "classification",
                           train_losses=train, cv_losses=cv)


def learning(rng, rates, n_cv: int = 400, shared: float = 0.8) -> LearningCurve:
    """A learning curve over ``SIZES`` whose cv errors fall (or not) at ``rates``."""
    cv = shared_errors(rng, rates, n_cv, shared)
    train = tuple(errors(rng, r * 0.5, int(m)) for r, m in zip(rates, SIZES))
    return LearningCurve(SIZES, np.array([t.mean() for t in train]), cv.mean(axis=1), train_losses=train,
                         cv_losses=cv)


def contradictions(advice, d: BiasVariance, lc=None, vc=None, n_features: int | None = None) -> list[str]:
    """Every way ``advice`` contradicts the numbers; empty when it does not."""
    actions = [a.action for a in advice]
    out = []
    if d.verdict == "can't tell" and actions and actions[0] not in (A.MEASURE_MORE, A.SIMPLE_MODEL):
        out.append(f"can't tell, yet the first advice is {actions[0]!r}")
    if d.verdict in ("good fit", "can't tell") and {A.BIGGER_NETWORK, A.INCREASE_LAMBDA} & set(actions):
        out.append(f"{d.verdict}, yet a bias or variance fix is advised")
    if lc is not None and lc.more_data == "unlikely to help" and A.MORE_DATA in actions:
        out.append("the learning curve says more data is unlikely to help, yet more data is advised")
    if lc is not None and lc.more_data == "helps" and A.HOLD_DATA in actions:
        out.append("J_cv still falls, yet holding off on data is advised")
    if vc is not None and vc.measurable_effect is False and {A.INCREASE_LAMBDA, A.DECREASE_LAMBDA} & set(actions):
        out.append("lambda has no measurable effect, yet a lambda change is advised")
    if vc is not None and vc.measurable_effect and vc.best_at_edge is None and \
            {A.INCREASE_LAMBDA, A.DECREASE_LAMBDA} & set(actions):
        out.append("lambda is tuned inside the range, yet a change is advised")
    m_train = d.n_train or (None if lc is None else int(lc.sizes[-1]))
    if n_features is not None and m_train and n_features <= 0.1 * m_train and A.FEWER_FEATURES in actions:
        out.append(f"{n_features} features for {m_train} examples, yet fewer features are advised")
    if d.high_bias and not d.high_variance and A.MORE_DATA in actions and (lc is None or lc.more_data != "helps"):
        out.append("high bias with no falling learning curve, yet more data is advised")
    if any("at least that much" in a.reason for a in advice):
        out.append("advice restates the lambda already chosen")
    return out
