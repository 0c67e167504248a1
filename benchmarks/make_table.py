"""A seeded table for the reading benchmarks: N rows x 22 columns (20 numbers, 1 category, a 0/1 target).

Like the tables people export: 14 measurements with 2 to 6 decimals, 6 whole-number columns (ages, counts, amounts),
a city among 12, missing values in two columns (1% empty fields), and a target drawn from a logistic model of a few
columns. Written as CSV (what the benchmark reads as text) and Parquet.

    python benchmarks/make_table.py --rows 1000000 [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CITIES = np.array(["Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg", "Montpellier",
                   "Bordeaux", "Lille", "Rennes", "Reims"], dtype=object)
DEFAULT_DIR = Path(tempfile.gettempdir()) / "learnloop-bench"


def make_columns(rows: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The benchmark table as NumPy columns (float64 / int64 numbers, object text)."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(14):
        scale = 10.0 ** rng.integers(-1, 4)
        columns[f"m{i + 1:02d}"] = (rng.normal(0, 1, rows) * scale).round(int(rng.integers(2, 7)))
    columns["age"] = rng.integers(18, 90, rows)
    columns["visits"] = rng.poisson(3, rows)
    columns["items"] = rng.integers(0, 50, rows)
    columns["amount"] = rng.integers(0, 100_000, rows)
    columns["year"] = rng.integers(1990, 2025, rows)
    columns["rating"] = rng.integers(1, 6, rows)
    for name in ("m03", "m07"):
        gaps = rng.random(rows) < 0.01
        columns[name] = np.where(gaps, np.nan, columns[name])
    columns["city"] = CITIES[rng.integers(0, len(CITIES), rows)]
    z = 0.8 * columns["m01"] / columns["m01"].std() - 0.02 * (columns["age"] - 50) + 0.3 * (columns["rating"] - 3)
    columns["target"] = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(np.int64)
    return columns


def paths(rows: int, out: Path = DEFAULT_DIR) -> dict[str, Path]:
    return {"csv": out / f"table_{rows}.csv", "parquet": out / f"table_{rows}.parquet"}


def make_table(rows: int, out: Path = DEFAULT_DIR, seed: int = 0) -> dict[str, Path]:
    """Write the CSV and Parquet files (unless present) and return their paths."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from learnloop.data.tables import write_table

    files = paths(rows, out)
    if all(p.exists() for p in files.values()):
        return files
    out.mkdir(parents=True, exist_ok=True)
    columns = make_columns(rows, seed)
    for kind, path in files.items():
        tmp = path.with_name(path.stem + ".tmp" + path.suffix)
        if kind == "csv":
            _write_csv(columns, tmp)
        else:
            write_table(columns, tmp)
        tmp.replace(path)
    return files


def _write_csv(columns: dict[str, np.ndarray], path: Path) -> None:
    """CSV the way pandas' to_csv writes it: no quotes around names or text (none holds a comma here)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    table = pa.table({name: pa.array(values, from_pandas=True) for name, values in columns.items()})
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(columns) + "\n").encode())
        pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=False, quoting_style="none"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    files = make_table(args.rows, args.out, args.seed)
    for kind, path in files.items():
        print(f"{kind}: {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    print(f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
