"""The whole development loop on one data set, as the notes run it:

split -> baseline -> network size chosen by J_cv -> bias/variance verdict -> lambda curve -> learning curve ->
advice -> J_test of the chosen model (measured once, at the end).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import numpy as np

from learnloop.data.splits import train_cv_test_split
from learnloop.diagnostics.advisor import advise
from learnloop.diagnostics.bias_variance import BiasVariance, estimate_baseline
from learnloop.diagnostics.curves import learning_curve, validation_curve
from learnloop.diagnostics.measures import check_kind, cost
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


def diagnose(x, y, kind: str = "auto", baseline: float | None = None, seed: int = 0, quick: bool = False,
             n_jobs: int | None = None, architectures=None, lambdas=None, sizes=None, epochs: int | None = None,
             batch_size: int = 32, progress: Callable[[str], None] | None = None) -> dict:
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

    Returns:
        ``{"results": JSON-able dict, "model": the chosen fitted model, "splits": the Splits, "curves":
        {"architecture", "lambda", "learning"}, "diagnosis": BiasVariance of the chosen model, "advice": list}``.
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
    splits = train_cv_test_split(x, y, sizes=SPLIT_SIZES, stratify=kind == "classification", seed=seed)
    timings["split"] = time.perf_counter() - start

    t = time.perf_counter()
    report("baseline")
    baseline_source = "given"
    if baseline is None:
        baseline = estimate_baseline(splits.train.x, splits.train.y, kind=kind, seed=seed)
        baseline_source = ("logistic regression" if kind == "classification" else "linear regression") + \
            ", 5-fold held-out error on the training set"
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
    atol = 1.0 / splits.cv.m if kind == "classification" else 0.0

    t = time.perf_counter()
    report("architectures")
    arch = validation_curve(_arch_builder(net, 0.0), [tuple(a) for a in settings["architectures"]], splits,
                            name="architecture", keep_best=False, **common)
    units = arch.best_value
    first = BiasVariance(baseline, arch.j_train[arch.best_index], arch.best_j_cv, atol=atol)
    timings["architecture"] = time.perf_counter() - t

    t = time.perf_counter()
    report("lambda")
    lam_curve = validation_curve(_lambda_builder(net, units), [float(v) for v in settings["lambdas"]], splits,
                                 name="lambda", **common)
    model, lam = lam_curve.best_model, float(lam_curve.best_value)
    timings["lambda"] = time.perf_counter() - t

    t = time.perf_counter()
    report("learning curve")
    lc = learning_curve(partial(net, units, lam), splits, sizes=settings["sizes"], baseline=baseline, **common)
    timings["learning_curve"] = time.perf_counter() - t

    final = BiasVariance(baseline, lam_curve.j_train[lam_curve.best_index], lam_curve.best_j_cv, atol=atol)
    advice = advise(final, learning_curve=lc, validation_curve=lam_curve)
    j_test = cost(model, splits.test.x, splits.test.y, kind)
    timings["total"] = time.perf_counter() - start
    results = {
        "kind": kind, "classes": None if classes is None else classes.tolist(), "m": int(len(y)),
        "split_sizes": dict(zip(splits.names, splits.sizes)),
        "baseline": {"value": baseline, "source": baseline_source},
        "architecture_curve": arch.as_dict(), "first_diagnosis": first.as_dict(),
        "lambda_curve": lam_curve.as_dict(), "learning_curve": lc.as_dict(),
        "chosen": {"architecture": list(units), "lambda": lam, "j_train": final.train, "j_cv": final.cv,
                   "j_test": j_test},
        "diagnosis": final.as_dict(), "advice": [a.as_dict() for a in advice],
        "settings": {**{k: v for k, v in settings.items() if k != "architectures"},
                     "architectures": [list(a) for a in settings["architectures"]], "batch_size": batch_size,
                     "seed": seed, "quick": quick},
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    results["architecture_curve"]["values"] = [list(v) for v in results["architecture_curve"]["values"]]
    results["architecture_curve"]["best_value"] = list(units)
    return {"results": results, "model": model, "splits": splits,
            "curves": {"architecture": arch, "lambda": lam_curve, "learning": lc}, "diagnosis": final,
            "advice": advice}
