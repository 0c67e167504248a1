"""Heartbeats (UCR ECG200): a small Conv1D network against a Dense network of about the same size.

    python examples/ecg_conv1d.py          # each network trained from 5 seeds (a few seconds)
    python examples/ecg_conv1d.py --fast   # one seed each (also LEARNLOOP_FAST=1)

Data: ecg/ECG200_TRAIN.txt and ECG200_TEST.txt under ../shared/data beside the repository (or ``--data-dir``): 100
training and 100 test heartbeats of 96 samples each, already z-normalized per series; label 1 is normal, -1 is
abnormal (myocardial infarction). A convolution slides the same few weights along the signal, so it looks for a
shape wherever in the beat it occurs; a Dense layer gives every time step its own weight. With 100 training
examples, the test accuracy of one run moves by a few points from seed to seed, so both are trained from several
seeds and compared by their mean, next to the archive's reference: 1-nearest-neighbour (Euclidean) at 0.88.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import _figures as figures
import numpy as np
from sklearn.neighbors import KNeighborsClassifier

import learnloop
from learnloop.layers import Conv1D, Dense, Flatten, MaxPooling1D
from learnloop.models import Sequential

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
STEPS = 96


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few-second run for CI (also LEARNLOOP_FAST=1)")
    figures.add_argument(parser)
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the shared data folder (default: %(default)s)")
    args = parser.parse_args(argv)
    args.fast = args.fast or os.environ.get("LEARNLOOP_FAST") == "1"
    return args


def read_ucr(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """UCR format: one series per line, the label first. Returns x (m, 96, 1) and y (m,) with 1 = normal."""
    table = np.loadtxt(path)
    return table[:, 1:].reshape(-1, STEPS, 1), (table[:, 0] == 1).astype(np.float32)


def conv_network() -> Sequential:
    """8 filters of width 5, pool 4, 16 filters of width 5, pool 4: 801 weights."""
    return Sequential([
        learnloop.Input(shape=(STEPS, 1)),
        Conv1D(8, kernel_size=5, padding="same", activation="relu"),
        MaxPooling1D(pool_size=4),
        Conv1D(16, kernel_size=5, padding="same", activation="relu"),
        MaxPooling1D(pool_size=4),
        Flatten(),
        Dense(1, activation="linear"),
    ], name="conv_net")


def dense_network() -> Sequential:
    """8 ReLU units on the 96 raw samples: 785 weights."""
    return Sequential([
        learnloop.Input(shape=(STEPS, 1)),
        Flatten(),
        Dense(8, activation="relu"),
        Dense(1, activation="linear"),
    ], name="dense_net")


def test_accuracy(build, seed: int, x_train, y_train, x_test, y_test) -> tuple[float, int]:
    """Train one network from one seed; the output is a logit, so a beat is normal when it is >= 0."""
    learnloop.utils.set_random_seed(seed)
    model = build()
    model.compile(loss=learnloop.losses.BinaryCrossentropy(from_logits=True),
                  optimizer=learnloop.optimizers.Adam(learning_rate=0.003))
    model.fit(x_train, y_train, epochs=100, batch_size=16, verbose=0)
    yhat = (model.predict(x_test, verbose=0)[:, 0] >= 0).astype(np.float32)
    return float(np.mean(yhat == y_test)), model.count_params()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = args.data_dir / "ecg"
    paths = [folder / "ECG200_TRAIN.txt", folder / "ECG200_TEST.txt"]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"skipped: {missing[0]} not found (pass --data-dir to the shared data folder)")
        return 0
    start = time.perf_counter()
    x_train, y_train = read_ucr(paths[0])
    x_test, y_test = read_ucr(paths[1])
    print(f"ECG200: train {x_train.shape}, test {x_test.shape}; normal beats: {int(y_train.sum())}/{len(y_train)} "
          f"train, {int(y_test.sum())}/{len(y_test)} test")
    conv_network().summary()

    seeds = range(1) if args.fast else range(5)
    results = {}
    for build in (conv_network, dense_network):
        runs = [test_accuracy(build, seed, x_train, y_train, x_test, y_test) for seed in seeds]
        accuracies = np.array([acc for acc, _ in runs])
        results[build().name] = (accuracies, runs[0][1])
        print(f"{build().name:>9}: {runs[0][1]} weights, test accuracy per seed {accuracies.tolist()}")

    knn = KNeighborsClassifier(n_neighbors=1).fit(x_train[:, :, 0], y_train)
    knn_accuracy = float(knn.score(x_test[:, :, 0], y_test))
    (conv_acc, conv_n), (dense_acc, dense_n) = results["conv_net"], results["dense_net"]
    print(f"\necg conv1d: 1-nearest-neighbour baseline, expected 0.88 (the UCR archive's figure); "
          f"got {knn_accuracy:.2f}")
    print(f"ecg conv1d: Conv1D ({conv_n} weights), expected about the baseline (~0.85-0.90); got mean test accuracy "
          f"{conv_acc.mean():.3f} over {len(conv_acc)} seed(s)")
    print(f"ecg conv1d: Dense ({dense_n} weights), expected no better than the Conv1D of the same size; "
          f"got "
          f"{dense_acc.mean():.3f} over {len(dense_acc)} seed(s)")
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.figures:
        save_figures(args.figures, x_train[:, :, 0], y_train)
    return 0


def save_figures(folder: Path, x, y) -> None:
    """Ten heartbeats of each class: what the convolution filters slide over."""
    plt = figures.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True)
    for ax, label, name in ((axes[0], 1, "normal"), (axes[1], 0, "abnormal")):
        ax.plot(x[y == label][:10].T, color="tab:blue" if label else "tab:red", alpha=0.6, linewidth=1)
        ax.set_title(f"ECG200: {name} beats")
        ax.set_xlabel("time step")
    figures.save(fig, folder, "ecg_beats")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
