"""``learnloop errors MODEL --data FILE``: error analysis of a saved model on labelled (cv) data.

The data is a raw table (CSV or any delimited text, Parquet, Arrow) or an ``.npz`` with ``x``, ``y`` and optional
``images``. A table model applies its own pipeline to the raw columns; an array model takes the columns its
metadata names, or an ``.npz``'s ``x`` as is when its width fits. Labels are the model's original classes.

Prints how many examples the model gets wrong, the error by class, and for a table the wrong rows with their raw
values and the error rate by value of each column (by quantile bin for numbers), largest gaps first; with
``--tags`` (a CSV of manual tags: example id = data row number from 0, tag) the count per tag. Writes to ``--out``:
``errors_to_tag.csv`` (the sampled errors, for a person to fill the tag column), ``error_analysis.json``,
``confusion_matrix.png`` and, when the examples are pictures, ``misclassified.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from learnloop.commands._args import codec


def register(subparsers) -> None:
    p = subparsers.add_parser("errors", help="error analysis of a saved model on labelled data",
                              description="Error analysis of a saved model: the misclassified examples, a sample to "
                                          "read and tag, error rates by column value, confusion matrix and pictures.")
    p.add_argument("model", metavar="MODEL", help="a model file written by model.save() or learnloop run")
    p.add_argument("--data", required=True, metavar="FILE",
                   help="labelled examples: a table (CSV or other delimited text, Parquet, Arrow) or an .npz with "
                        "arrays 'x' and 'y' (and optionally 'images')")
    p.add_argument("--target", default=None, metavar="COL",
                   help="the table column with the labels (default: the model's target column, else the last)")
    p.add_argument("--tags", type=Path, default=None, metavar="CSV",
                   help="manual tags: rows of (example id, tag); ids are row numbers of the data from 0")
    p.add_argument("--out", type=Path, default=Path("errors"), metavar="DIR",
                   help="where to write the pictures and files (default: ./errors)")
    p.add_argument("--sample-size", type=int, default=100, help="how many errors to sample for reading (100)")
    p.add_argument("--seed", type=int, default=0, help="the sample's seed (0)")
    p.add_argument("--threshold", type=float, default=None,
                   help="probability cut for a one-output model (default 0.5)")
    p.add_argument("--encoding", metavar="CODEC", type=codec, default=None,
                   help="the table's text encoding, e.g. latin-1 (default: detected)")
    p.set_defaults(func=run)


def analyse(view, data, *, tags=None, sample_size: int = 100, seed: int = 0, threshold: float | None = None):
    """The :class:`~learnloop.diagnostics.error_analysis.ErrorAnalysis` of ``view``'s model on ``data``."""
    import numpy as np

    from learnloop.commands._labelled import model_outputs, output_indices
    from learnloop.diagnostics.error_analysis import ErrorAnalysis
    from learnloop.errors import LearnloopError

    if int(sample_size) != sample_size or sample_size < 1:
        raise LearnloopError(f"--sample-size must be a positive whole number; got {sample_size!r}.")
    outputs = model_outputs(view, data)
    rows = None if data.columns is None else {k: v for k, v in data.columns.items() if k != data.target}
    common = dict(x=data.x, images=data.images, rows=rows, column_kinds=view.column_types, ids=data.rows.tolist(),
                  tags=tags, sample_size=sample_size, seed=seed, examples=f"rows of {Path(data.path).name}")
    if view.task == "regression":
        pred = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)[:, 0]
        return ErrorAnalysis(data.y, pred, task="regression", **common)
    pred = output_indices(view, outputs, threshold)
    if view.classes is None:
        return ErrorAnalysis(data.y, pred, task="classification", **common)
    index = {(type(c).__name__, c): i for i, c in enumerate(view.classes)}
    true = np.array([index[(type(c).__name__, c)] for c in np.asarray(data.y, dtype=object).tolist()])
    return ErrorAnalysis(true, pred, task="classification", class_names=list(view.classes), **common)


def run(args: argparse.Namespace) -> int:
    from learnloop.commands._labelled import ModelView, load_labelled
    from learnloop.models import load_model

    model = load_model(args.model)
    view = ModelView.of(model)
    data = load_labelled(args.data, view, args.target, encoding=args.encoding, last_is_target=True)
    analysis = analyse(view, data, tags=args.tags, sample_size=args.sample_size, seed=args.seed,
                       threshold=args.threshold)
    print(f"model {args.model}: {view.describe()}")
    for note in data.notes:
        print(f"note: {note}")
    if any(data.left_out.values()):
        print(f"left out {data.left_out['target']} rows with a missing target")
    print(f"data {args.data} ({analysis.n} examples)")
    print(analysis)
    if analysis.rows is not None:
        print(_rows_text(analysis))
    out: Path = args.out
    written = [analysis.write_tag_template(out / "errors_to_tag.csv")]
    (out / "error_analysis.json").write_text(json.dumps(analysis.to_dict(), indent=2, default=str) + "\n")
    written.append(out / "error_analysis.json")
    if analysis.task == "classification":
        written.append(analysis.plot_confusion_matrix(out / "confusion_matrix.png"))
        if analysis.has_images:
            written.append(analysis.plot_misclassified(out / "misclassified.png"))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _rows_text(analysis, n: int = 10) -> str:
    rows = analysis.error_rows(n)
    if not rows:
        return "  no wrong rows."
    what = "sampled misclassified rows" if analysis.task == "classification" else "rows with the largest errors"
    keys = list(rows[0])
    cells = [[_cell(r[k]) for k in keys] for r in rows]
    widths = [min(24, max(len(k), *(len(c[j]) for c in cells))) for j, k in enumerate(keys)]
    lines = [f"  {len(rows)} {what} (id = data row from 0):",
             ("  " + "  ".join(k[:w].ljust(w) for k, w in zip(keys, widths))).rstrip()]
    lines += [("  " + "  ".join(c[:w].ljust(w) for c, w in zip(row, widths))).rstrip() for row in cells]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "(missing)"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
