"""Argument types the commands share: argparse reports their errors as ``argument --x: expected ...``."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text}")
    return value


def positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0; got {text}")
    return value


def error_level(text: str) -> float:
    """A known error level: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected an error level >= 0 (e.g. 0.05); got {text}")
    return value


def jobs(text: str) -> int:
    """Parallel workers: a positive count, or -1 for one per core (joblib's convention)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"expected a positive number of processes, or -1 for one per core; got {text}")
    return value


def codec(text: str) -> str:
    """A text encoding Python knows (utf-8, latin-1, cp1252, utf-16...)."""
    import codecs

    try:
        return codecs.lookup(text).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r}; e.g. utf-8, latin-1, cp1252, utf-16") from None


def output_folder(text: str) -> str:
    """A folder to write into: it may exist, but not as a file."""
    from pathlib import Path

    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    return text


def column_names(text: str) -> list[str]:
    """Comma-separated column names, each non-empty and used once."""
    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise argparse.ArgumentTypeError(f"expected comma-separated column names with none empty; got {text!r}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"column names must be unique; {repeated} repeat")
    return names


def delimiter(text: str) -> str:
    """A table's delimiter: one character (``\\t`` for a tab), or "whitespace" for runs of spaces."""
    text = {"\\t": "\t", "tab": "\t", "space": " "}.get(text, text)
    if text != "whitespace" and len(text) != 1:
        raise argparse.ArgumentTypeError(f"expected one character (or 'tab', 'space', 'whitespace'); got {text!r}")
    return text


def sample_rows(text: str) -> int | str:
    """Rows of a diagnosis sample: a whole number >= 100, or "all" for every row."""
    if text.strip().lower() == "all":
        return "all"
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        value = 0
    if value < 100:
        raise argparse.ArgumentTypeError(f"expected a number of rows >= 100, or 'all'; got {text}")
    return value
