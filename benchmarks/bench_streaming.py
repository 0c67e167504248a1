"""Data larger than memory: training through ParquetBatches and ``learnloop predict`` on a 10,000,000-row Parquet file,
against training on arrays in memory and against Keras 3 on a keras.utils.PyDataset of the same file.

The file (made once, by ``--make``, in row groups of 100,000 rows): 20 float32 features drawn N(0, 1) and a binary
target ``y = [x . w + noise > 0]``; the network is 20-64-32-1 (ReLU, logits, Adam, binary crossentropy from logits).

Cases, each run in a fresh process whose peak RSS is its ``ru_maxrss``:

- ``memory_B``: two epochs of ``fit`` on arrays (the first 2,000,000 rows, read into memory), batch B;
- ``stream_B``: one epoch of ``fit`` on ``ParquetBatches(features=...)`` over the whole file (batch B; for B < 256 the
  epoch is cut to ``--stream-rows-small`` rows with ``steps_per_epoch``, to keep the run short);
- ``keras_B``: Keras 3 ``fit(shuffle=False)`` on a ``keras.utils.PyDataset`` that reads row groups in a random order
  and shuffles the rows of each (the first ``--keras-rows`` rows: Keras is slower);
- ``predict_parquet`` / ``predict_csv``: ``learnloop predict`` of a model that starts with a FeatureSpace
  (20 float_normalized features) over the whole file, to Parquet / CSV; the time counts loading the model.

    python benchmarks/bench_streaming.py --make                 # write the file and the model (about 900 MB)
    python benchmarks/bench_streaming.py [--rounds 3] [--threads 2,1] [--cases ...] [--write]

``--write`` records the table in benchmarks/RESULTS.md under "Streaming".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine_line, run_worker, write_section  # noqa: E402

DATA = Path(os.environ.get("BENCH_STREAMING_DIR", "/tmp/learnloop-bench-streaming"))
ROWS, GROUP, FEATURES = 10_000_000, 100_000, [f"f{i}" for i in range(20)]
MEMORY_ROWS, MEMORY_EPOCHS = 2_000_000, 2
CASES = ["memory_256", "stream_256", "memory_32", "stream_32", "keras_256", "predict_parquet", "predict_csv"]


def make() -> None:
    """The 10M-row file, written row group by row group (bounded memory), and the FeatureSpace model."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    w = rng.normal(size=20)
    schema = pa.schema([(f, pa.float32()) for f in FEATURES] + [("y", pa.int64())])
    path = DATA / "rows.parquet"
    with pq.ParquetWriter(path, schema) as writer:
        for _ in range(ROWS // GROUP):
            x = rng.normal(size=(GROUP, 20)).astype(np.float32)
            y = (x @ w + rng.normal(size=GROUP) > 0).astype(np.int64)
            writer.write_table(pa.table({**{f: x[:, i] for i, f in enumerate(FEATURES)}, "y": y}, schema=schema),
                               row_group_size=GROUP)
    import learnloop
    from learnloop.layers import Dense
    from learnloop.utils import FeatureSpace

    first = pq.ParquetFile(path).read_row_group(0)
    space = FeatureSpace({f: "float_normalized" for f in FEATURES})
    space.adapt({f: np.asarray(first.column(f)) for f in FEATURES})
    model = learnloop.Sequential([space, Dense(64, activation="relu"), Dense(32, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss=learnloop.losses.BinaryCrossentropy(from_logits=True))
    model.metadata["classes"] = ["no", "yes"]
    model.save(DATA / "model.zip")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB, {ROWS:,} rows) and {DATA / 'model.zip'}")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _learnloop_model():
    import learnloop
    from learnloop.layers import Dense

    learnloop.set_seed(0)
    model = learnloop.Sequential([learnloop.Input((20,)), Dense(64, activation="relu"), Dense(32, activation="relu"),
                                  Dense(1)])
    model.compile(optimizer="adam", loss=learnloop.losses.BinaryCrossentropy(from_logits=True))
    return model


def _memory(batch: int) -> dict:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(DATA / "rows.parquet")
    tables = [file.read_row_group(g) for g in range(MEMORY_ROWS // GROUP)]
    x = np.concatenate([np.column_stack([np.asarray(t.column(f)) for f in FEATURES]) for t in tables])
    y = np.concatenate([np.asarray(t.column("y")) for t in tables]).astype(np.float32)
    del tables
    model = _learnloop_model()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=MEMORY_EPOCHS, verbose=0)
    return {"samples_per_s": MEMORY_EPOCHS * len(x) / (time.perf_counter() - start), "rows": len(x)}


def _stream(batch: int, rows: int) -> dict:
    from learnloop.data import ParquetBatches

    source = ParquetBatches(DATA / "rows.parquet", target="y", features=FEATURES, batch_size=batch, seed=0)
    steps = None if rows >= source.n_rows else rows // batch
    model = _learnloop_model()
    start = time.perf_counter()
    model.fit(source, epochs=1, steps_per_epoch=steps, verbose=0)
    seen = source.n_rows if steps is None else steps * batch
    return {"samples_per_s": seen / (time.perf_counter() - start), "rows": seen, "max_rows_held": source.max_rows_held}


def _keras(batch: int, rows: int) -> dict:
    import keras
    import pyarrow.parquet as pq
    import tensorflow as tf

    threads = int(os.environ.get("BENCH_THREADS", "2"))
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)

    class RowGroups(keras.utils.PyDataset):
        """Batches from row groups read in a random order, the rows of each shuffled; one row group in memory."""

        def __init__(self, path, groups, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.file, self.batch_size = pq.ParquetFile(path), batch_size
            self.per_group = -(-GROUP // batch_size)
            self.groups, self.epoch, self.cached = groups, 0, (None, None, None)
            self.order = np.random.default_rng(0).permutation(groups)

        def __len__(self):
            return self.groups * self.per_group

        def __getitem__(self, i):
            g = int(self.order[i // self.per_group])
            if self.cached[0] != g:
                t = self.file.read_row_group(g)
                perm = np.random.default_rng([self.epoch, g]).permutation(t.num_rows)
                x = np.column_stack([np.asarray(t.column(f)) for f in FEATURES])[perm]
                self.cached = (g, x, np.asarray(t.column("y")).astype(np.float32)[perm])
            j = (i % self.per_group) * self.batch_size
            return self.cached[1][j:j + self.batch_size], self.cached[2][j:j + self.batch_size]

        def on_epoch_end(self):
            self.epoch += 1
            self.order = np.random.default_rng(self.epoch).permutation(self.groups)

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    source = RowGroups(DATA / "rows.parquet", rows // GROUP, batch)
    start = time.perf_counter()
    model.fit(source, epochs=1, shuffle=False, verbose=0)
    return {"samples_per_s": (rows // GROUP) * GROUP / (time.perf_counter() - start), "rows": rows}


def _predict(suffix: str) -> dict:
    import contextlib
    import io

    from learnloop.cli import main

    out = DATA / f"predictions{suffix}"
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        code = main(["predict", str(DATA / "model.zip"), "--data", str(DATA / "rows.parquet"), "-o", str(out),
                     "--quiet"])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"learnloop predict exited {code}")
    out.unlink()
    return {"rows_per_s": ROWS / seconds, "rows": ROWS, "printed": printed.getvalue().strip()}


def worker(case: str) -> dict:
    load = os.getloadavg()[0]
    kind, _, size = case.partition("_")
    if kind == "memory":
        result = _memory(int(size))
    elif kind == "stream":
        result = _stream(int(size), ROWS if int(size) >= 256 else int(os.environ["BENCH_STREAM_ROWS_SMALL"]))
    elif kind == "keras":
        try:
            import keras  # noqa: F401
        except ImportError:
            return {"skipped": True}
        result = _keras(int(size), int(os.environ["BENCH_KERAS_ROWS"]))
    else:
        result = _predict(".parquet" if size == "parquet" else ".csv")
    return {**result, "peak_rss_mb": _peak_mb(), "load": load}


def table(results: dict, threads: list[str]) -> str:
    """One row per (threads, case): medians over the rounds; a streaming rate is compared with the in-memory rate
    of the same round (the two run back to back), so a load spike on the shared machine hits both or neither."""
    rows = ["| BLAS threads | case | rows | rate (median) | peak RSS MB (max) | 1-min load (median) | note |",
            "|---:|---|---:|---:|---:|---:|---|"]
    for t in threads:
        for case in CASES:
            runs = results.get((t, case))
            if not runs:
                continue
            rate_key = "rows_per_s" if case.startswith("predict") else "samples_per_s"
            rate = statistics.median(r[rate_key] for r in runs)
            note = ""
            kind, _, size = case.partition("_")
            memory = {r["round"]: r["samples_per_s"] for r in results.get((t, f"memory_{size}"), [])}
            if kind == "stream" and memory:
                paired = [r["samples_per_s"] / memory[r["round"]] for r in runs if r["round"] in memory]
                note = (f"{statistics.median(paired):.0%} of in memory (median of the rounds' ratios: "
                        f"{', '.join(f'{q:.0%}' for q in paired)}); at most "
                        f"{max(r['max_rows_held'] for r in runs):,} rows held")
            if kind == "keras" and results.get((t, f"stream_{size}")):
                ours = statistics.median(r["samples_per_s"] for r in results[(t, f"stream_{size}")])
                note = f"learnloop through ParquetBatches: {ours / rate:.1f}x Keras's samples/s"
            unit = "rows/s" if rate_key == "rows_per_s" else "samples/s"
            peak, load = max(r["peak_rss_mb"] for r in runs), statistics.median(r["load"] for r in runs)
            rows.append(f"| {t} | {case} | {runs[0]['rows']:,} | {rate:,.0f} {unit} | {peak:,.0f} | {load:.1f} "
                        f"| {note} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make", action="store_true", help="write the 10M-row file and the model")
    parser.add_argument("--worker")
    parser.add_argument("--case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--threads", default="2", help="BLAS threads per worker, e.g. 2,1 (interleaved)")
    parser.add_argument("--stream-rows-small", type=int, default=2_000_000)
    parser.add_argument("--keras-rows", type=int, default=2_000_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.make:
        make()
        return
    if args.worker:
        print(json.dumps(worker(args.case)))
        return
    if not (DATA / "rows.parquet").is_file():
        raise SystemExit(f"no {DATA / 'rows.parquet'}: run with --make first")
    cases, threads = args.cases.split(","), args.threads.split(",")
    results: dict = {}
    os.environ["BENCH_STREAM_ROWS_SMALL"] = str(args.stream_rows_small)     # read by the workers
    os.environ["BENCH_KERAS_ROWS"] = str(args.keras_rows)
    for r in range(args.rounds):
        for t in threads:
            os.environ["OMP_NUM_THREADS"] = os.environ["BENCH_THREADS"] = t
            for case in cases:
                result = run_worker(__file__, "keras" if case.startswith("keras") else "learnloop", case,
                                    timeout=3600)
                if result is not None:
                    results.setdefault((t, case), []).append({**result, "round": r})
                    print(f"  round {r + 1} threads {t} {case:<16} {result}", file=sys.stderr)
    body = table(results, threads)
    print(body)
    if args.write:
        command = "python benchmarks/bench_streaming.py " + " ".join(sys.argv[1:])
        write_section(Path(__file__).with_name("RESULTS.md"), "Streaming",
                      f"Command: `{command}` ({machine_line()}), medians of {args.rounds} interleaved rounds, each "
                      f"case in its own process; peak RSS is the process's ru_maxrss. {NOTES}\n\n{body}\n")


NOTES = ("Data: 10,000,000 rows x 20 float32 features and a 0/1 target in row groups of 100,000 (Parquet, snappy, "
         "1.2 GB); network 20-64-32-1 (ReLU, logits, Adam). In memory: the first 2,000,000 rows as arrays, two "
         "epochs. ParquetBatches: buffer_size 200,000, prefetch on, one epoch over all 10M rows (batch 32: the "
         "first 2,000,000 rows' worth of steps). Keras: fit(shuffle=False) on a keras.utils.PyDataset that reads row "
         "groups in a random order and shuffles each (one row group in memory), on 2,000,000 rows. predict: "
         "`learnloop predict` of a model starting with a FeatureSpace of 20 float_normalized features, in process "
         "(the time includes loading the model), writing Parquet or CSV.")


if __name__ == "__main__":
    main()
