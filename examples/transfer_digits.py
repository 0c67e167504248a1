"""Transfer learning on handwritten digits: learn scikit-learn's 8x8 digits from only 100 labelled examples.

Pretraining (the notes' step 1, on a large related data set), then the notes' two options for the new task:
option 1 trains only a new output layer, option 2 trains every layer starting from the copied weights. Both are
compared with the same network trained from scratch on the same 100 examples, on the same held-out set.

Pretraining sources:
* ``optdigits``: the UCI optdigits training file (3,823 digits by 30 writers). scikit-learn's digits are the UCI
  test file (1,797 digits by 13 *other* writers), made by the same program, and no image appears in both files.
  So the source is the same ten classes written by other people: the setting where transfer helps most. Because
  the classes are the same, the pretrained network with its own output layer already reads the new writers well;
  that figure is printed too, for honesty. Replacing the head shows the recipe for a task whose labels differ.
* ``synthetic``: digits rendered from fonts (``learnloop.data.synthetic_digits``): a real change of domain,
  printed type instead of handwriting. Used when the optdigits folder is absent, or with ``--source both``.

Run:  python examples/transfer_digits.py [--source optdigits|synthetic|both] [--seed 0]
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
from learnloop import Input, Sequential
from learnloop.data.synthetic import synthetic_digits
from learnloop.layers import Dense
from learnloop.losses import SparseCategoricalCrossentropy
from learnloop.transfer import fine_tune, replace_head

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OPTDIGITS = DATA / "optdigits" / "optdigits.tra"
LOSS = SparseCategoricalCrossentropy(from_logits=True)
PER_CLASS = 10                       # 10 labelled examples of each digit: 100 in all


def network() -> Sequential:
    return Sequential([Input((64,)), Dense(128, activation="relu"), Dense(64, activation="relu"), Dense(10)])


def load_source(name: str, optdigits: Path = OPTDIGITS) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, 64) in [0, 1], y (n,)) of the pretraining set."""
    if name == "optdigits":
        rows = np.loadtxt(optdigits, delimiter=",", dtype=int)
        return (rows[:, :64] / 16).astype(np.float32), rows[:, 64]
    images, labels = synthetic_digits(10_000, size=8, seed=0)
    return images.reshape(len(images), 64), labels


def run(source: str, seed: int, fast: bool = False, optdigits: Path = OPTDIGITS) -> dict[str, float]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.data / 16).astype(np.float32), digits.target
    rng = np.random.default_rng(seed)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y == c), PER_CLASS, replace=False) for c in range(10)])
    held_out = np.setdiff1d(np.arange(len(y)), labelled)

    def accuracy(model: Sequential) -> float:
        return float(np.mean(model.predict(x[held_out]).argmax(1) == y[held_out]))

    start = time.perf_counter()
    x_source, y_source = load_source(source, optdigits)
    learnloop.set_seed(seed)
    pretrained = network()
    pretrained.compile(optimizer="adam", loss=LOSS)
    scale = 2 if fast else 1                                   # --fast: half the epochs everywhere
    pretrained.fit(x_source, y_source, epochs=(20 if source == "optdigits" else 10) // scale, batch_size=64,
                   verbose=0)
    results = {"pretrained network, its own head (no labelled examples used)": accuracy(pretrained)}

    learnloop.set_seed(seed)
    scratch = network()
    scratch.compile(optimizer="adam", loss=LOSS)
    scratch.fit(x[labelled], y[labelled], epochs=300 // scale, batch_size=32, verbose=0)
    results["from scratch on the 100 examples"] = accuracy(scratch)

    learnloop.set_seed(seed)
    option1 = replace_head(pretrained, 10, name="new_head")
    fine_tune(option1, x[labelled], y[labelled], option=1, loss=LOSS, epochs=300 // scale, batch_size=32)
    results["option 1: new head only (copied layers frozen)"] = accuracy(option1)

    learnloop.set_seed(seed)
    option2 = replace_head(pretrained, 10, name="new_head")
    fine_tune(option2, x[labelled], y[labelled], option=2, loss=LOSS, epochs=150 // scale, batch_size=32)
    results["option 2: head, then all layers at lr 1e-4"] = accuracy(option2)

    print(f"\npretraining on {source}: {len(y_source)} images; new task: {len(labelled)} labelled digits, "
          f"{len(held_out)} held out ({time.perf_counter() - start:.1f} s)")
    for name, value in results.items():
        print(f"  {name:<62} {value:.4f}")
    scratch_acc, one, two = list(results.values())[1:]
    beaten = [name for name, acc in (("option 1", one), ("option 2", two)) if acc > scratch_acc]
    print("  -> " + (f"{' and '.join(beaten)} beat{'s' if len(beaten) == 1 else ''} training from scratch."
                     if beaten else "neither option beats training from scratch: this source is too far from "
                                    "the new task for these features to help."))
    if source == "optdigits":
        print("\nThe option-1 model: only the new head is trained.")
        option1.summary()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("optdigits", "synthetic", "both"), default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", action="store_true", default=os.environ.get("LEARNLOOP_FAST") == "1",
                        help="pretrain on optdigits only, half the epochs (a few seconds)")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the shared data folder (default: %(default)s)")
    figures.add_argument(parser)
    args = parser.parse_args(argv)
    optdigits = args.data_dir / "optdigits" / "optdigits.tra"
    sources = ["optdigits", "synthetic"] if args.source == "both" else [args.source]
    if args.fast:
        sources = sources[:1]
    if "optdigits" in sources and not optdigits.is_file():
        if args.fast:
            print(f"skipped: {optdigits} not found; the fast run pretrains on optdigits (without --fast the example "
                  f"pretrains on synthetic font digits instead).")
            return 0
        print(f"{optdigits} not found: pretraining on synthetic font digits only.")
        sources = ["synthetic"]
    results = {source: run(source, args.seed, fast=args.fast, optdigits=optdigits) for source in sources}
    if args.figures:
        save_figures(args.figures, results)
    return 0


def save_figures(folder: Path, results: dict[str, dict[str, float]]) -> None:
    """Held-out accuracy of each way to use 100 labelled digits, per pretraining source."""
    plt = figures.pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    names = ["pretrained, own head", "from scratch", "option 1: head only", "option 2: fine-tune all"]
    width = 0.8 / len(results)
    for k, (source, accuracies) in enumerate(results.items()):
        bars = ax.barh(np.arange(4) + k * width, list(accuracies.values()), height=width, label=source)
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_yticks(np.arange(4) + width * (len(results) - 1) / 2, names)
    ax.invert_yaxis()
    ax.set_xlim(0.5, 1.03)
    ax.set_xlabel("accuracy on the held-out bundled digits")
    ax.set_title("Transfer learning: 100 labelled digits")
    ax.legend(title="pretrained on", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    figures.save(fig, folder, "transfer_accuracy")


if __name__ == "__main__":
    sys.exit(main())
