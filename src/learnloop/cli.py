"""The ``learnloop`` command line: one subcommand per module in :mod:`learnloop.commands`.

Each module there has ``register(subparsers)``, which adds its parser and sets ``func`` to a function taking the
parsed arguments and returning an exit code. The modules import their optional dependencies (matplotlib, FastAPI,
onnx) only when their command runs, so ``learnloop --help`` works on the core install.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from learnloop import __version__

COMMANDS = (
    "learnloop.commands.run",
    "learnloop.commands.errors",
    "learnloop.commands.serve",
    "learnloop.commands.logs",
    "learnloop.commands.audit",
    "learnloop.commands.export",
    "learnloop.commands.predict",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learnloop", description="Neural networks in NumPy with the machine-learning development loop built in.")
    parser.add_argument("--version", action="version", version=f"learnloop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from learnloop.errors import LearnloopError

    try:
        return int(args.func(args) or 0)
    except LearnloopError as exc:
        print(f"learnloop {args.command}: error: {exc.cli or exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:                      # `learnloop errors ... | head`: the reader left, as for any tool
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())    # no second error when Python flushes stdout at exit
        return 141


if __name__ == "__main__":
    sys.exit(main())
