"""Lambda sweep on the bundled digits: learnloop's validation_curve vs scikit-learn's over MLPClassifier(alpha).

Ten regularization values, one 64-25-15-10 ReLU network each, the same epochs, mini-batch size, Adam settings and
train/cv split on both sides; each side reports its wall time and the best J_cv (fraction of cv digits
misclassified). scikit-learn's alpha adds 0.5 * alpha * ||W||^2 / batch_size to each mini-batch's mean loss, so
learnloop gets ``L2(alpha / (2 * batch_size))`` on every kernel: the same objective.

    python benchmarks/bench_lambda_sweep.py [--epochs 200] [--batch-size 32] [--n-jobs 2] [--repeat 3]
        [--learnloop-n-jobs N] [--stack auto|off]

Each side's time is the best of ``--repeat`` runs, so worker processes are warm on both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from functools import partial

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import validation_curve as sk_validation_curve
from sklearn.neural_network import MLPClassifier

import learnloop as ll
from learnloop.data import train_cv_test_split
from learnloop.diagnostics import validation_curve

ALPHAS = [0.0, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
HIDDEN = (25, 15)


def network(alpha: float, batch_size: int) -> ll.models.Sequential:
    """64-25-15-10 with every kernel penalized like scikit-learn's alpha."""
    reg = ll.regularizers.L2(alpha / (2 * batch_size)) if alpha else None
    model = ll.models.Sequential([ll.layers.Dense(units, activation="relu", kernel_regularizer=reg)
                                  for units in HIDDEN] + [ll.layers.Dense(10, kernel_regularizer=reg)])
    model.compile(optimizer=ll.optimizers.Adam(0.001),
                  loss=ll.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def run_learnloop(splits, epochs: int, batch_size: int, n_jobs: int, stack) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    curve = validation_curve(partial(network, batch_size=batch_size), ALPHAS, splits, name="lambda",
                             epochs=epochs, fit_kwargs={"batch_size": batch_size}, n_jobs=n_jobs, stack=stack,
                             keep_best=False)
    return time.perf_counter() - start, curve.j_cv


def run_sklearn(splits, epochs: int, batch_size: int, n_jobs: int) -> tuple[float, np.ndarray]:
    x = np.concatenate([splits.train.x, splits.cv.x])
    y = np.concatenate([splits.train.y, splits.cv.y])
    m = splits.train.m
    folds = [(np.arange(m), np.arange(m, len(y)))]
    mlp = MLPClassifier(HIDDEN, solver="adam", learning_rate_init=0.001, batch_size=batch_size, max_iter=epochs,
                        tol=0.0, n_iter_no_change=epochs + 1, random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)     # max_iter reached: the fixed epoch budget
        _, cv_scores = sk_validation_curve(mlp, x, y, param_name="alpha", param_range=ALPHAS, cv=folds,
                                           scoring="accuracy", n_jobs=n_jobs)
    return time.perf_counter() - start, 1.0 - cv_scores[:, 0]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n-jobs", type=int, default=2, help="parallel fits on each side")
    parser.add_argument("--learnloop-n-jobs", type=int, default=None, help="override --n-jobs for learnloop")
    parser.add_argument("--repeat", type=int, default=3, help="best wall time of this many runs per side")
    parser.add_argument("--stack", choices=["auto", "off"], default="auto")
    args = parser.parse_args(argv)

    x, y = load_digits(return_X_y=True)
    splits = train_cv_test_split(x / 16.0, y, sizes=(0.6, 0.2, 0.2), stratify=True, seed=0)
    stack = "auto" if args.stack == "auto" else False
    ll_jobs = args.n_jobs if args.learnloop_n_jobs is None else args.learnloop_n_jobs
    runs_ll = [run_learnloop(splits, args.epochs, args.batch_size, ll_jobs, stack) for _ in range(args.repeat)]
    runs_sk = [run_sklearn(splits, args.epochs, args.batch_size, args.n_jobs) for _ in range(args.repeat)]
    t_ll, j_ll = min(runs_ll, key=lambda r: r[0])
    t_sk, j_sk = min(runs_sk, key=lambda r: r[0])
    result = {
        "epochs": args.epochs, "batch_size": args.batch_size, "sklearn_n_jobs": args.n_jobs,
        "learnloop_n_jobs": ll_jobs, "stack": args.stack, "load_average": [round(v, 2) for v in os.getloadavg()],
        "values": ALPHAS, "learnloop_seconds": round(t_ll, 3), "sklearn_seconds": round(t_sk, 3),
        "speedup": round(t_sk / t_ll, 2),
        "learnloop_best_j_cv": float(j_ll.min()), "learnloop_best_lambda": ALPHAS[int(j_ll.argmin())],
        "sklearn_best_j_cv": float(j_sk.min()), "sklearn_best_alpha": ALPHAS[int(j_sk.argmin())],
        "learnloop_j_cv": np.round(j_ll, 4).tolist(), "sklearn_j_cv": np.round(j_sk, 4).tolist(),
        "all_learnloop_seconds": [round(r[0], 3) for r in runs_ll],
        "all_sklearn_seconds": [round(r[0], 3) for r in runs_sk],
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
