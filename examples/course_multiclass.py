"""Softmax and multiclass (C2_W2 labs): a softmax output layer vs the preferred linear output with from_logits=True.

    python examples/course_multiclass.py          # both labs, about a second
    python examples/course_multiclass.py --fast   # the same run (it is already fast; also LEARNLOOP_FAST=1)

Data: course/derived/C2_W2_softmax_blobs2000.npz and C2_W2_multiclass_blobs100.npz under ../shared/data beside the
repository (or ``--data-dir``): the labs' make_blobs sets, four clusters in the plane. The code is the labs' with
the imports pointed at learnloop (``tf.nn.softmax`` -> ``learnloop.activations.softmax``).
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
from learnloop.layers import Dense
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
    folder = args.data_dir / "course" / "derived"
    paths = [folder / "C2_W2_softmax_blobs2000.npz", folder / "C2_W2_multiclass_blobs100.npz"]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"skipped: {missing[0]} not found (pass --data-dir to the shared data folder)")
        return 0
    start = time.perf_counter()

    # ---- C2_W2_SoftMax: the "obvious" softmax output, then the preferred one ---------------------------------
    data = np.load(paths[0])
    X_train, y_train = data["X"], data["y"]
    learnloop.utils.set_random_seed(1234)
    model = Sequential(
        [
            Dense(25, activation="relu"),
            Dense(15, activation="relu"),
            Dense(4, activation="softmax"),    # < softmax activation here
        ]
    )
    model.compile(
        loss=learnloop.losses.SparseCategoricalCrossentropy(),
        optimizer=learnloop.optimizers.Adam(0.001),
    )
    model.fit(X_train, y_train, epochs=10, verbose=0)
    p_nonpreferred = model.predict(X_train, verbose=0)
    print(p_nonpreferred[:2])
    print("largest value", np.max(p_nonpreferred), "smallest value", np.min(p_nonpreferred))

    preferred_model = Sequential(
        [
            Dense(25, activation="relu"),
            Dense(15, activation="relu"),
            Dense(4, activation="linear"),     # <-- Note
        ]
    )
    preferred_model.compile(
        loss=learnloop.losses.SparseCategoricalCrossentropy(from_logits=True),  # <-- Note
        optimizer=learnloop.optimizers.Adam(0.001),
    )
    preferred_model.fit(X_train, y_train, epochs=10, verbose=0)
    p_preferred = preferred_model.predict(X_train, verbose=0)
    print(f"two example output vectors:\n {p_preferred[:2]}")
    print("largest value", np.max(p_preferred), "smallest value", np.min(p_preferred))

    # The outputs are logits (z), not probabilities: softmax turns them into probabilities.
    sm_preferred = learnloop.activations.softmax(p_preferred)
    print(f"two example output vectors:\n {sm_preferred[:2]}")
    print("largest value", np.max(sm_preferred), "smallest value", np.min(sm_preferred))
    for i in range(5):
        print(f"{p_preferred[i]}, category: {np.argmax(p_preferred[i])}")

    acc_softmax = float(np.mean(np.argmax(p_nonpreferred, axis=1) == y_train))
    acc_logits = float(np.mean(np.argmax(sm_preferred, axis=1) == y_train))
    same = float(np.mean(np.argmax(p_nonpreferred, axis=1) == np.argmax(p_preferred, axis=1)))
    same_argmax = bool(np.all(np.argmax(sm_preferred, axis=1) == np.argmax(p_preferred, axis=1)))

    # ---- C2_W2_Multiclass_TF: 2 ReLU units, then 4 logits ----------------------------------------------------
    data = np.load(paths[1])
    X_train, y_train = data["X"], data["y"]
    learnloop.utils.set_random_seed(1234)  # applied to achieve consistent results
    model = Sequential(
        [
            Dense(2, activation="relu", name="L1"),
            Dense(4, activation="linear", name="L2"),
        ]
    )
    model.compile(
        loss=learnloop.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=learnloop.optimizers.Adam(0.01),
    )
    model.fit(X_train, y_train, epochs=200, verbose=0)
    W1, b1 = model.get_layer("L1").get_weights()
    print(f"\nL1: W1 =\n{W1}\nb1 = {b1}  (each ReLU unit draws one line through the plane)")
    acc_small = float(np.mean(np.argmax(model.predict(X_train, verbose=0), axis=1) == y_train))

    print(f"\nsoftmax lab (2000 blobs): 25-15-4, expected the same accuracy either way (~98%: the "
          f"clusters overlap a little); got "
          f"{acc_softmax:.3f} with a softmax output, {acc_logits:.3f} with logits + from_logits=True, "
          f"{same:.1%} of the predictions the same")
    print(f"softmax lab: argmax of softmax(logits) equals argmax of the logits, expected always; "
          f"got {'always' if same_argmax else 'NOT always'}")
    print(f"multiclass lab (100 blobs): 2-4 network, expected the four clusters told apart (~all 100 in the lab's "
          f"plot); got accuracy {acc_small:.2f} (with only 2 ReLU units the result depends on the initial weights)")
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.figures:
        save_figures(args.figures, X_train, y_train, lambda x: np.argmax(model.predict(x, verbose=0), axis=1))
    return 0


def save_figures(folder: Path, X, y, category) -> None:
    """The 100 blobs and the four regions the 2-4 network gives them."""
    plt = figures.pyplot()
    (low0, low1), (high0, high1) = X.min(axis=0) - 1, X.max(axis=0) + 1
    u, v = np.meshgrid(np.linspace(low0, high0, 300), np.linspace(low1, high1, 300))
    regions = category(np.column_stack([u.ravel(), v.ravel()]).astype(np.float32)).reshape(u.shape)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.contourf(u, v, regions, levels=np.arange(-0.5, 4), colors=["#aec7e8", "#ffbb78", "#98df8a", "#ff9896"])
    for k in range(4):
        ax.scatter(X[y == k, 0], X[y == k, 1], label=f"class {k}", edgecolors="black", linewidths=0.5)
    ax.set_title("Multiclass lab: the 2-4 network's regions")
    ax.legend(loc="best", fontsize=8)
    figures.save(fig, folder, "multiclass_regions")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
