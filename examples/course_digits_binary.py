"""Handwritten 0s and 1s (C2_W1 assignment): a 64-25-15-1 sigmoid network, then the same predictions in plain NumPy.

    python examples/course_digits_binary.py          # about a second
    python examples/course_digits_binary.py --fast   # the same run (it is already fast; also LEARNLOOP_FAST=1)

The assignment's 20x20 images (X.npy, 5000 x 400) are not available here, so this uses scikit-learn's bundled 8x8
digits (0 and 1 only: 360 images of 64 pixels, scaled from 0..16 to 0..1 like the course's images). A fifth of
them is held out to check the network on images it never saw. The model code is the assignment's with the imports
pointed at learnloop; the forward propagation is the notes' (``learnloop.reference``), run on the trained weights.
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
from learnloop.activations import sigmoid
from learnloop.data import train_test_split
from learnloop.layers import Dense
from learnloop.models import Sequential
from learnloop.reference import dense_loop, sequential


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few-second run for CI (also LEARNLOOP_FAST=1)")
    figures.add_argument(parser)
    args = parser.parse_args(argv)
    args.fast = args.fast or os.environ.get("LEARNLOOP_FAST") == "1"
    return args


def my_sequential(x, W1, b1, W2, b2, W3, b3):
    """The notes' three-layer forward propagation for one example, one unit at a time."""
    a1 = dense_loop(x, W1, b1, sigmoid)
    a2 = dense_loop(a1, W2, b2, sigmoid)
    a3 = dense_loop(a2, W3, b3, sigmoid)
    return a3


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    digits = load_digits()
    keep = digits.target <= 1
    X = digits.data[keep] / 16.0                    # (360, 64) pixels in 0..1
    y = digits.target[keep].reshape(-1, 1)          # (360, 1) labels 0 or 1
    print(f"The shape of X is: {X.shape}, the shape of y is: {y.shape}")
    train, test = train_test_split(X, y, test_size=0.2, stratify=True, seed=1)

    learnloop.utils.set_random_seed(1234)
    model = Sequential(
        [
            learnloop.Input(shape=(64,)),    # specify input size
            Dense(25, activation="sigmoid"),
            Dense(15, activation="sigmoid"),
            Dense(1, activation="sigmoid"),
        ], name="my_model"
    )
    model.summary()
    [layer1, layer2, layer3] = model.layers
    W1, b1 = layer1.get_weights()
    print(f"W1 shape = {W1.shape}, b1 shape = {b1.shape}")

    model.compile(
        loss=learnloop.losses.BinaryCrossentropy(),
        optimizer=learnloop.optimizers.Adam(0.001),
    )
    # The assignment's 20 epochs over 1000 images are ~600 Adam steps; 60 epochs over 288 images are about as many.
    model.fit(train.x, train.y, epochs=60, verbose=0)

    zero, one = X[y[:, 0] == 0][0], X[y[:, 0] == 1][0]
    prediction = model.predict(zero.reshape(1, 64), verbose=0)   # a zero
    print(f" predicting a zero: {prediction}   (the assignment: about 0.01)")
    prediction = model.predict(one.reshape(1, 64), verbose=0)    # a one
    print(f" predicting a one:  {prediction}   (the assignment: about 0.98)")

    # The same network in NumPy: first one example at a time, with a loop over the units of each layer...
    W1_tmp, b1_tmp = layer1.get_weights()
    W2_tmp, b2_tmp = layer2.get_weights()
    W3_tmp, b3_tmp = layer3.get_weights()
    weights = (W1_tmp, b1_tmp, W2_tmp, b2_tmp, W3_tmp, b3_tmp)
    print(f" NumPy loop, a zero: {my_sequential(zero, *weights)}  a one: {my_sequential(one, *weights)}")

    # ... then every example at once: A_out = g(A_in @ W + b) per layer.
    layers = [(W1_tmp, b1_tmp, sigmoid), (W2_tmp, b2_tmp, sigmoid), (W3_tmp, b3_tmp, sigmoid)]
    Prediction = sequential(test.x, layers)
    Yhat = (Prediction >= 0.5).astype(int)
    yhat_model = (model.predict(test.x, verbose=0) >= 0.5).astype(int)
    largest_gap = float(np.max(np.abs(Prediction - model.predict(test.x, verbose=0))))

    train_acc = float(np.mean((model.predict(train.x, verbose=0) >= 0.5) == train.y))
    test_acc = float(np.mean(Yhat == test.y))
    print(f"\ndigits 0/1: 64-25-15-1 sigmoid network, expected ~all right (the assignment's 20x20 digits: "
          f"~all 1000); got accuracy train {train_acc:.3f} ({train.m} images), test {test_acc:.3f} ({test.m})")
    print(f"digits 0/1: NumPy forward propagation on the trained weights, expected the model's predictions; "
          f"got {int(np.sum(Yhat == yhat_model))}/{test.m} the same decisions (largest probability gap "
          f"{largest_gap:.1e})")
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.figures:
        save_figures(args.figures, test.x, test.y[:, 0], Prediction[:, 0])
    return 0


def save_figures(folder, x, y, probability) -> None:
    """The first test images, each with its label and the network's probability that it is a one."""
    plt = figures.pyplot()
    fig, axes = plt.subplots(2, 8, figsize=(8, 2.6))
    for ax, image, label, p in zip(axes.ravel(), x, y, probability):
        ax.imshow(image.reshape(8, 8), cmap="gray_r")
        ax.set_title(f"{label}: {p:.2f}", fontsize=9, color="black" if (p >= 0.5) == label else "red")
        ax.set_axis_off()
    fig.suptitle("Test digits: label and predicted probability of a one")
    figures.save(fig, folder, "digits_binary_predictions")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
