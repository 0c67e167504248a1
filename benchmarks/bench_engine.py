"""Dense-network training and prediction, learnloop side by side with its peers.

Cases: ``small`` (400-25-15-10, batch 32, Adam), ``large`` (784-512-512-10, batch 128, Adam), ``predict1`` (one
row), ``predict10k`` (10,000 rows), ``import`` (import time), ``reference`` (the notes' loop forward vs the
vectorized one), ``activations`` (each activation and the from_logits binary crossentropy on a batch of float32
pre-activations; the ``numpy`` yardstick is the textbook formula). Frameworks: a minimal hand-written NumPy loop
(the yardstick), learnloop, PyTorch eager (2 threads, fused Adam), Keras 3 (if TensorFlow is installed) and
scikit-learn's MLPClassifier.

    python benchmarks/bench_engine.py [--rounds 3] [--cases small,large,...] [--write]

``--write`` records the table in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine_line, run_matrix, write_section  # noqa: E402

SHAPES = {"small": ([400, 25, 15, 10], 32, 4096, 6), "large": ([784, 512, 512, 10], 128, 8192, 3)}
FRAMEWORKS = ["numpy", "learnloop", "torch", "keras", "sklearn"]


def _data(sizes, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, sizes[0])).astype(np.float32), rng.integers(0, sizes[-1], n)


# ---- workers: each returns {"ms_per_step": ...} or {"us": ...} ------------------------------------------------
def train_numpy(sizes, bs, x, y, epochs):
    rng = np.random.default_rng(0)
    W = [rng.normal(0, np.sqrt(2 / a), (a, b)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
    B = [np.zeros(b, np.float32) for b in sizes[1:]]
    params = W + B
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    t, times = 0, []
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(x))
        xs, ys = x[order], y[order]
        for i in range(0, len(x), bs):
            xb, yb = xs[i:i + bs], ys[i:i + bs]
            acts = [xb]
            for j in range(len(W)):
                z = acts[-1] @ W[j] + B[j]
                acts.append(np.maximum(z, 0) if j < len(W) - 1 else z)
            e = np.exp(acts[-1] - acts[-1].max(1, keepdims=True))
            g = e / e.sum(1, keepdims=True)
            g[np.arange(len(yb)), yb] -= 1
            g /= len(yb)
            grads_w, grads_b = [None] * len(W), [None] * len(W)
            for j in reversed(range(len(W))):
                grads_w[j] = acts[j].T @ g
                grads_b[j] = g.sum(0)
                if j:
                    g = (g @ W[j].T) * (acts[j] > 0)
            t += 1
            for p, gr, a, b in zip(params, grads_w + grads_b, m1, m2):
                a += 0.1 * (gr - a)
                b += 0.001 * (gr * gr - b)
                p -= 1e-3 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * a / (np.sqrt(b) + 1e-7)
        times.append(time.perf_counter() - start)
    return times


def _learnloop_model(sizes):
    import learnloop as ll
    from learnloop.layers import Dense

    ll.set_seed(0)
    model = ll.Sequential([ll.Input((sizes[0],))] + [Dense(u, activation="relu") for u in sizes[1:-1]]
                          + [Dense(sizes[-1])])
    model.compile(optimizer=ll.optimizers.Adam(1e-3),
                  loss=ll.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def train_learnloop(sizes, bs, x, y, epochs):
    from learnloop.callbacks import LambdaCallback

    model = _learnloop_model(sizes)
    stamps = []
    cb = LambdaCallback(on_epoch_begin=lambda e, logs: stamps.append(time.perf_counter()),
                        on_epoch_end=lambda e, logs: stamps.append(time.perf_counter()))
    model.fit(x, y, batch_size=bs, epochs=epochs, verbose=0, callbacks=[cb])
    return [b - a for a, b in zip(stamps[::2], stamps[1::2])]


def _torch_model(sizes):
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    mods = []
    for j, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(torch.nn.Linear(a, b))
        if j < len(sizes) - 2:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def train_torch(sizes, bs, x, y, epochs):
    import torch

    model = _torch_model(sizes)
    try:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    except (RuntimeError, TypeError):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(xt))
        xs, ys = xt[order], yt[order]
        for i in range(0, len(xt), bs):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xs[i:i + bs]), ys[i:i + bs])
            loss.backward()
            opt.step()
            float(loss)                                   # read the loss each step, as fit loops do
        times.append(time.perf_counter() - start)
    return times


def _keras_model(sizes):
    import keras

    keras.utils.set_random_seed(0)
    layers = [keras.Input((sizes[0],))] + [keras.layers.Dense(u, activation="relu") for u in sizes[1:-1]]
    model = keras.Sequential(layers + [keras.layers.Dense(sizes[-1])])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def train_keras(sizes, bs, x, y, epochs):
    import keras

    model = _keras_model(sizes)
    stamps = []
    cb = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: stamps.append(time.perf_counter()),
                                        on_epoch_end=lambda e, logs: stamps.append(time.perf_counter()))
    model.fit(x, y, batch_size=bs, epochs=epochs, verbose=0, callbacks=[cb])
    return [b - a for a, b in zip(stamps[::2], stamps[1::2])]


def train_sklearn(sizes, bs, x, y, epochs):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    times = []
    for n_epochs in (1, epochs):             # the difference removes the one-off setup cost
        clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), batch_size=bs, max_iter=n_epochs, tol=0,
                            n_iter_no_change=10**9, learning_rate_init=1e-3, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            clf.fit(x, y)
            times.append(time.perf_counter() - start)
    per_epoch = (times[1] - times[0]) / (epochs - 1)
    return [per_epoch] * epochs


TRAINERS = {"numpy": train_numpy, "learnloop": train_learnloop, "torch": train_torch, "keras": train_keras,
            "sklearn": train_sklearn}


def _predictor(framework, sizes):
    x_fit, y_fit = _data(sizes, 256)
    if framework == "learnloop":
        model = _learnloop_model(sizes)
        return lambda x: model.predict(x)
    if framework == "numpy":
        rng = np.random.default_rng(0)
        W = [rng.normal(size=(a, b)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])]

        def forward(x):
            for j, w in enumerate(W):
                x = x @ w
                x = np.maximum(x, 0) if j < len(W) - 1 else x
            return x
        return forward
    if framework == "torch":
        import torch

        model = _torch_model(sizes).eval()

        def predict(x):
            with torch.inference_mode():
                return model(torch.from_numpy(x)).numpy()
        return predict
    if framework == "keras":
        model = _keras_model(sizes)
        return lambda x: model.predict(x, verbose=0)
    if framework == "sklearn":
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), max_iter=1).fit(x_fit, y_fit)
        return clf.predict_proba
    raise ValueError(framework)


def _time_call(fn, x, repeats: int, rounds: int = 5) -> float:
    for _ in range(min(repeats, 50)):
        fn(x)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            fn(x)
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def worker(framework: str, case: str) -> dict:
    if framework == "keras":
        try:
            import keras  # noqa: F401
        except ImportError:
            return {"skipped": True}
    if framework == "torch":
        try:
            import torch  # noqa: F401
        except ImportError:
            return {"skipped": True}
    if case in SHAPES:
        sizes, bs, n, epochs = SHAPES[case]
        x, y = _data(sizes, n)
        times = TRAINERS[framework](sizes, bs, x, y, epochs)
        steady = sorted(times[1:])[len(times[1:]) // 2]   # median of the epochs after the first
        steps = -(-n // bs)
        return {"ms_per_step": 1000 * steady / steps, "samples_per_s": n / steady}
    if case == "predict1":
        fn = _predictor(framework, SHAPES["small"][0])
        x = _data(SHAPES["small"][0], 1)[0]
        return {"us": 1e6 * _time_call(fn, x, 20 if framework == "keras" else 2000)}
    if case == "predict10k":
        fn = _predictor(framework, SHAPES["small"][0])
        x = _data(SHAPES["small"][0], 10_000)[0]
        return {"ms": 1e3 * _time_call(fn, x, 20)}
    if case == "import":
        name = {"learnloop": "learnloop", "torch": "torch", "keras": "keras", "sklearn": "sklearn.neural_network",
                "numpy": "numpy"}[framework]
        import subprocess

        code = f"import time; t = time.perf_counter(); import {name}; print(time.perf_counter() - t)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return {"s": float(out.stdout.strip().splitlines()[-1])}
    if case == "reference":
        if framework != "learnloop":
            return {"skipped": True}
        from learnloop.activations import relu
        from learnloop.reference import dense, dense_loop

        rng = np.random.default_rng(0)
        x, w, b = rng.normal(size=(1000, 400)), rng.normal(size=(400, 25)), rng.normal(size=25)
        loop = _time_call(lambda a: [dense_loop(row, w, b, relu) for row in a], x, 1, rounds=3)
        vec = _time_call(lambda a: dense(a, w, b, relu), x, 200)
        return {"loop_ms": 1e3 * loop, "vectorized_ms": 1e3 * vec, "speedup": loop / vec}
    if case == "activations":
        if framework not in ("numpy", "learnloop"):
            return {"skipped": True}
        return {f"{name}_us": 1e6 * _time_call(fn, z, repeats) for name, fn, z, repeats in _activation_cases(framework)}
    raise ValueError(f"unknown case {case}")


def _activation_cases(framework: str):
    """(name, fn, input, repeats): a hidden layer's pre-activations (4096 x 256) and a 32-row softmax output."""
    rng = np.random.default_rng(0)
    z = (4 * rng.normal(size=(4096, 256))).astype(np.float32)
    logits = (4 * rng.normal(size=(32, 10))).astype(np.float32)
    y = (rng.random(z.shape) < 0.5).astype(np.float32)
    if framework == "numpy":
        fns = {"sigmoid": lambda a: 1 / (1 + np.exp(-a)), "tanh": np.tanh, "relu": lambda a: np.maximum(a, 0),
               "softplus": lambda a: np.logaddexp(0, a),
               "softmax": lambda a: np.exp(a - a.max(-1, keepdims=True)) / np.exp(a - a.max(-1, keepdims=True)).sum(
                   -1, keepdims=True),
               "bce_logits": lambda a: np.logaddexp(0, a) - y * a}
    else:
        from learnloop import activations as act
        from learnloop.losses import binary_crossentropy

        fns = {"sigmoid": act.sigmoid, "tanh": act.tanh, "relu": act.relu, "softplus": act.softplus,
               "softmax": act.softmax, "bce_logits": lambda a: binary_crossentropy(y, a, from_logits=True)}
    return [(name, fn, logits if name == "softmax" else z, 2000 if name == "softmax" else 20)
            for name, fn in fns.items()]


def table(results: dict) -> str:
    lines = []
    for case in ("small", "large"):
        if case not in results or "learnloop" not in results[case]:
            continue
        ll = results[case]["learnloop"]["ms_per_step"]
        lines.append(f"\n**{case}** ({'-'.join(map(str, SHAPES[case][0]))}, batch {SHAPES[case][1]}, Adam): "
                     f"learnloop's speed relative to each peer (samples/s ratio; > 1 means learnloop is faster)\n")
        lines.append("| peer | ms/step (this run) | learnloop speed ratio |\n|---|---|---|")
        for fw, r in results[case].items():
            lines.append(f"| {fw} | {r['ms_per_step']:.3f} | {r['ms_per_step'] / ll:.2f}x |")
    for case, unit in (("predict1", "us"), ("predict10k", "ms"), ("import", "s")):
        if case in results and "learnloop" in results[case]:
            ll = results[case]["learnloop"][unit]
            lines.append(f"\n**{case}** ({unit}; ratio = peer time / learnloop time)\n")
            lines.append(f"| framework | {unit} | ratio |\n|---|---|---|")
            for fw, r in results[case].items():
                lines.append(f"| {fw} | {r[unit]:.3g} | {r[unit] / ll:.2f}x |")
    if "activations" in results and "learnloop" in results["activations"]:
        r = results["activations"]
        lines.append("\n**activations** (us per call: 4096x256 float32, softmax on 32x10; ratio = NumPy textbook "
                     "formula time / learnloop time)\n")
        lines.append("| function | learnloop us | numpy us | ratio |\n|---|---|---|---|")
        for key, value in r["learnloop"].items():
            base = r.get("numpy", {}).get(key)
            ratio = f"{base / value:.2f}x" if base else "-"
            lines.append(f"| {key[:-3]} | {value:.1f} | {base if base is None else f'{base:.1f}'} | {ratio} |")
    if "reference" in results and "learnloop" in results["reference"]:
        r = results["reference"]["learnloop"]
        lines.append(f"\n**reference**: the notes' loop forward (`dense_loop`, one example and one unit at a time) "
                     f"vs vectorized `dense` on 1000x400 -> 25: {r['loop_ms']:.1f} ms vs {r['vectorized_ms']:.3f} ms,"
                     f" {r['speedup']:.0f}x faster vectorized.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker")
    parser.add_argument("--case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default="small,large,predict1,predict10k,import,reference,activations")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.case)))
        return
    cases, frameworks = args.cases.split(","), args.frameworks.split(",")
    results = run_matrix(__file__, frameworks, cases, rounds=args.rounds)
    body = table(results)
    print(body)
    if args.write:
        command = "python benchmarks/bench_engine.py " + " ".join(sys.argv[1:])
        write_section(Path(__file__).with_name("RESULTS.md"), "Dense engine",
                      f"Command: `{command}` ({machine_line()}), medians of {args.rounds} interleaved rounds, "
                      f"each framework in its own process.\n{body}\n")


if __name__ == "__main__":
    main()
