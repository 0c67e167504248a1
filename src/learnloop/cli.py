"""The ``learnloop`` command line: one subcommand per module in :mod:`learnloop.commands`.

Each module there has ``register(subparsers)``, which adds its parser and sets ``func`` to a function taking the
parsed arguments and returning an exit code. Modules are imported only when the command line is built, and a
subcommand whose optional dependencies are missing says which extra to install.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from learnloop import __version__

COMMANDS = (
    "learnloop.commands.run",
    "learnloop.commands.errors",
    "learnloop.commands.serve",
    "learnloop.commands.logs",
    "learnloop.commands.audit",
    "learnloop.commands.export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learnloop", description="Neural networks in NumPy with the machine-learning development loop built in.")
    parser.add_argument("--version", action="version", version=f"learnloop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("learnloop.commands"):
                continue                      # that command is not part of this build
            raise
        module.register(sub)
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
        print(f"learnloop {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
