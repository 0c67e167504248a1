"""``learnloop errors MODEL --data F.npz|F.csv``: error analysis of a saved model on labelled (cv) data.

Prints how many examples the model gets wrong, the tag table when ``--tags`` gives a CSV of manual tags (columns:
example id = row number in the data file counting from 0, tag), and the error by class; writes to ``--out``:
``errors_to_tag.csv`` (the sampled errors, for a person to fill the tag column), ``error_analysis.json``,
``confusion_matrix.png`` and, when the examples are images, ``misclassified.png``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from learnloop.errors import LearnloopError


def register(subparsers) -> None:
    p = subparsers.add_parser("errors", help="error analysis of a saved model on labelled data",
                              description="Error analysis of a saved model: the misclassified examples, a sample to "
                                          "read and tag, counts per tag, confusion matrix and pictures.")
    p.add_argument("model", metavar="MODEL", help="a model file written by model.save()")
    p.add_argument("--data", required=True, metavar="FILE",
                   help="labelled examples: a .csv with a header row, or a .npz with arrays 'x' and 'y'")
    p.add_argument("--target", default=None, metavar="COL", help="the CSV column with the labels (default: last)")
    p.add_argument("--tags", type=Path, default=None, metavar="CSV",
                   help="manual tags: rows of (example id, tag); ids are row numbers of the data from 0")
    p.add_argument("--out", type=Path, default=Path("errors"), metavar="DIR",
                   help="where to write the pictures and files (default: ./errors)")
    p.add_argument("--sample-size", type=int, default=100, help="how many errors to sample for reading (100)")
    p.add_argument("--seed", type=int, default=0, help="the sample's seed (0)")
    p.add_argument("--threshold", type=float, default=None,
                   help="cut for a one-output model (default: 0 for logits, 0.5 for probabilities)")
    p.set_defaults(func=run)


def model_inputs(model, x: np.ndarray, feature_names: list[str], where: str) -> np.ndarray:
    """``x`` arranged for the model: the columns its metadata names, then reshaped to its input shape."""
    names = (getattr(model, "metadata", None) or {}).get("feature_names")
    if names and list(names) != list(feature_names):
        missing = [n for n in names if n not in feature_names]
        if missing:
            raise LearnloopError(f"{where}: the model was trained on columns {missing} that the data lacks.")
        x = x[:, [feature_names.index(n) for n in names]]
    shape = tuple(model.input_shape)[1:] if model.built else None
    if shape and all(d is not None for d in shape):
        if math.prod(shape) != x[0].size:
            raise LearnloopError(f"{where}: the model expects samples of shape {shape} ({math.prod(shape)} values); "
                                 f"the data has {x[0].size} features per example.")
        x = x.reshape((len(x),) + shape)
    return x


def run(args: argparse.Namespace) -> int:
    from learnloop.data.datasets import load_dataset
    from learnloop.diagnostics.error_analysis import ErrorAnalysis
    from learnloop.models import load_model

    model = load_model(args.model)
    data = load_dataset(str(args.data), target=args.target)
    x = model_inputs(model, data.x, data.feature_names, str(args.data))
    # The file's labels were read as indices into data.classes; a model trained on numeric labels predicts those.
    numeric = data.classes is not None and all(isinstance(c, (int, float)) and float(c).is_integer()
                                                for c in data.classes)
    y = np.asarray(data.classes)[data.y].astype(int) if numeric else data.y
    analysis = ErrorAnalysis.from_model(model, x, y, images=data.images, tags=args.tags,
                                        sample_size=args.sample_size, seed=args.seed, threshold=args.threshold,
                                        task=data.task, class_names=None if numeric else data.classes)
    print(f"model {args.model} on {args.data} ({analysis.n} examples)")
    print(analysis)
    out: Path = args.out
    written = [analysis.write_tag_template(out / "errors_to_tag.csv")]
    (out / "error_analysis.json").write_text(json.dumps(analysis.to_dict(), indent=2, default=str) + "\n")
    written.append(out / "error_analysis.json")
    if analysis.task == "classification":
        written.append(analysis.plot_confusion_matrix(out / "confusion_matrix.png"))
        try:
            written.append(analysis.plot_misclassified(out / "misclassified.png"))
        except LearnloopError:
            pass                                   # the examples are not images
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
