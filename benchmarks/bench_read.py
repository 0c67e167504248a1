"""Reading a table into NumPy columns: learnloop's readers side by side with pandas and polars.

Readers, each in its own process (so peak memory is its own), rounds interleaved, medians reported:

- ``old``: the csv-module reader learnloop used before ``read_table`` (the reading part of the former
  ``load_csv``, copied below: csv.Sniffer, csv.reader, a strip per cell, missing tokens, float() per value);
- ``read_table``: ``learnloop.data.tables.read_table`` (pyarrow's CSV reader plus the sniffing and typing);
- ``pandas-c`` / ``pandas-pyarrow``: ``pandas.read_csv`` with the C engine / ``engine="pyarrow"``;
- ``polars``: ``polars.read_csv`` (skipped when polars is not installed).

Every reader ends with a dict of NumPy columns (what learnloop's typing and feature pipeline take), so the times
include pandas' and polars' conversion to NumPy; ``read s`` is the time to their own frame. Cases: ``csv`` (the
text file) and ``parquet``. The table comes from ``make_table.py`` (20 numbers, 1 category, a target).

    python benchmarks/bench_read.py [--rows 1000000] [--rounds 3] [--write]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))
from _harness import machine_line, run_matrix, write_section  # noqa: E402
from make_table import make_table  # noqa: E402

READERS = {"csv": ["old", "read_table", "pandas-c", "pandas-pyarrow", "polars"],
           "parquet": ["read_table", "pandas-pyarrow", "polars"]}
LABELS = {"old": "csv module (learnloop's reader before)", "read_table": "read_table (pyarrow)",
          "pandas-c": "pandas.read_csv, C engine", "pandas-pyarrow": "pandas.read_csv, engine='pyarrow'",
          "polars": "polars.read_csv"}
PARQUET_LABELS = {"read_table": "read_table (pyarrow.parquet)", "pandas-pyarrow": "pandas.read_parquet (pyarrow)",
                  "polars": "polars.read_parquet"}


def _label(reader: str, case: str) -> str:
    return PARQUET_LABELS[reader] if case == "parquet" else LABELS[reader]
ROWS_ENV = "LEARNLOOP_BENCH_ROWS"


# ---- the reader learnloop used before (reading part of the former load_csv) -------------------------------------
MISSING_TOKENS = frozenset({"", "?", "na", "n/a", "nan", "null", "none"})


def _is_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def old_reader(path: Path) -> dict[str, np.ndarray]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        sample = f.read(65536)
        f.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = [[cell.strip() for cell in row] for row in csv.reader(f, dialect) if row]
    header, body = rows[0], rows[1:]
    bad = [i + 2 for i, row in enumerate(body) if len(row) != len(header)]
    assert not bad
    columns = {name: [row[i] for row in body] for i, name in enumerate(header)}
    is_missing = {name: np.array([v.lower() in MISSING_TOKENS for v in values]) for name, values in columns.items()}
    out = {}
    for c in header:
        if all(_is_number(v) for v, miss in zip(columns[c], is_missing[c]) if not miss):
            out[c] = np.array([float(v) if not miss else np.nan for v, miss in zip(columns[c], is_missing[c])])
        else:
            out[c] = np.array(columns[c], dtype=object)
    return out


# ---- workers ------------------------------------------------------------------------------------------------------
def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(reader: str, case: str) -> dict:
    rows = int(os.environ.get(ROWS_ENV, 1_000_000))
    path = make_table(rows)[case]
    read, to_numpy = _reader(reader, case)
    if read is None:
        return {"skipped": True}
    base = _rss_mb()
    start = time.perf_counter()
    frame = read(path)
    mid = time.perf_counter()
    columns = to_numpy(frame)
    end = time.perf_counter()
    shape = [len(next(iter(columns.values()))), len(columns)]
    return {"s": end - start, "read_s": mid - start, "peak_mb": _peak_mb() - base, "rows": shape[0],
            "cols": shape[1]}


def _reader(reader: str, case: str):
    """(read(path) -> frame, to_numpy(frame) -> dict of NumPy columns), imports done before the clock starts."""
    if reader == "old":
        return old_reader, lambda cols: cols
    if reader == "read_table":
        import pyarrow.compute  # noqa: F401
        import pyarrow.csv  # noqa: F401
        import pyarrow.ipc  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        from learnloop.data.tables import read_table
        return read_table, lambda table: table.columns
    if reader.startswith("pandas"):
        import pandas as pd
        import pyarrow  # noqa: F401

        if case == "parquet":
            return pd.read_parquet, lambda df: {c: df[c].to_numpy() for c in df.columns}
        engine = "c" if reader == "pandas-c" else "pyarrow"
        return lambda p: pd.read_csv(p, engine=engine), lambda df: {c: df[c].to_numpy() for c in df.columns}
    if reader == "polars":
        try:
            import polars as pl
        except ImportError:
            return None, None
        read = pl.read_parquet if case == "parquet" else pl.read_csv
        return read, lambda df: {c: df[c].to_numpy() for c in df.columns}
    raise ValueError(reader)


# ---- report -------------------------------------------------------------------------------------------------------
def report(results: dict, rows: int) -> str:
    lines = []
    for case, by_reader in results.items():
        base = by_reader.get("read_table")
        old = by_reader.get("old")
        title = "CSV (text)" if case == "csv" else "Parquet"
        lines.append(f"\n**{title}**, {rows:,} rows x 22 columns, to a dict of NumPy columns\n")
        lines.append("| reader | s (median) | time / read_table's | vs the old reader | read s (own frame) "
                     "| peak memory MiB over the imports | rows x cols |")
        lines.append("|---|---:|---:|---:|---:|---:|---|")
        for name in READERS[case]:
            r = by_reader.get(name)
            if r is None:
                lines.append(f"| {_label(name, case)} | not run | | | | | |")
                continue
            ratio = f"{r['s'] / base['s']:.2f}x" if base else ""
            vs_old = f"{old['s'] / r['s']:.1f}x faster" if old and name != "old" else ""
            lines.append(f"| {_label(name, case)} | {r['s']:.3f} | {ratio} | {vs_old} | {r['read_s']:.3f} | "
                         f"{r['peak_mb']:.0f} | {int(r['rows']):,} x {int(r['cols'])} |")
    return "\n".join(lines)


def verdict(results: dict) -> str:
    """The sentences the numbers support: read_table against the old reader, and against pandas and polars."""
    out = []
    for case, by_reader in results.items():
        rt = by_reader.get("read_table")
        if rt is None:
            continue
        if "old" in by_reader:
            old = by_reader["old"]
            out.append(f"read_table reads the CSV {old['s'] / rt['s']:.1f}x faster than the csv-module reader "
                       f"learnloop used before (the goal was 10x), with {old['peak_mb'] / rt['peak_mb']:.1f}x less "
                       f"peak memory.")
        peers = [f"{_label(name, case)} {r['s'] / rt['s']:.2f}x" for name, r in by_reader.items()
                 if name not in ("old", "read_table")]
        if peers:
            out.append(f"{'CSV' if case == 'csv' else 'Parquet'} time relative to read_table: {', '.join(peers)}.")
    csv_, parquet = results.get("csv", {}), results.get("parquet", {})
    if {"read_table", "polars"} <= set(csv_) and {"read_table", "polars", "pandas-pyarrow"} <= set(parquet):
        fastest = min(csv_, key=lambda name: csv_[name]["s"])
        out.append(
            f"\n\nWhy pyarrow: it meets the goal alone, with one engine for CSV, Parquet and Arrow IPC; pandas "
            f"reads Parquet through pyarrow itself ({parquet['pandas-pyarrow']['s'] / parquet['read_table']['s']:.2f}x "
            f"read_table's time here) and its pyarrow CSV engine is pyarrow plus a conversion. polars is faster "
            f"({csv_['read_table']['s'] / csv_['polars']['s']:.1f}x on the CSV, "
            f"{parquet['read_table']['s'] / parquet['polars']['s']:.1f}x on Parquet; the fastest CSV reader in this "
            f"run was {_label(fastest, 'csv')}), but it would be a second columnar engine beside pyarrow (which the "
            f"Parquet row-group streaming uses), it decodes only UTF-8 (legacy files would still be transcoded "
            f"first) and it has no per-row hook like pyarrow's invalid_row_handler, which hands back a ragged row's "
            f"text to name its line; the difference is "
            f"{csv_['read_table']['s'] - csv_['polars']['s']:.1f} s once per run on a million rows, against the "
            f"{csv_.get('old', csv_['read_table'])['s'] - csv_['read_table']['s']:.0f} s saved over the old reader.")
    return " ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker")
    parser.add_argument("--case")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default="csv,parquet")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--save", type=Path, default=None, help="also save the medians as JSON here")
    parser.add_argument("--report-only", type=Path, default=None, metavar="JSON",
                        help="print (and --write) the report of medians saved by --save, without running")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.case)))
        return
    os.environ[ROWS_ENV] = str(args.rows)
    files = make_table(args.rows)
    sizes = ", ".join(f"{kind} {path.stat().st_size / 2**20:.0f} MiB" for kind, path in files.items())
    if args.report_only:
        saved = json.loads(args.report_only.read_text())
        results, command = saved["results"], saved["command"]
    else:
        results = {}
        for case in args.cases.split(","):
            results.update(run_matrix(__file__, READERS[case], [case], rounds=args.rounds))
        command = "python benchmarks/bench_read.py " + " ".join(sys.argv[1:])
        if args.save:
            args.save.write_text(json.dumps({"command": command, "rows": args.rows, "results": results}, indent=1))
    body = report(results, args.rows) + "\n\n" + verdict(results) + "\n"
    print(body)
    if args.write:
        write_section(HERE / "RESULTS.md", "Reading tables",
                      f"Command: `{command}` ({machine_line()}, 1-minute load average {os.getloadavg()[0]:.1f} at "
                      f"the end); files from `make_table.py` ({sizes}), medians of {args.rounds} interleaved rounds, "
                      f"each reader in its own process ({_versions()}); the ratio column is each reader's time over "
                      f"read_table's (< 1 means that reader is faster).\n{body}")


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in ("pyarrow", "pandas", "polars"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            pass
    return ", ".join(found)


if __name__ == "__main__":
    main()
