"""Digits 0-9 with the development loop (C2_W2 assignment + week 3): train, measure J_train/J_cv, diagnose, advise.

    python examples/course_digits_loop.py          # a few seconds
    python examples/course_digits_loop.py --fast   # fewer points on the curves (also LEARNLOOP_FAST=1)

The assignment's 20x20 images are not available here, so this uses scikit-learn's bundled 8x8 digits (1797 images,
pixels scaled to 0..1). The network is the assignment's (25 ReLU, 15 ReLU, 10 linear outputs with
``from_logits=True``); around it runs the week-3 loop: split 60/20/20 into train/cv/test, measure the fraction
misclassified on each, compare with a baseline, read bias/variance, and ask what to try next. J_test is measured
once, at the end, for the model that was chosen.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import _figures as figures
import numpy as np
from sklearn.datasets import load_digits

import learnloop
from learnloop.data import train_cv_test_split
from learnloop.diagnostics import (
    BiasVariance,
    advise,
    classification_error,
    estimate_baseline,
    learning_curve,
    validation_curve,
)
from learnloop.layers import Dense
from learnloop.models import Sequential
from learnloop.regularizers import L2

EPOCHS = 100


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few-second run for CI (also LEARNLOOP_FAST=1)")
    figures.add_argument(parser)
    args = parser.parse_args(argv)
    args.fast = args.fast or os.environ.get("LEARNLOOP_FAST") == "1"
    return args


def build(lambda_: float = 0.0) -> Sequential:
    """The assignment's network, with an optional L2 penalty lambda on every kernel."""
    reg = L2(lambda_) if lambda_ else None
    model = Sequential(
        [
            learnloop.Input(shape=(64,)),
            Dense(25, activation="relu", kernel_regularizer=reg, name="L1"),
            Dense(15, activation="relu", kernel_regularizer=reg, name="L2"),
            Dense(10, activation="linear", kernel_regularizer=reg, name="L3"),
        ], name="my_model"
    )
    model.compile(
        loss=learnloop.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=learnloop.optimizers.Adam(learning_rate=0.001),
    )
    return model


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    splits = train_cv_test_split(X, y, sizes=(0.6, 0.2, 0.2), stratify=True, seed=1)
    print(f"digits: {len(y)} images of 8x8 pixels; {splits}")

    # 1. Fit the parameters on the training set only.
    learnloop.utils.set_random_seed(1234)
    model = build()
    model.fit(splits.train.x, splits.train.y, epochs=EPOCHS, verbose=0)

    # 2. J_train and J_cv: the fraction misclassified (argmax of the logits is the predicted digit).
    J_train = classification_error(splits.train.y, model.predict(splits.train.x, verbose=0))
    J_cv = classification_error(splits.cv.y, model.predict(splits.cv.x, verbose=0))
    print(f"J_train = {J_train:.4f}   J_cv = {J_cv:.4f}")

    # 3. A baseline to read them against: here a competing algorithm (logistic regression, 5 folds of the training
    #    set), since no human-level error is known for these 8x8 images.
    baseline = estimate_baseline(splits.train.x, splits.train.y)
    diagnosis = BiasVariance(baseline=baseline, train=J_train, cv=J_cv, atol=1 / splits.cv.m)
    print(f"baseline = {baseline:.4f}\n{diagnosis.explain()}")

    # 4. More evidence: a learning curve (J vs m) and a lambda sweep, both chosen by J_cv only.
    sizes = (0.5, 1.0) if args.fast else None
    lambdas = (0.0, 0.001) if args.fast else (0.0, 0.0001, 0.0003, 0.001, 0.003)
    lc = learning_curve(build, splits, sizes=sizes, epochs=EPOCHS)
    vc = validation_curve(build, lambdas, splits, name="lambda", epochs=EPOCHS)
    print("\nlearning curve:  m      " + "".join(f"{m:>8d}" for m in lc.sizes))
    print("                 J_train" + "".join(f"{j:>8.4f}" for j in lc.j_train))
    print("                 J_cv   " + "".join(f"{j:>8.4f}" for j in lc.j_cv))
    print("lambda sweep:    lambda " + "".join(f"{v:>8g}" for v in vc.values))
    print("                 J_train" + "".join(f"{j:>8.4f}" for j in vc.j_train))
    print("                 J_cv   " + "".join(f"{j:>8.4f}" for j in vc.j_cv))

    print("\nwhat to try next:")
    for advice in advise(diagnosis, learning_curve=lc, validation_curve=vc, n_features=X.shape[1]):
        print(f"  {advice.priority}. {advice.action}: {advice.reason}")

    # 5. The chosen model (the lambda with the lowest J_cv), measured on the test set once.
    chosen = vc.best_model
    J_test = classification_error(splits.test.y, chosen.predict(splits.test.x, verbose=0))
    wrong = int(round(J_test * splits.test.m))
    print(f"\nchosen lambda = {vc.best_value:g} (J_cv {vc.best_j_cv:.4f}); J_test = {J_test:.4f} "
          f"({wrong} of {splits.test.m} test digits wrong)")

    print(f"\ndigits loop: 64-25-15-10 network, expected J_train near 0 and J_cv a few points higher (high variance "
          f"on 1078 training images); got J_train {J_train:.3f}, J_cv {J_cv:.3f}: {diagnosis.verdict}")
    first = advise(diagnosis, learning_curve=lc, validation_curve=vc, n_features=X.shape[1])[0]
    print(f"digits loop: expected the notes' fixes for high variance (more data, larger lambda) first; "
          f"got '{first.action}'; J_test {J_test:.3f}")
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.figures:
        args.figures.mkdir(parents=True, exist_ok=True)
        lc.plot(args.figures / "learning_curve.png")          # the curves draw themselves (learnloop.report.plots)
        vc.plot(args.figures / "lambda_curve.png")
    return 0


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    sys.exit(main(sys.argv[1:]))
