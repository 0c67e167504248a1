"""The loop's lambda sweep on a dask.distributed LocalCluster of 2 worker processes against the same sweep in this
process: J_cv of every lambda (bit for bit) and the time each takes.

    python benchmarks/bench_dask_sweep.py [--rows 10000] [--rounds 3] [--write]

The data: the first diagnosis sample of `learnloop run` on make_table.py's 1,000,000-row table (a uniform sample of
`--rows` rows, split as the table is, the feature pipeline adapted on the kept rows' training part). The sweep: the
loop's seven lambdas (0 ... 30) on its smallest network (8 hidden units), 100 epochs, batch 32, stacked (one stack
here; one per worker on the cluster). Rounds alternate local and cluster; the cluster is started once (its start-up
time is reported apart) and each worker runs one thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
from _harness import machine_line, write_section
from make_table import make_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
HEADING = "Lambda sweep on a dask cluster"


def sample_splits(rows: int):
    from learnloop.data.sampling import sample_dataset, sample_table
    from learnloop.data.splits import splits_from_parts
    from learnloop.diagnostics.budget import MAX_SAMPLE

    csv = make_table(1_000_000)["csv"]
    sample = sample_table(csv, "target", MAX_SAMPLE, 0)
    sd = sample_dataset(sample, "target", missing="impute")
    sd.data.fit_features(np.flatnonzero(sd.parts == 0))
    return splits_from_parts(sd.data.x[:rows], sd.data.y[:rows], sd.parts[:rows], 0)


def main(argv: list[str] | None = None) -> int:
    import joblib
    from distributed import Client, LocalCluster

    from learnloop.diagnostics import validation_curve
    from learnloop.diagnostics.loop import FULL, network

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--write", action="store_true")
    args = p.parse_args(argv)

    splits = sample_splits(args.rows)
    x = splits.train.x
    variance = x.var(axis=0)
    build = partial(network, (8,), n_outputs=1, kind="classification", mean=x.mean(axis=0),
                    variance=np.where(variance > 1e-12, variance, 1.0), m=splits.train.m, flatten=False)
    lambdas = [float(v) for v in FULL["lambdas"]]
    sweep = partial(validation_curve, build, lambdas, splits, epochs=FULL["epochs"], fit_kwargs={"batch_size": 32})
    t = time.perf_counter()
    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0")
    client = Client(cluster)
    startup = time.perf_counter() - t
    times = {"local": [], "cluster": []}
    curves = {}
    try:
        for r in range(args.rounds):
            for where in (("local", "cluster") if r % 2 == 0 else ("cluster", "local")):
                t = time.perf_counter()
                if where == "local":
                    curves[where] = sweep(n_jobs=1)
                else:
                    with joblib.parallel_config(backend="dask"):
                        curves[where] = sweep()
                times[where].append(time.perf_counter() - t)
                print(f"  round {r + 1} {where:<7} {times[where][-1]:.1f} s  load {os.getloadavg()[0]:.1f}",
                      file=sys.stderr, flush=True)
    finally:
        client.close()
        cluster.close()
    local, remote = curves["local"], curves["cluster"]
    same = bool(np.array_equal(local.j_cv, remote.j_cv) and np.array_equal(local.cv_losses, remote.cv_losses))
    lines = [f"Command: `python benchmarks/bench_dask_sweep.py --rows {args.rows} --rounds {args.rounds}` "
             f"({machine_line()}; load average {os.getloadavg()[0]:.1f} at the end). {splits.train.m:,} training "
             f"and {splits.cv.m:,} cv rows of the 1,000,000-row table's first diagnosis sample; lambdas "
             f"{lambdas}, network 8 hidden units, {FULL['epochs']} epochs, batch 32; medians of {args.rounds} "
             f"interleaved rounds; the LocalCluster (2 worker processes, 1 thread each) took {startup:.1f} s to "
             f"start, not counted.", "",
             "| lambda | J_cv local | J_cv on the cluster |", "|---:|---:|---:|"]
    for lam, a, b in zip(lambdas, local.j_cv, remote.j_cv):
        lines.append(f"| {lam:g} | {a:.6f} | {b:.6f} |")
    lines += ["", f"J_cv of every lambda and every per-example cv loss equal bit for bit: {'yes' if same else 'NO'}; "
              f"chosen lambda {local.chosen_value:g} both. Time: local (one stack of 7 networks) "
              f"{statistics.median(times['local']):.1f} s, cluster (one stack per worker) "
              f"{statistics.median(times['cluster']):.1f} s."]
    body = "\n".join(lines)
    print(body)
    if args.write:
        write_section(Path(__file__).with_name("RESULTS.md"), HEADING, body)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
