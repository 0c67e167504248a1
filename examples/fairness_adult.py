"""Fairness audit on UCI Adult: train a small network to predict income > 50K, then measure its gaps by sex and race.

    python examples/fairness_adult.py            # the full training set, 5 epochs (a few seconds)
    python examples/fairness_adult.py --fast     # a 6,000-row subsample, 3 epochs (also: LEARNLOOP_FAST=1)
    python examples/fairness_adult.py --unaware  # leave sex and race out of the features and compare

Data: fairness/adult.data and fairness/adult.test under ../shared/data beside the repository (see
fairness/SOURCES.md), or ``--data-dir``. The categorical columns are one-hot encoded and the numeric ones
standardized with scikit-learn; "?" (missing) is kept as its own category. The model outputs logits
(``from_logits=True``), so a prediction is positive when the logit is >= 0, i.e. the probability >= 0.5.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import _figures as figures
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import learnloop
from learnloop import Input, Sequential
from learnloop.fairness import audit
from learnloop.layers import Dense

COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
           "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
           "income"]
NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex",
               "native-country"]
SENSITIVE = ["sex", "race"]
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def read_adult(path: Path, skip_banner: bool = False) -> dict[str, np.ndarray]:
    """One UCI Adult file as columns of strings; the test file's banner line and label periods are dropped."""
    with path.open(newline="") as f:
        rows = [[cell.strip() for cell in row] for row in csv.reader(f)]
    rows = [r for r in rows[1 if skip_banner else 0:] if len(r) == len(COLUMNS)]
    table = {name: np.array([r[j] for r in rows]) for j, name in enumerate(COLUMNS)}
    table["income"] = np.char.rstrip(table["income"], ".")
    return table


def encoder(unaware: bool) -> ColumnTransformer:
    """One-hot the categoricals, standardize the numbers; columns by position in COLUMNS (the label is last)."""
    categorical = [COLUMNS.index(c) for c in CATEGORICAL if not (unaware and c in SENSITIVE)]
    numeric = [COLUMNS.index(c) for c in NUMERIC]
    return ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
                              ("scale", StandardScaler(), numeric)])


def as_frame_rows(table: dict[str, np.ndarray]) -> np.ndarray:
    """An object array (n, columns) in COLUMNS order, numeric columns as floats: what ColumnTransformer takes."""
    cols = [table[c].astype(float) if c in NUMERIC else table[c] for c in COLUMNS[:-1]]
    return np.array(cols, dtype=object).T


def main(argv: list[str] | None = None) -> dict | None:
    """Train, audit and print; returns the figures (``None`` when the data is missing)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="subsample the training set (for CI)")
    parser.add_argument("--unaware", action="store_true", help="train without the sex and race columns")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the shared data folder (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    figures.add_argument(parser)
    args = parser.parse_args(argv)
    fast = args.fast or os.environ.get("LEARNLOOP_FAST") == "1"
    epochs = args.epochs or (3 if fast else 5)
    start = time.perf_counter()

    folder = args.data_dir / "fairness"
    missing = [folder / name for name in ("adult.data", "adult.test") if not (folder / name).is_file()]
    if missing:
        print(f"skipped: {missing[0]} not found (pass --data-dir to the shared data folder)")
        return None
    train, test = read_adult(folder / "adult.data"), read_adult(folder / "adult.test", True)
    rng = np.random.default_rng(args.seed)
    if fast:
        keep = np.sort(rng.choice(len(train["income"]), size=6000, replace=False))
        train = {k: v[keep] for k, v in train.items()}
    enc = encoder(args.unaware)
    x_train = enc.fit_transform(as_frame_rows(train)).astype(np.float32)
    x_test = enc.transform(as_frame_rows(test)).astype(np.float32)
    y_train = (train["income"] == ">50K").astype(np.float32)
    y_test = (test["income"] == ">50K").astype(int)

    learnloop.set_seed(args.seed)
    model = Sequential([Input((x_train.shape[1],)), Dense(32, activation="relu"), Dense(1)])
    model.compile(optimizer=learnloop.optimizers.Adam(learning_rate=0.003),
                  loss=learnloop.losses.BinaryCrossentropy(from_logits=True))
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=0)
    y_pred = (model.predict(x_test, verbose=0).ravel() >= 0).astype(int)

    print(f"UCI Adult: trained on {len(y_train)} rows ({x_train.shape[1]} features"
          f"{', without sex and race' if args.unaware else ''}) for {epochs} epochs; audited on {len(y_test)}.\n")
    reports = {
        "sex": audit(y_test, y_pred, {"sex": test["sex"]}),
        "race": audit(y_test, y_pred, {"race": test["race"]}),
        "sex x race": audit(y_test, y_pred, {"sex": test["sex"], "race": test["race"]},
                            metrics=["accuracy", "selection_rate", "tpr", "fpr"]),
    }
    for report in reports.values():
        print(report, end="\n\n")
    print(f"{'gaps (between groups)':<24}{'accuracy':>10}{'parity':>10}{'odds':>10}")
    for name, report in reports.items():
        print(f"{name:<24}{report.difference()['accuracy']:>10.4f}{report.demographic_parity_difference():>10.4f}"
              f"{report.equalized_odds_difference():>10.4f}")
    counts = reports["sex x race"].counts
    smallest = min(counts, key=counts.get)
    print(f"smallest group: {', '.join(smallest)} ({counts[smallest]} test rows): gaps that involve small groups "
          "are noisy, so read them with their counts.")
    seconds = time.perf_counter() - start
    print(f"\n({seconds:.1f} s)")
    if args.figures:
        save_figures(args.figures, reports)
    return {"accuracy": reports["sex"].overall["accuracy"], "reports": reports, "seconds": seconds}


def save_figures(folder: Path, reports: dict) -> None:
    """Selection rate and error rate of each group, against the overall rate (dashed)."""
    plt = figures.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [2, 5]})
    for ax, feature in zip(axes, ("sex", "race")):
        report = reports[feature]
        groups = list(report.by_group)
        x = np.arange(len(groups))
        for k, (metric, color) in enumerate((("selection_rate", "tab:blue"), ("error_rate", "tab:red"))):
            ax.bar(x + (k - 0.5) * 0.38, [report.by_group[g][metric] for g in groups], width=0.38, color=color,
                   label=metric.replace("_", " "))
            ax.axhline(report.overall[metric], color=color, linestyle="--", linewidth=1)
        ax.set_xticks(x, [str(g[0] if isinstance(g, tuple) else g) for g in groups], rotation=20, ha="right",
                      fontsize=8)
        ax.set_title(f"by {feature}")
    axes[0].legend(fontsize=8)
    fig.suptitle("UCI Adult: predicted >50K (selection rate) and errors by group; dashed: overall", y=1.03)
    figures.save(fig, folder, "fairness_by_group")


if __name__ == "__main__":
    main(sys.argv[1:])
