"""``learnloop export MODEL --format onnx -o model.onnx``: a saved model as an ONNX file for other runtimes.

A model that starts with a FeatureSpace exports as one graph taking its raw columns (numbers NaN when missing,
text "" when missing); ``--numeric-core`` exports the network alone with the encoding as JSON beside it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from learnloop.errors import LearnloopError

FORMATS = ("onnx",)
VERIFY_TOLERANCE = 1e-4   # relative to the outputs' scale: float32 runtimes may sum in another order


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="export a saved model (ONNX)", description="Export a saved model to ONNX.")
    p.add_argument("model", metavar="MODEL", help="a model file written by model.save()")
    p.add_argument("--format", choices=FORMATS, default="onnx", help="the output format (default onnx)")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="PATH",
                   help="where to write (default: MODEL with the format's suffix)")
    p.add_argument("--opset", type=int, default=17, help="ONNX operator set (13 or later; default 17)")
    p.add_argument("--verify", action="store_true",
                   help="run the file with onnxruntime on sample inputs and compare with the model (exit 1 if off); "
                        "a model taking columns gets rows drawn from its training statistics and vocabularies")
    p.add_argument("--numeric-core", action="store_true",
                   help="for a model that starts with a FeatureSpace: export only the network, taking the encoded "
                        "float vector, and write the encoding as JSON beside the file (MODEL.encoding.json)")
    p.set_defaults(func=run)


def sample_inputs(model, n: int = 16, seed: int = 0) -> np.ndarray:
    """``n`` standard-normal samples of the model's input shape (unknown sizes become 16), float32."""
    shape = tuple(16 if d is None else int(d) for d in tuple(model.input_shape)[1:])
    return np.random.default_rng(seed).standard_normal((n, *shape)).astype(np.float32)


def run(args: argparse.Namespace) -> int:
    from learnloop.export import to_onnx
    from learnloop.models import load_model

    model = load_model(args.model)
    if not model.built:
        raise LearnloopError(f"{args.model} holds a model without an input shape; it cannot be exported.")
    output = args.output or Path(args.model).with_suffix(".onnx")
    if Path(output).resolve() == Path(args.model).resolve():
        raise LearnloopError(f"-o {output} would overwrite the model file itself; choose another path.")
    proto = to_onnx(model, output, opset=args.opset, numeric_core=args.numeric_core)
    size = Path(output).stat().st_size
    space = model.feature_space
    if space is None:
        print(f"wrote {output} (ONNX opset {args.opset}, {len(proto.graph.node)} nodes, {size:,} bytes): "
              f"input 'input' {_shape(model.input_shape)} -> output 'output' {_shape(model.output_shape)}")
    else:
        _print_table_summary(model, proto, output, size, args)
    if not args.verify:
        return 0
    if space is not None:
        return _verify_table(model, output, args.numeric_core)
    from learnloop.export.onnx import max_abs_difference

    x = sample_inputs(model)
    scale = 1.0 + float(np.max(np.abs(model.predict(x, verbose=0))))
    diff = max_abs_difference(model, output, x)
    ok = diff <= VERIFY_TOLERANCE * scale
    print(f"verify: onnxruntime vs learnloop on {len(x)} random inputs: max |difference| {diff:.3g} "
          f"({'ok' if ok else 'TOO LARGE'}; tolerance {VERIFY_TOLERANCE * scale:.3g})")
    return 0 if ok else 1


def _print_table_summary(model, proto, output, size: int, args) -> None:
    from learnloop.export import onnx_features
    from learnloop.export.encoding import encoding_path
    from learnloop.export.onnx import output_meaning

    space = model.feature_space
    width = len(space.get_feature_names_out())
    meaning = output_meaning(model, model.layers[len(model.preprocessing_layers):])
    head = f"wrote {output} (ONNX opset {args.opset}"
    if args.numeric_core:
        print(f"{head}, {len(proto.graph.node)} nodes, {size:,} bytes): the numeric core: input 'input' "
              f"(batch, {width}), the encoded features -> output 'output' {_shape(model.output_shape)} ({meaning})")
        print(f"wrote {encoding_path(output)}: how FeatureSpace '{space.name}' encodes the columns "
              f"{space.column_names} into those {width} features")
        return
    types, missing = onnx_features.input_types(space), onnx_features.missing_values(space)
    print(f"{head} + ai.onnx.ml {onnx_features.ML_OPSET}, {len(proto.graph.node)} nodes, {size:,} bytes): "
          f"{len(types)} raw column inputs -> output 'output' {_shape(model.output_shape)} ({meaning})")
    for name in space.column_names:
        how = "missing not accepted" if missing[name] is None else f"missing = {_literal(missing[name])}"
        print(f"  input {name!r}: tensor({types[name]}) (batch, 1), {how}")
    if "string" in types.values():
        print(f"  text: write a missing value as {onnx_features.MISSING_TEXT!r} (features built with impute=True "
              f"map it to their [MISSING] category)")
    if any(t != "float" for t in types.values()):
        print("  unseen text or integers take the out-of-vocabulary index, as in predict")


def _literal(value) -> str:
    return repr(value) if isinstance(value, str) and value != "NaN" else str(value)


def _verify_table(model, output, numeric_core: bool) -> int:
    from learnloop.export.onnx import run_onnx
    from learnloop.export.onnx_features import sample_columns

    space = model.feature_space
    columns = sample_columns(space)
    expected = np.asarray(model.predict(columns, verbose=0), dtype=np.float64)
    got = run_onnx(output, space.encode(columns) if numeric_core else columns)
    if got.shape != expected.shape:
        raise LearnloopError(f"The ONNX model gives outputs of shape {got.shape}; the model gives {expected.shape}.")
    diff = float(np.max(np.abs(got - expected))) if got.size else 0.0
    tolerance = VERIFY_TOLERANCE * (1.0 + float(np.max(np.abs(expected))))
    ok = diff <= tolerance
    n = len(next(iter(columns.values())))
    what = "their encoded features" if numeric_core else "raw columns"
    print(f"verify: onnxruntime vs learnloop on {n} sample rows ({what}; numbers around the training statistics, "
          f"vocabulary terms, an unseen value per categorical column, missing values where features impute): "
          f"max |difference| {diff:.3g} ({'ok' if ok else 'TOO LARGE'}; tolerance {tolerance:.3g})")
    return 0 if ok else 1


def _shape(shape) -> str:
    return "(" + ", ".join("batch" if i == 0 else str(d) for i, d in enumerate(shape)) + ")"
