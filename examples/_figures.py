"""The examples' figures: ``--figures DIR`` saves them as PNG files (the documentation shows them beside the output).

matplotlib (``pip install "learnloop[report]"``) is imported only when figures are asked for, so the examples run on
the core install.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--figures", type=Path, metavar="DIR",
                        help="also save this example's figures as PNG files in DIR (needs matplotlib)")


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, folder: Path, name: str) -> Path:
    """Write ``fig`` to ``folder/name.png`` and close it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=96, bbox_inches="tight")
    pyplot().close(fig)
    return path
