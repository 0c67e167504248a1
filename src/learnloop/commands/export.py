"""``learnloop export MODEL --format onnx -o model.onnx``: a saved model as an ONNX file for other runtimes."""

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
                   help="run the file with onnxruntime on random inputs and compare with the model (exit 1 if off)")
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
    proto = to_onnx(model, output, opset=args.opset)
    size = Path(output).stat().st_size
    print(f"wrote {output} (ONNX opset {args.opset}, {len(proto.graph.node)} nodes, {size:,} bytes): "
          f"input 'input' {_shape(model.input_shape)} -> output 'output' {_shape(model.output_shape)}")
    if not args.verify:
        return 0
    from learnloop.export.onnx import max_abs_difference

    x = sample_inputs(model)
    scale = 1.0 + float(np.max(np.abs(model.predict(x, verbose=0))))
    diff = max_abs_difference(model, output, x)
    ok = diff <= VERIFY_TOLERANCE * scale
    print(f"verify: onnxruntime vs learnloop on {len(x)} random inputs: max |difference| {diff:.3g} "
          f"({'ok' if ok else 'TOO LARGE'}; tolerance {VERIFY_TOLERANCE * scale:.3g})")
    return 0 if ok else 1


def _shape(shape) -> str:
    return "(" + ", ".join("batch" if i == 0 else str(d) for i, d in enumerate(shape)) + ")"
