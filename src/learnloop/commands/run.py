"""``learnloop run``: split, train a network, report train/cv/test results and save the model."""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="train and evaluate a network on a dataset (default: bundled digits)",
                              description="Split 60/20/20, train a network, print train/cv/test results, save it.")
    p.add_argument("--data", default="digits",
                   help="digits, breast_cancer, wine, diabetes, iris, or a .csv/.npz path (default: digits)")
    p.add_argument("--target", help="CSV column to predict (default: the last column)")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument("--missing", default="error", choices=["error", "drop", "impute"],
                   help="what to do with missing CSV values (default: stop and report them)")
    p.add_argument("--out", default="learnloop-report", help="output folder (default: learnloop-report)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def build_network(n_features: int, n_outputs: int, task: str, units=(25, 15), l2: float = 0.0, x_train=None):
    """A normalized dense network: Normalization -> Dense(units, relu)... -> linear output, compiled with Adam."""
    import learnloop as ll
    from learnloop.layers import Dense, Normalization
    from learnloop.regularizers import L2

    norm = Normalization()
    layers = [ll.Input((n_features,)), norm]
    layers += [Dense(u, activation="relu", kernel_regularizer=L2(l2) if l2 else None) for u in units]
    layers.append(Dense(n_outputs))
    model = ll.Sequential(layers)
    if x_train is not None:
        norm.adapt(x_train)
    if task == "classification":
        loss = ll.losses.SparseCategoricalCrossentropy(from_logits=True) if n_outputs > 1 else \
            ll.losses.BinaryCrossentropy(from_logits=True)
        model.compile(optimizer=ll.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    else:
        model.compile(optimizer=ll.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    return model


def describe_model(model, data, x_train) -> None:
    """Store what a server and an audit need to know about the model in ``model.metadata``."""
    from learnloop.serving.monitor import reference_statistics

    outputs = model.predict(x_train)
    if data.task == "classification":
        pred = np.argmax(outputs, axis=1) if outputs.shape[1] > 1 else (outputs[:, 0] > 0).astype(int)
    else:
        pred = outputs[:, 0]
    model.metadata.update({
        "dataset": data.name, "task": data.task, "target": data.target_name,
        "feature_names": list(data.feature_names), "classes": data.classes,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reference_statistics": reference_statistics(x_train, pred, feature_names=list(data.feature_names),
                                                     task=data.task),
    })


def run(args: argparse.Namespace) -> int:
    import learnloop as ll
    from learnloop.data.datasets import load_dataset
    from learnloop.data.splits import train_cv_test_split

    start = time.perf_counter()
    ll.set_seed(args.seed)
    data = load_dataset(args.data, target=args.target, task=args.task, missing=args.missing)
    for note in data.notes:
        print(f"note: {note}")
    classification = data.task == "classification"
    splits = train_cv_test_split(data.x, data.y, sizes=(0.6, 0.2, 0.2), stratify=True if classification else None,
                                 seed=args.seed)
    n_out = (data.n_classes if data.n_classes > 2 else 1) if classification else 1
    print(f"{data.name}: {len(data.y)} examples, {data.x.shape[1]} features, {data.task}"
          f"{f', {data.n_classes} classes' if classification else ''}; split {splits.sizes} (train/cv/test)")
    model = build_network(data.x.shape[1], n_out, data.task, x_train=splits.train.x)
    model.fit(splits.train.x, splits.train.y, epochs=args.epochs, batch_size=32,
              validation_data=(splits.cv.x, splits.cv.y), verbose=0 if args.quiet else 2)
    key = "accuracy" if classification else "mae"
    scores = {name: model.evaluate(s.x, s.y, return_dict=True)[key]
              for name, s in (("train", splits.train), ("cv", splits.cv), ("test", splits.test))}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    describe_model(model, data, splits.train.x)
    path = out / "model.zip"
    model.save(path)
    print(f"{key}: train {scores['train']:.4f}  cv {scores['cv']:.4f}  test {scores['test']:.4f}")
    print(f"model saved to {path}  ({time.perf_counter() - start:.1f} s)")
    return 0
