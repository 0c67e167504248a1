"""Model evaluation and selection (C2_W3 lab): choose a polynomial degree, then a network architecture, by J_cv.

    python examples/course_model_selection.py          # about a second
    python examples/course_model_selection.py --fast   # the same run (it is already fast; also LEARNLOOP_FAST=1)

Data: course/C2_W3/data_w3_ex1.csv (regression: 50 rows of x, y) and data_w3_ex2.csv (classification: 200 rows of
x1, x2, y) under ../shared/data beside the repository (or ``--data-dir``). The lab's recipe: split 60/20/20 with
``random_state=1``, fit on the training set, measure J = sum((yhat - y)^2) / 2m (or the fraction misclassified)
on the training and cross-validation sets, choose the lowest J_cv, and only then measure J_test of the chosen model.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial
from pathlib import Path

import _figures as figures
import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

import learnloop
from learnloop.data import Split, Splits, train_cv_test_split
from learnloop.diagnostics import mse_cost, select_model, validation_curve
from learnloop.layers import Dense
from learnloop.models import Sequential

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ARCHITECTURES = {"model_1": (25, 15), "model_2": (20, 12, 12, 20), "model_3": (32, 16, 8, 4, 12)}  # the lab's


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few-second run for CI (also LEARNLOOP_FAST=1)")
    figures.add_argument(parser)
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the shared data folder (default: %(default)s)")
    args = parser.parse_args(argv)
    args.fast = args.fast or os.environ.get("LEARNLOOP_FAST") == "1"
    return args


def polynomial(degree: int):
    """x -> [x, x^2, ..., x^degree], z-scored, then linear regression. x is z-scored before the powers too: x is
    about 3000, so x^10 is about 1e35 and the least-squares solve would lose the high degrees to rounding."""
    return make_pipeline(StandardScaler(), PolynomialFeatures(degree, include_bias=False), StandardScaler(),
                         LinearRegression())


def network(units: tuple[int, ...], loss, learning_rate: float) -> Sequential:
    """One of the lab's architectures: ReLU hidden layers, one linear output unit."""
    model = Sequential([Dense(u, activation="relu") for u in units] + [Dense(1, activation="linear")])
    model.compile(loss=loss, optimizer=learnloop.optimizers.Adam(learning_rate=learning_rate))
    return model


def scaled(splits: Splits) -> Splits:
    """Z-score every part with the training set's mean and standard deviation (the lab's StandardScaler)."""
    scaler = StandardScaler().fit(splits.train.x)
    return Splits(*(Split(scaler.transform(part.x), part.y, part.indices) for part in splits), seed=splits.seed)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = [args.data_dir / "course" / "C2_W3" / name for name in ("data_w3_ex1.csv", "data_w3_ex2.csv")]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"skipped: {missing[0]} not found (pass --data-dir to the shared data folder)")
        return 0
    start = time.perf_counter()

    # ---- Regression: the lab's split, and learnloop's named split that reproduces it --------------------------
    data = np.loadtxt(paths[0], delimiter=",")
    x, y = data[:, :1], data[:, 1:]
    x_train, x_, y_train, y_ = train_test_split(x, y, test_size=0.40, random_state=1)
    x_cv, x_test, y_cv, y_test = train_test_split(x_, y_, test_size=0.50, random_state=1)
    splits = train_cv_test_split(x, y, sizes=(0.6, 0.2, 0.2), seed=1)
    same = all(np.array_equal(a, b) for a, b in [(splits.train.x, x_train), (splits.cv.x, x_cv),
                                                 (splits.test.x, x_test)])
    print(f"{splits}; the same rows as the lab's two train_test_split calls: {same}")

    scaler_linear = StandardScaler()
    X_train_scaled = scaler_linear.fit_transform(x_train)
    linear_model = LinearRegression().fit(X_train_scaled, y_train)
    J_train = mse_cost(y_train, linear_model.predict(X_train_scaled))
    J_cv = mse_cost(y_cv, linear_model.predict(scaler_linear.transform(x_cv)))
    print(f"linear model: training MSE {J_train:.2f}, cross validation MSE {J_cv:.2f}")

    degrees = range(1, 11)
    vc = validation_curve(polynomial, degrees, splits, name="degree", kind="regression")
    print("degree  " + "".join(f"{d:>8d}" for d in degrees))
    print("J_train " + "".join(f"{j:>8.2f}" for j in vc.j_train))
    print("J_cv    " + "".join(f"{j:>8.2f}" for j in vc.j_cv))
    poly_test = mse_cost(splits.test.y, vc.best_model.predict(splits.test.x))
    print(f"Lowest CV MSE is found in the model with degree={vc.best_value}: training {vc.j_train[vc.best_index]:.2f}, "
          f"cv {vc.best_j_cv:.2f}, test {poly_test:.2f}")

    # ---- The same choice among neural networks, on the z-scored x ---------------------------------------------
    builders = {name: partial(network, units, "mse", 0.1) for name, units in ARCHITECTURES.items()}
    nn = select_model(builders, scaled(splits), seed=20, epochs=300, kind="regression")
    for name, j_train, j_cv in zip(nn.names, nn.j_train, nn.j_cv):
        print(f"{name}: Training MSE: {j_train:.2f}, CV MSE: {j_cv:.2f}")
    print(f"Selected Model: {nn.best_name}, Test MSE: {nn.j_test:.2f}")

    # ---- Classification: the same architectures, logits + from_logits=True, J = fraction misclassified --------
    data = np.loadtxt(paths[1], delimiter=",")
    bc_splits = train_cv_test_split(data[:, :-1], data[:, -1:], sizes=(0.6, 0.2, 0.2), seed=1)
    bce = learnloop.losses.BinaryCrossentropy(from_logits=True)
    builders = {name: partial(network, units, bce, 0.01) for name, units in ARCHITECTURES.items()}
    bc = select_model(builders, scaled(bc_splits), seed=20, epochs=200, kind="classification")
    for name, j_train, j_cv in zip(bc.names, bc.j_train, bc.j_cv):
        print(f"{name}: Training Set Classification Error: {j_train:.5f}, CV Set Classification Error: {j_cv:.5f}")
    print(f"Selected Model: {bc.best_name} (ties go to the smaller model), Test Set Classification Error: "
          f"{bc.j_test:.4f}")

    print(f"\nmodel selection: linear fit, expected training/cv MSE 406.19/551.78 as in the lab; "
          f"got {J_train:.2f}/{J_cv:.2f}")
    print(f"model selection: polynomial degree by J_cv, expected degree 4 (47.15/79.43, test 104.63); got degree "
          f"{vc.best_value} ({vc.j_train[vc.best_index]:.2f}/{vc.best_j_cv:.2f}, test {poly_test:.2f})")
    print(f"model selection: networks, expected the lab's model_3 (cv 62.73-88.51 over its runs, test 87.77); got "
          f"{nn.best_name} (cv {nn.best_j_cv:.2f}, test {nn.j_test:.2f}). A J_train of exactly 406.19 is the best "
          f"straight line: Adam(0.1) drove every ReLU on for all x (TensorFlow 2.21 often does the same)")
    print(f"model selection: classifiers, expected cv errors 0.150-0.175 and test 0.175; got cv "
          f"{bc.j_cv.min():.3f}-{bc.j_cv.max():.3f}, {bc.best_name}, test {bc.j_test:.3f}")
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.figures:
        args.figures.mkdir(parents=True, exist_ok=True)
        vc.plot(args.figures / "degree_curve.png")            # the curves draw themselves (learnloop.report.plots)
        nn.plot(args.figures / "network_selection.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
