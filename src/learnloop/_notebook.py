"""Jupyter as a home: show a figure inline when running in a notebook kernel, and nothing anywhere else."""

from __future__ import annotations

import io
import sys


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), False in scripts, tests and the terminal IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def show_figure(fig) -> bool:
    """Display a matplotlib figure in the notebook as a PNG (the figures learnloop draws are not pyplot's, so the
    inline backend would not show them); returns whether it was shown."""
    if not in_notebook():
        return False
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    display(Image(data=buffer.getvalue(), format="png"))
    return True
