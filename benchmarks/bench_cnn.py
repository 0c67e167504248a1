"""Convolutional-network training, learnloop side by side with its peers.

Cases:
- ``cnn2d``: 28x28x1 -> Conv2D 16 3x3 relu -> MaxPool 2 -> Conv2D 32 3x3 relu -> MaxPool 2 -> Flatten -> Dense 10,
  batch 64, Adam, softmax cross-entropy on logits.
- ``conv1d``: ECG-length signals (140 steps, 1 channel) -> Conv1D 16 k5 relu -> MaxPool1D 2 -> Conv1D 32 k5 relu
  -> GlobalAveragePooling1D -> Dense 1, batch 64, Adam, binary cross-entropy on logits.
- ``layers``: learnloop's own per-layer forward and backward times on the ``cnn2d`` shapes (ms per batch).

Frameworks: a minimal hand-written NumPy im2col network (the yardstick), learnloop, PyTorch eager and Keras 3 (if
TensorFlow is installed; skipped otherwise), each in its own process, rounds interleaved, medians. Every framework
gets ``--threads`` threads (default 2: BLAS for NumPy and learnloop, ``torch.set_num_threads``, TensorFlow's pools).

    python benchmarks/bench_cnn.py [--rounds 3] [--cases cnn2d,conv1d,layers] [--threads 2] [--write]

``--write`` records the table in benchmarks/RESULTS.md under "CNN (N threads)".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import as_strided

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine_line, run_matrix, write_section  # noqa: E402

BATCH, N_SAMPLES, EPOCHS = 64, 64 * 30, 4
THREADS = int(os.environ.get("BENCH_THREADS", "2"))                       # set by --threads for every worker
FRAMEWORKS = ["numpy", "learnloop", "torch", "keras"]
SHAPES = {"cnn2d": (28, 28, 1), "conv1d": (140, 1)}


def _data(case: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_SAMPLES, *SHAPES[case])).astype(np.float32)
    y = rng.integers(0, 10, N_SAMPLES) if case == "cnn2d" else rng.integers(0, 2, N_SAMPLES).astype(np.float32)
    return x, y


def _summary(step_times: list[float]) -> dict:
    """Median and 10th-percentile ms per training step, the first epoch (warm-up) left out.

    On a shared machine a neighbour's work lands on some steps and not others: the median says what a run got,
    the 10th percentile what the framework costs when the cores are its own.
    """
    steps_per_epoch = -(-N_SAMPLES // BATCH)
    steady = 1000 * np.array(step_times[steps_per_epoch:])
    return {"ms_per_step": float(np.median(steady)), "p10_ms_per_step": float(np.percentile(steady, 10))}


# ---- the yardstick: a minimal NumPy im2col network ------------------------------------------------------------
def _np_conv_forward(x, w, b):
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    s = x.strides
    cols = as_strided(x, (n, oh, ow, kh, kw, c), (s[0], s[1], s[2], s[1], s[2], s[3])).reshape(n * oh * ow, -1)
    a = np.maximum(cols @ w.reshape(-1, f) + b, 0)
    return a.reshape(n, oh, ow, f), (x.shape, cols, a)


def _np_conv_backward(grad, w, cache, need_dx):
    x_shape, cols, a = cache
    kh, kw, c, f = w.shape
    dz = grad.reshape(a.shape) * (a > 0)
    dw, db = (cols.T @ dz).reshape(w.shape), dz.sum(0)
    if not need_dx:
        return dw, db, None
    n, h, wd, _ = x_shape
    oh, ow = h - kh + 1, wd - kw + 1
    dcols = (dz @ w.reshape(-1, f).T).reshape(n, oh, ow, kh, kw, c)
    dx = np.zeros(x_shape, np.float32)
    for i in range(kh):
        for j in range(kw):
            dx[:, i:i + oh, j:j + ow] += dcols[:, :, :, i, j]
    return dw, db, dx


def _np_pool_forward(x):                                                   # 2x2 (or 1x2) max pool, "valid"
    n, h, w, c = x.shape
    ph = 2 if h > 1 else 1
    oh, ow = h // ph, w // 2
    xr = x[:, :oh * ph, :ow * 2].reshape(n, oh, ph, ow, 2, c)
    out = xr.max(axis=(2, 4))
    return out, (x.shape, xr == out[:, :, None, :, None])


def _np_pool_backward(grad, cache):
    x_shape, mask = cache
    dx = np.zeros(x_shape, np.float32)
    n, oh, ph, ow, _, c = mask.shape
    dx[:, :oh * ph, :ow * 2] = (mask * grad[:, :, None, :, None]).reshape(n, oh * ph, ow * 2, c)
    return dx


def train_numpy(case, x, y):
    rng = np.random.default_rng(0)
    x4 = x if case == "cnn2d" else x[:, None]                              # Conv1D as Conv2D of height 1
    k = (3, 3) if case == "cnn2d" else (1, 5)
    c_in, n_out = x4.shape[-1], 10 if case == "cnn2d" else 1
    flat = 5 * 5 * 32 if case == "cnn2d" else 32
    shapes = [(*k, c_in, 16), (16,), (*k, 16, 32), (32,), (flat, n_out), (n_out,)]
    params = [rng.normal(0, np.sqrt(2 / np.prod(s[:-1])), s).astype(np.float32) if len(s) > 1
              else np.zeros(s, np.float32) for s in shapes]
    m1, m2 = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    t, times = 0, []
    for _ in range(EPOCHS):
        order = rng.permutation(len(x4))
        xs, ys = x4[order], y[order]
        for i in range(0, len(xs), BATCH):
            start = time.perf_counter()
            xb, yb = xs[i:i + BATCH], ys[i:i + BATCH]
            w1, b1, w2, b2, w3, b3 = params
            a1, c1 = _np_conv_forward(xb, w1, b1)
            p1, cp1 = _np_pool_forward(a1)
            a2, c2 = _np_conv_forward(p1, w2, b2)
            if case == "cnn2d":
                p2, cp2 = _np_pool_forward(a2)
                h = p2.reshape(len(xb), -1)
            else:
                h = a2.mean(axis=(1, 2))
            z = h @ w3 + b3
            if case == "cnn2d":
                e = np.exp(z - z.max(1, keepdims=True))
                g = e / e.sum(1, keepdims=True)
                g[np.arange(len(yb)), yb] -= 1
            else:
                g = 1 / (1 + np.exp(-z)) - yb[:, None]
            g /= len(yb)
            dw3, db3, dh = h.T @ g, g.sum(0), g @ w3.T
            if case == "cnn2d":
                da2 = _np_pool_backward(dh.reshape(p2.shape), cp2)
            else:
                da2 = np.broadcast_to(dh[:, None, None, :] / (a2.shape[1] * a2.shape[2]), a2.shape)
            dw2, db2, dp1 = _np_conv_backward(da2, w2, c2, True)
            dw1, db1, _ = _np_conv_backward(_np_pool_backward(dp1, cp1), w1, c1, False)
            t += 1
            for p, gr, a, b in zip(params, (dw1, db1, dw2, db2, dw3, db3), m1, m2):
                a += 0.1 * (gr - a)
                b += 0.001 * (gr * gr - b)
                p -= 1e-3 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * a / (np.sqrt(b) + 1e-7)
            times.append(time.perf_counter() - start)
    return times


# ---- learnloop --------------------------------------------------------------------------------------------------
def _learnloop_model(case):
    import learnloop as ll
    from learnloop.layers import Conv1D, Conv2D, Dense, Flatten, GlobalAveragePooling1D, MaxPooling1D, MaxPooling2D

    ll.set_seed(0)
    if case == "cnn2d":
        layers = [Conv2D(16, 3, activation="relu"), MaxPooling2D(2), Conv2D(32, 3, activation="relu"),
                  MaxPooling2D(2), Flatten(), Dense(10)]
        loss = ll.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        layers = [Conv1D(16, 5, activation="relu"), MaxPooling1D(2), Conv1D(32, 5, activation="relu"),
                  GlobalAveragePooling1D(), Dense(1)]
        loss = ll.losses.BinaryCrossentropy(from_logits=True)
    model = ll.Sequential([ll.Input(SHAPES[case])] + layers)
    model.compile(optimizer=ll.optimizers.Adam(1e-3), loss=loss)
    return model


def train_learnloop(case, x, y):
    from learnloop.callbacks import LambdaCallback

    model = _learnloop_model(case)
    stamps = []
    cb = LambdaCallback(on_train_batch_begin=lambda step, logs: stamps.append(time.perf_counter()),
                        on_train_batch_end=lambda step, logs: stamps.append(time.perf_counter()))
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[cb])
    return [b - a for a, b in zip(stamps[::2], stamps[1::2])]


# ---- PyTorch eager ----------------------------------------------------------------------------------------------
def train_torch(case, x, y):
    import torch
    from torch import nn

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    if case == "cnn2d":
        model = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 10))
        xt, yt, loss_fn = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), torch.from_numpy(y), \
            nn.CrossEntropyLoss()
    else:
        model = nn.Sequential(nn.Conv1d(1, 16, 5), nn.ReLU(), nn.MaxPool1d(2), nn.Conv1d(16, 32, 5), nn.ReLU(),
                              nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(32, 1))
        xt, yt, loss_fn = torch.from_numpy(x.transpose(0, 2, 1).copy()), torch.from_numpy(y)[:, None], \
            nn.BCEWithLogitsLoss()
    try:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    except (RuntimeError, TypeError):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for _ in range(EPOCHS):
        order = torch.randperm(len(xt))
        xs, ys = xt[order], yt[order]
        for i in range(0, len(xt), BATCH):
            start = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xs[i:i + BATCH]), ys[i:i + BATCH])
            loss.backward()
            opt.step()
            float(loss.detach())                                           # read the loss each step, as fit does
            times.append(time.perf_counter() - start)
    return times


# ---- Keras 3 ------------------------------------------------------------------------------------------------------
def train_keras(case, x, y):
    import keras
    import tensorflow as tf
    from keras import layers as kl

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)
    keras.utils.set_random_seed(0)
    if case == "cnn2d":
        stack = [kl.Conv2D(16, 3, activation="relu"), kl.MaxPooling2D(2), kl.Conv2D(32, 3, activation="relu"),
                 kl.MaxPooling2D(2), kl.Flatten(), kl.Dense(10)]
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        stack = [kl.Conv1D(16, 5, activation="relu"), kl.MaxPooling1D(2), kl.Conv1D(32, 5, activation="relu"),
                 kl.GlobalAveragePooling1D(), kl.Dense(1)]
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
    model = keras.Sequential([keras.Input(SHAPES[case])] + stack)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    stamps = []
    cb = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda step, logs: stamps.append(time.perf_counter()),
                                        on_train_batch_end=lambda step, logs: stamps.append(time.perf_counter()))
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[cb])
    return [b - a for a, b in zip(stamps[::2], stamps[1::2])]


TRAINERS = {"numpy": train_numpy, "learnloop": train_learnloop, "torch": train_torch, "keras": train_keras}


def layer_times() -> dict:
    """learnloop's per-layer forward/backward on the cnn2d shapes, ms per batch of 64 (median of 30)."""
    model = _learnloop_model("cnn2d")
    model.layers[0].input_grad_needed = False                              # as fit sets it
    x = np.random.default_rng(0).normal(size=(BATCH, 28, 28, 1)).astype(np.float32)
    out: dict = {}
    for i, layer in enumerate(model.layers):
        y = layer.forward(x, training=True)
        g = np.ones_like(y)
        fwd, bwd = [], []
        for _ in range(30):
            start = time.perf_counter()
            layer.forward(x, training=True)
            mid = time.perf_counter()
            layer.backward(g)
            fwd.append(mid - start)
            bwd.append(time.perf_counter() - mid)
        out[f"{i}_{type(layer).__name__}_fwd"] = 1000 * float(np.median(fwd))
        out[f"{i}_{type(layer).__name__}_bwd"] = 1000 * float(np.median(bwd))
        x = y
    return out


def worker(framework: str, case: str) -> dict:
    if case == "layers":
        return layer_times() if framework == "learnloop" else {"skipped": True}
    if framework in ("keras", "torch"):
        try:
            __import__(framework)
        except ImportError:
            return {"skipped": True}
    x, y = _data(case)
    return _summary(TRAINERS[framework](case, x, y))


def table(results: dict) -> str:
    lines = []
    titles = {"cnn2d": "28x28x1 -> Conv2D 16 3x3 relu -> MaxPool 2 -> Conv2D 32 3x3 relu -> MaxPool 2 -> Flatten "
                       "-> Dense 10",
              "conv1d": "140x1 -> Conv1D 16 k5 relu -> MaxPool1D 2 -> Conv1D 32 k5 relu -> GlobalAveragePooling1D "
                        "-> Dense 1"}
    for case, title in titles.items():
        if case not in results or "learnloop" not in results[case]:
            continue
        ll = results[case]["learnloop"]["ms_per_step"]
        lines.append(f"\n**{case}** ({title}; batch {BATCH}, Adam): learnloop's steps/s relative to each peer "
                     f"(> 1 means learnloop is faster)\n")
        ll10 = results[case]["learnloop"]["p10_ms_per_step"]
        lines.append("| framework | ms/step (median) | learnloop speed ratio | ms/step (10th percentile) | ratio |\n"
                     "|---|---|---|---|---|")
        for fw, r in results[case].items():
            lines.append(f"| {fw} | {r['ms_per_step']:.2f} | {r['ms_per_step'] / ll:.2f}x | "
                         f"{r['p10_ms_per_step']:.2f} | {r['p10_ms_per_step'] / ll10:.2f}x |")
        missing = [fw for fw in FRAMEWORKS if fw not in results[case]]
        if missing:
            lines.append(f"\nNot installed, skipped: {', '.join(missing)}.")
    if "layers" in results and "learnloop" in results["layers"]:
        r = results["layers"]["learnloop"]
        lines.append("\n**layers** (learnloop, cnn2d shapes, batch 64; ms, median of 30 calls)\n")
        lines.append("| layer | forward | backward |\n|---|---|---|")
        for key in r:
            if key.endswith("_fwd"):
                name = key[:-4].split("_", 1)[1]
                lines.append(f"| {name} | {r[key]:.3f} | {r[key[:-4] + '_bwd']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker")
    parser.add_argument("--case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default="cnn2d,conv1d,layers")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--threads", default="2",
                        help="threads for every framework (BLAS, torch, TF); a list such as 2,1 runs each in turn")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.case)))
        return
    cases, frameworks = args.cases.split(","), args.frameworks.split(",")
    parts = []
    for threads in args.threads.split(","):
        for var in ("BENCH_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = threads
        results = run_matrix(__file__, frameworks, cases, rounds=args.rounds)
        parts.append(f"\n### {threads} thread{'s' if threads != '1' else ''} per framework\n{table(results)}")
    body = "\n".join(parts)
    print(body)
    if args.write:
        command = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_cnn.py " + \
            " ".join(sys.argv[1:])
        write_section(Path(__file__).with_name("RESULTS.md"), "CNN",
                      f"Command: `{command}` ({machine_line()}; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, as "
                      f"they slow NumPy on this machine), medians of {args.rounds} interleaved rounds, each framework "
                      f"in its own process; within a run, per-step times over {N_SAMPLES} samples x {EPOCHS} epochs, "
                      f"the first epoch dropped. The median is what a run got on this shared machine; the 10th "
                      f"percentile is closest to each framework's cost with the cores to itself.\n{body}\n")

if __name__ == "__main__":
    main()
