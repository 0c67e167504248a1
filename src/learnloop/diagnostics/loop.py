"""The whole development loop on one data set, as the notes run it:

split -> baseline -> network size chosen by J_cv -> bias/variance verdict -> lambda curve -> learning curve ->
advice -> J_test of the chosen model (measured once, at the end).

Every J carries a 95% interval from the per-example losses the sweeps already computed (nothing is refitted for
it); network size and lambda are chosen by the one-standard-error rule (the simplest within one standard error
of the lowest J_cv); the verdict and the advice come from the intervals, as coded findings
(:mod:`learnloop.diagnostics.findings`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import numpy as np

from learnloop.data.splits import splits_from_parts, train_cv_test_split
from learnloop.diagnostics import findings as coded
from learnloop.diagnostics.baseline import baseline_losses
from learnloop.diagnostics.bias_variance import BASELINE_SOURCES, BiasVariance
from learnloop.diagnostics.curves import learning_curve, validation_curve
from learnloop.diagnostics.intervals import mean_interval
from learnloop.diagnostics.measures import check_kind, losses
from learnloop.errors import LearnloopError

SPLIT_SIZES = (0.6, 0.2, 0.2)      # train / cv / test, the course's split
FULL = {"architectures": [(8,), (32,), (64, 32), (128, 64)], "lambdas": [0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0],
        "sizes": [0.1, 0.2, 0.4, 0.7, 1.0], "epochs": 100}
QUICK = {"architectures": [(16,), (64, 32)], "lambdas": [0.0, 1.0, 10.0], "sizes": [0.25, 0.5, 1.0], "epochs": 30}


def network(units: tuple, lam: float, *, n_outputs: int, kind: str, mean: np.ndarray, variance: np.ndarray,
            m: int, flatten: bool, target_mean: float = 0.0, target_variance: float = 1.0,
            learning_rate: float = 0.001):
    """A ReLU network of hidden ``units`` with the course's L2 penalty ``lam / (2m)`` on every kernel.

    Inputs are standardized by a Normalization layer with the training set's statistics (and flattened first
    when they have more than one feature axis), so the model takes raw inputs. Outputs are logits for
    classification (one for two classes) and, for regression, the target in its own units.
    """
    from learnloop import layers, losses, models, optimizers, regularizers

    reg = regularizers.L2(lam / (2 * m)) if lam else None
    stack = [layers.Flatten()] if flatten else []
    stack.append(layers.Normalization(mean=mean, variance=variance))
    stack += [layers.Dense(int(u), activation="relu", kernel_regularizer=reg) for u in units]
    stack.append(layers.Dense(n_outputs, kernel_regularizer=reg))
    if kind == "regression":
        stack.append(layers.Normalization(mean=target_mean, variance=target_variance, invert=True))
        loss = losses.MeanSquaredError()
    elif n_outputs == 1:
        loss = losses.BinaryCrossentropy(from_logits=True)
    else:
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    model = models.Sequential(stack)
    model.compile(optimizer=optimizers.Adam(learning_rate), loss=loss)
    return model


def _arch_builder(net, lam: float):
    return partial(_with_lambda, net, lam=lam)


def _with_lambda(net, units, lam):
    return net(units, lam)


def _lambda_builder(net, units):
    return partial(net, units)


def _weights(n_in: int, units: tuple, n_out: int) -> int:
    """Number of weights of a Dense ladder rung: what "smaller network" means for the one-standard-error rule."""
    sizes = (n_in, *units, n_out)
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def diagnose(x, y, kind: str = "auto", baseline: float | None = None, seed: int = 0, quick: bool = False,
             n_jobs: int | None = None, architectures=None, lambdas=None, sizes=None, epochs: int | None = None,
             batch_size: int = 32, progress: Callable[[str], None] | None = None,
             baseline_source: str | None = None, parts: np.ndarray | None = None) -> dict:
    """Run the loop and return what it found.

    Args:
        x: (m, ...) features. y: (m,) labels (any values) or regression targets.
        kind: ``"classification"``, ``"regression"`` or ``"auto"`` (read from y).
        baseline: known error level (e.g. human-level); else a logistic/linear regression's held-out error.
        seed: the split, the initial weights and the batches.
        quick: a smaller ladder, fewer lambdas and epochs (a smoke run).
        n_jobs: parallel fits (``None``: 1 unless an enclosing ``joblib.parallel_backend`` says otherwise).
        architectures, lambdas, sizes, epochs: override the ladder of hidden-layer sizes, the course lambdas
            (penalty lambda / 2m), the learning-curve fractions and the epochs of every fit.
        batch_size: mini-batch size of every fit.
        progress: called with the name of each stage as it starts ("baseline", "architectures", ...).
        baseline_source: what a given ``baseline`` is: "human-level", "competing algorithm" or "given" (default);
            an estimated baseline is "simple model".
        parts: (m,) 0 / 1 / 2 for the rows of train / cv / test, when the split is already made (a sample of a
            larger table keeps the table's split, :mod:`learnloop.diagnostics.budget`); default: a seeded 60/20/20
            split, stratified for classification.

    Returns:
        ``{"results": JSON-able dict, "model": the chosen fitted model, "splits": the Splits, "curves":
        {"architecture", "lambda", "learning"}, "diagnosis": BiasVariance of the chosen model, "advice": list,
        "findings": list of coded findings, most important first}``.
        With classification the model predicts indices into ``results["classes"]``.
    """
    timings, start = {}, time.perf_counter()
    report = progress or (lambda stage: None)
    settings = dict(QUICK if quick else FULL)
    for key, value in (("architectures", architectures), ("lambdas", lambdas), ("sizes", sizes),
                       ("epochs", epochs)):
        if value is not None:
            settings[key] = value
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim < 2:
        raise LearnloopError(f"diagnose expects x of shape (m, features...); got shape {x.shape}.")
    y = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    kind = check_kind(kind, y)
    classes = None
    if kind == "classification":
        classes, y = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise LearnloopError(f"diagnose needs at least two classes; got only {classes.tolist()}.")
    if parts is None:
        splits = train_cv_test_split(x, y, sizes=SPLIT_SIZES, stratify=kind == "classification", seed=seed)
    else:
        splits = splits_from_parts(x, y, parts, seed)
    timings["split"] = time.perf_counter() - start

    t = time.perf_counter()
    report("baseline")
    held_out = None
    if baseline is None:
        held_out = baseline_losses(splits.train.x, splits.train.y, kind=kind, seed=seed)
        baseline, baseline_kind = float(held_out.mean()), "simple model"
        baseline_text = ("logistic regression" if kind == "classification" else "linear regression") + \
            ", 5-fold held-out error on the training set"
    else:
        baseline_kind = baseline_source or "given"
        if baseline_kind not in BASELINE_SOURCES or baseline_kind == "simple model":
            raise LearnloopError(f"diagnose baseline_source must be one of ['human-level', 'competing algorithm', "
                                 f"'given'] for a given baseline; got {baseline_source!r}.")
        baseline_text = BASELINE_SOURCES[baseline_kind]
    baseline = float(baseline)
    timings["baseline"] = time.perf_counter() - t

    flat = splits.train.x.reshape(splits.train.m, -1).astype(np.float64)
    variance = flat.var(axis=0)
    ty = splits.train.y.astype(np.float64)
    n_outputs = 1 if kind == "regression" or len(classes) == 2 else len(classes)
    net = partial(network, n_outputs=n_outputs, kind=kind, mean=flat.mean(axis=0),
                  variance=np.where(variance > 1e-12, variance, 1.0), m=splits.train.m, flatten=x.ndim > 2,
                  target_mean=float(ty.mean()) if kind == "regression" else 0.0,
                  target_variance=float(max(ty.var(), 1e-12)) if kind == "regression" else 1.0)
    common = {"kind": kind, "seed": seed, "epochs": int(settings["epochs"]), "n_jobs": n_jobs,
              "fit_kwargs": {"batch_size": batch_size}}

    def diagnosis(curve) -> BiasVariance:          # of the curve's chosen model, from its per-example losses
        i, given = curve.chosen_index, None if held_out is not None else baseline
        return BiasVariance.from_losses(curve.train_losses[i], curve.cv_losses[i], baseline=given,
                                        baseline_losses=held_out, baseline_source=baseline_kind)

    t = time.perf_counter()
    report("architectures")
    ladder = sorted((tuple(a) for a in settings["architectures"]), key=lambda a: _weights(flat.shape[1], a, n_outputs))
    arch = validation_curve(_arch_builder(net, 0.0), ladder, splits, name="architecture", keep_best=False,
                            simpler="first", **common)
    units = arch.chosen_value
    first = diagnosis(arch)
    timings["architecture"] = time.perf_counter() - t

    t = time.perf_counter()
    report("lambda")
    lam_curve = validation_curve(_lambda_builder(net, units), [float(v) for v in settings["lambdas"]], splits,
                                 name="lambda", **common)
    model, lam = lam_curve.chosen_model, float(lam_curve.chosen_value)
    timings["lambda"] = time.perf_counter() - t

    t = time.perf_counter()
    report("learning curve")
    lc = learning_curve(partial(net, units, lam), splits, sizes=settings["sizes"], baseline=baseline, **common)
    timings["learning_curve"] = time.perf_counter() - t

    test_losses = losses(model, splits.test.x, splits.test.y, kind)
    j_test = float(test_losses.mean())
    t = time.perf_counter()
    final = diagnosis(lam_curve)
    curves = {"architecture": arch, "lambda": lam_curve, "learning": lc}
    found, advice, concluded = conclude(final, curves, test_losses, flat.shape[1])
    timings["intervals_and_findings"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    results = {
        "kind": kind, "classes": None if classes is None else classes.tolist(), "m": int(len(y)),
        "split_sizes": dict(zip(splits.names, splits.sizes)),
        "baseline": {"value": baseline, "source": baseline_text, "kind": baseline_kind,
                     "interval": final.intervals["baseline"].as_list()},
        "architecture_curve": arch.as_dict(), "first_diagnosis": first.as_dict(),
        "lambda_curve": lam_curve.as_dict(), "learning_curve": lc.as_dict(),
        "chosen": {"architecture": list(units), "lambda": lam, "j_train": final.train, "j_cv": final.cv,
                   "j_test": j_test},
        **concluded,
        "settings": {**{k: v for k, v in settings.items() if k != "architectures"},
                     "architectures": [list(a) for a in settings["architectures"]], "batch_size": batch_size,
                     "seed": seed, "quick": quick},
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    results["architecture_curve"]["values"] = [list(v) for v in results["architecture_curve"]["values"]]
    results["architecture_curve"]["best_value"] = list(arch.best_value)
    results["architecture_curve"]["chosen_value"] = list(units)
    return {"results": results, "model": model, "splits": splits, "curves": curves, "diagnosis": final,
            "advice": advice, "findings": found}


def conclude(final: BiasVariance, curves: dict, test_losses: np.ndarray, n_features: int) -> tuple[list, list, dict]:
    """What follows from the chosen model's diagnosis: the coded findings, the advice, every interval.

    Args:
        final: :class:`BiasVariance` of the chosen model, with its per-example losses.
        curves: ``{"architecture", "lambda", "learning"}`` curves of the loop.
        test_losses: (m_test,) per-example losses of the chosen model on the test set.
        n_features: input features of the network.

    Returns:
        (findings, advice, the results' entries ``diagnosis``, ``advice``, ``findings``, ``intervals``,
        ``interval_methods``).
    """
    found = coded.find(final, lambda_curve=curves["lambda"], size_curve=curves["architecture"],
                       learning_curve=curves["learning"], test_losses=test_losses, n_features=n_features)
    advice = coded.actions(found)
    test_interval = mean_interval(test_losses)
    entries = {
        "diagnosis": final.as_dict(), "advice": [a.as_dict() for a in advice], "findings": [f.as_dict() for f in found],
        "intervals": {**{k: v.as_list() for k, v in final.intervals.items()}, "j_test": test_interval.as_list()},
        "interval_methods": {**{k: v.method for k, v in final.intervals.items()}, "j_test": test_interval.method},
    }
    return found, advice, entries
