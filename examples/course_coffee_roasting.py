"""Coffee roasting (C2_W1 lab): a 2-3-1 sigmoid network decides whether a roast is good from temperature and time.

    python examples/course_coffee_roasting.py          # the lab: 1000 copies of the 200 roasts, 10 epochs (~10 s)
    python examples/course_coffee_roasting.py --fast   # 100 copies (also: LEARNLOOP_FAST=1), ~1 s

Data: course/derived/C2_W1_coffee.npz under ../shared/data beside the repository (or ``--data-dir``): X (200, 2)
[temperature in Celsius, duration in minutes] and Y (200, 1), made by the lab's own recipe. The code below is the
lab's, with the imports pointed at learnloop (``tensorflow.keras.X`` -> ``learnloop.X``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import _figures as figures
import numpy as np

import learnloop
from learnloop.layers import Dense, Normalization
from learnloop.models import Sequential

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few-second run for CI (also LEARNLOOP_FAST=1)")
    figures.add_argument(parser)
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the shared data folder (default: %(default)s)")
    args = parser.parse_args(argv)
    args.fast = args.fast or os.environ.get("LEARNLOOP_FAST") == "1"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = args.data_dir / "course" / "derived" / "C2_W1_coffee.npz"
    if not path.is_file():
        print(f"skipped: {path} not found (pass --data-dir to the shared data folder)")
        return 0
    start = time.perf_counter()
    data = np.load(path)
    X, Y = data["X"], data["Y"]
    print(X.shape, Y.shape)
    print(f"Temperature Max, Min pre normalization: {np.max(X[:,0]):0.2f}, {np.min(X[:,0]):0.2f}")
    print(f"Duration    Max, Min pre normalization: {np.max(X[:,1]):0.2f}, {np.min(X[:,1]):0.2f}")

    # Normalize: the layer learns each feature's mean and variance from the data.
    norm_l = Normalization(axis=-1)
    norm_l.adapt(X)
    Xn = norm_l(X)
    print(f"Temperature Max, Min post normalization: {np.max(Xn[:,0]):0.2f}, {np.min(Xn[:,0]):0.2f}")
    print(f"Duration    Max, Min post normalization: {np.max(Xn[:,1]):0.2f}, {np.min(Xn[:,1]):0.2f}")

    # Copy the data to make the training set larger, so fewer epochs are needed.
    copies = 100 if args.fast else 1000
    Xt = np.tile(Xn, (copies, 1))
    Yt = np.tile(Y, (copies, 1))
    print(Xt.shape, Yt.shape)

    learnloop.utils.set_random_seed(1234)  # applied to achieve consistent results
    model = Sequential(
        [
            learnloop.Input(shape=(2,)),
            Dense(3, activation="sigmoid", name="layer1"),
            Dense(1, activation="sigmoid", name="layer2"),
        ]
    )
    model.summary()

    model.compile(
        loss=learnloop.losses.BinaryCrossentropy(),
        optimizer=learnloop.optimizers.Adam(learning_rate=0.01),
    )
    model.fit(Xt, Yt, epochs=10, verbose=0 if args.fast else "auto")

    # The trained weights: one column of W per neuron, as in the notes.
    W1, b1 = model.get_layer("layer1").get_weights()
    W2, b2 = model.get_layer("layer2").get_weights()
    print(f"W1{W1.shape}:\n", W1, f"\nb1{b1.shape}:", b1)
    print(f"W2{W2.shape}:\n", W2, f"\nb2{b2.shape}:", b2)

    X_test = np.array([
        [200, 13.9],  # positive example
        [200, 17]])   # negative example
    X_testn = norm_l(X_test)
    predictions = model.predict(X_testn, verbose=0)
    print("predictions = \n", predictions)
    yhat = (predictions >= 0.5).astype(int)
    print(f"decisions = \n{yhat}")

    accuracy = float(np.mean((model.predict(Xn, verbose=0) >= 0.5) == Y))
    print(f"\ncoffee roasting: decisions on [[200,13.9],[200,17]]: expected [1, 0] as in the lab; "
          f"got {yhat.ravel().tolist()}")
    expected = "~0.9 after 1/10 of the lab's training (--fast)" if args.fast else "~all 200 roasts right"
    print(f"coffee roasting: 2-3-1 sigmoid network, expected {expected}; "
          f"got accuracy {accuracy:.2f} ({round(accuracy * len(Y))}/{len(Y)})")
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.figures:
        save_figures(args.figures, X, Y, lambda x: model.predict(norm_l(x), verbose=0))
    return 0


def save_figures(folder: Path, X, Y, probability) -> None:
    """The roasts, good and bad, and where the network puts its 0.5 boundary."""
    plt = figures.pyplot()
    temperature, duration = np.meshgrid(np.linspace(150, 290, 200), np.linspace(11.3, 15.7, 200))
    grid = np.column_stack([temperature.ravel(), duration.ravel()])
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.contourf(temperature, duration, probability(grid).reshape(temperature.shape), levels=[0, 0.5, 1],
                colors=["#f4d6d6", "#d6ecd6"])
    good = Y[:, 0] == 1
    ax.scatter(X[good, 0], X[good, 1], marker="x", color="green", label="good roast")
    ax.scatter(X[~good, 0], X[~good, 1], marker="o", facecolors="none", edgecolors="red", label="bad roast")
    ax.set_xlabel("temperature (Celsius)")
    ax.set_ylabel("duration (minutes)")
    ax.set_title("Coffee roasting: the network's decision (green: predicted good)")
    ax.legend(loc="upper right")
    figures.save(fig, folder, "coffee_decision")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
