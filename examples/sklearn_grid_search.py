"""Model selection with scikit-learn's tools: a learnloop network inside GridSearchCV, on the bundled digits.

    python examples/sklearn_grid_search.py          # 3 sizes x 3 lambdas, 5-fold CV, 40 epochs (~10 s)
    python examples/sklearn_grid_search.py --fast   # 2 x 2, 3-fold, 10 epochs (also: LEARNLOOP_FAST=1)

The notes choose the architecture and lambda on a cross-validation set; here scikit-learn's ``GridSearchCV`` does
it by k-fold cross-validation, with ``learnloop.wrappers.SKLearnClassifier`` (Keras 3's wrapper names) turning the
network into an estimator. The builder gets the training arrays, so it sizes the input and output layers itself;
the grid tunes its keyword arguments through ``model_kwargs``. A ``Pipeline`` scales the pixels first.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import _figures as figures
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from learnloop import Input, Sequential
from learnloop.layers import Dense
from learnloop.losses import SparseCategoricalCrossentropy
from learnloop.optimizers import Adam
from learnloop.regularizers import L2
from learnloop.wrappers import SKLearnClassifier


def build(X, y, units: int = 25, l2: float = 0.0):
    """One hidden ReLU layer of ``units`` and a linear output of one unit per class, trained on logits."""
    model = Sequential([Input((X.shape[1],)),
                        Dense(units, activation="relu", kernel_regularizer=L2(l2)),
                        Dense(len(np.unique(y)), kernel_regularizer=L2(l2))])
    model.compile(optimizer=Adam(0.005), loss=SparseCategoricalCrossentropy(from_logits=True))
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a smaller grid and fewer epochs (for CI)")
    figures.add_argument(parser)
    args = parser.parse_args(argv)
    fast = args.fast or os.environ.get("LEARNLOOP_FAST") == "1"
    start = time.perf_counter()

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    units, lambdas = ([4, 32], [0.0, 0.01]) if fast else ([4, 16, 64], [0.0, 0.001, 0.01])
    pipe = Pipeline([("scale", MinMaxScaler()),
                     ("net", SKLearnClassifier(build, fit_kwargs={"epochs": 10 if fast else 40, "batch_size": 32},
                                               random_state=0))])
    grid = [{"net__model_kwargs": [{"units": u, "l2": lam} for u in units for lam in lambdas]}]
    search = GridSearchCV(pipe, grid, cv=3 if fast else 5, n_jobs=1).fit(x_train, y_train)

    print(f"GridSearchCV over {len(grid[0]['net__model_kwargs'])} networks, {search.n_splits_}-fold CV on "
          f"{len(x_train)} digits:")
    for params, mean, std in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"],
                                 search.cv_results_["std_test_score"]):
        kw = params["net__model_kwargs"]
        print(f"  units {kw['units']:>3}, lambda {kw['l2']:<6g} cv accuracy {mean:.3f} +- {std:.3f}")
    best = search.best_params_["net__model_kwargs"]
    print(f"expected: the 4-unit network underfits (high bias), so a wider one wins; got units {best['units']}, "
          f"lambda {best['l2']:g}")
    print(f"refit on all {len(x_train)} training digits: test accuracy {search.score(x_test, y_test):.3f} "
          f"({len(x_test)} held out)")
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.figures:
        save_figures(args.figures, search.cv_results_, units, lambdas)
    return 0


def save_figures(folder, results: dict, units: list, lambdas: list) -> None:
    """Cross-validated accuracy against the hidden layer's width, one line per L2 strength."""
    plt = figures.pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    kwargs = [p["net__model_kwargs"] for p in results["params"]]
    for lam in lambdas:
        rows = [i for i, kw in enumerate(kwargs) if kw["l2"] == lam]
        ax.errorbar([kwargs[i]["units"] for i in rows], results["mean_test_score"][rows],
                    yerr=results["std_test_score"][rows], marker="o", capsize=3, label=f"lambda {lam:g}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(units, [str(u) for u in units])
    ax.set_xlabel("units in the hidden layer")
    ax.set_ylabel("cv accuracy (mean +- sd over folds)")
    ax.set_title("GridSearchCV over learnloop networks")
    ax.legend()
    figures.save(fig, folder, "grid_search")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
