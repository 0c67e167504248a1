"""Deployment: save a digits model with its training statistics, serve it with ``learnloop serve``, query it over HTTP.

    python examples/serve_and_query.py          # a few seconds
    python examples/serve_and_query.py --fast   # fewer epochs (also LEARNLOOP_FAST=1)

The notes' deployment loop: the model runs behind an API on an inference server, every prediction is logged, and
the inputs the server sees are compared with the training data, so a shift in the data (drift) shows before the
accuracy drops. Here a 64-25-15-10 network learns scikit-learn's 8x8 digits; ``model.metadata`` carries the class
labels and reference statistics of the training inputs; the server starts in a subprocess on a free local port,
answers predictions, takes true labels as feedback, and reports drift once the traffic changes (the same digits,
made fainter). Needs the ``serve`` extra (FastAPI, uvicorn, prometheus-client, orjson).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import _figures as figures
import numpy as np
from sklearn.datasets import load_digits

import learnloop
from learnloop.data import train_test_split
from learnloop.layers import Dense
from learnloop.models import Sequential
from learnloop.serving import reference_statistics

METRICS_SHOWN = ("learnloop_requests_total", "learnloop_instances_total", "learnloop_drift", "learnloop_prediction_psi",
                 "learnloop_live_accuracy")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a few-second run for CI (also LEARNLOOP_FAST=1)")
    figures.add_argument(parser)
    args = parser.parse_args(argv)
    args.fast = args.fast or os.environ.get("LEARNLOOP_FAST") == "1"
    return args


def call(url: str, body: dict | None = None) -> dict | str:
    """GET (or POST ``body`` as JSON) and return the decoded JSON, or the text of a non-JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if response.headers.get_content_type() == "application/json" else text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_ready(base: str, server: subprocess.Popen, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"learnloop serve exited with code {server.returncode}: {server.stdout.read()[-2000:]}")
        try:
            if call(f"{base}/readyz")["status"] == "ready":
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"learnloop serve was not ready after {seconds:.0f} s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("uvicorn") is None:
        print("skipped: learnloop serve needs the serve extra: pip install 'learnloop[serve]'")
        return 0
    start = time.perf_counter()
    X, y = load_digits(return_X_y=True)
    train, test = train_test_split(X / 16.0, y, test_size=0.2, stratify=True, seed=0)

    learnloop.utils.set_random_seed(1234)
    model = Sequential([learnloop.Input(shape=(64,)), Dense(25, activation="relu"), Dense(15, activation="relu"),
                        Dense(10, activation="linear")])
    model.compile(loss=learnloop.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=learnloop.optimizers.Adam(0.003), metrics=["accuracy"])
    model.fit(train.x, train.y, epochs=20 if args.fast else 60, verbose=0)
    test_accuracy = model.evaluate(test.x, test.y, verbose=0, return_dict=True)["accuracy"]

    # What the server needs to know: the labels of the outputs, and what training inputs looked like.
    predicted = np.argmax(model.predict(train.x, verbose=0), axis=1)
    model.metadata.update({
        "classes": list(range(10)),
        "reference_statistics": reference_statistics(train.x, predicted, task="classification",
                                                     feature_names=[f"pixel_{r}_{c}" for r in range(8)
                                                                    for c in range(8)]),
    })

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "digits.zip"
        model.save(path)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "learnloop.cli", "serve", str(path), "--port", str(port),
                   "--log-db", str(Path(tmp) / "predictions.sqlite"), "--synchronous", "normal"]
        print("$", " ".join(["learnloop", *command[3:]]))
        server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_until_ready(base, server)
            info = call(f"{base}/v1/models/digits")
            print(f"serving {info['name']} version {info['version'][:12]}: task {info['task']}, input "
                  f"{info['input_shape']}, reference statistics: {info['has_reference_statistics']}")

            # 1. A few test digits, one request; then the true labels come back as feedback.
            answer = call(f"{base}/v1/models/digits:predict", {"instances": test.x[:8].tolist()})
            labels = [p["label"] for p in answer["predictions"]]
            same = labels == np.argmax(model.predict(test.x[:8], verbose=0), axis=1).tolist()
            print(f"predictions {labels}\ntrue labels {test.y[:8].tolist()}  (request {answer['request_id'][:8]})")
            for i, label in enumerate(test.y[:8].tolist()):
                feedback = call(f"{base}/v1/models/digits:feedback",
                                {"request_id": answer["request_id"], "label": label, "instance": i})
            print(f"live accuracy from feedback: {feedback['live_accuracy']}")

            # 2. The rest of the test set, as traffic like the training data...
            for rows in np.array_split(test.x[8:], 4):
                call(f"{base}/v1/models/digits:predict", {"instances": rows.tolist()})
            before = call(f"{base}/v1/models/digits/monitor")["drift"]
            # 3. ...then the same digits drawn fainter (a new scanner, say): the inputs shift.
            for rows in np.array_split(0.4 * test.x, 4):
                call(f"{base}/v1/models/digits:predict", {"instances": rows.tolist()})
            time.sleep(2.1)                                      # the monitor reuses a report for 2 s
            after = call(f"{base}/v1/models/digits/monitor")["drift"]
            for name, drift in (("test traffic", before), ("plus fainter digits", after)):
                top = ", ".join(f"{f['name']} {f['psi']:.2f}" for f in drift["top"][:3])
                print(f"monitor after {name}: {drift['window_size']} rows, status {drift['status']}, max PSI "
                      f"{drift['max_psi']:.2f}, {drift['drifted_features']} features drifted (top: {top}); "
                      f"PSI of predicted classes {drift['prediction']['psi']:.2f}")

            metrics = call(f"{base}/metrics")
            lines = [line for line in metrics.splitlines() if line.startswith(METRICS_SHOWN)]
            print("/metrics excerpt:\n  " + "\n  ".join(lines))
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            server.stdout.close()

    print(f"\nserve and query: digits network, expected ~0.95+ test accuracy and the served labels to match "
          f"predict(); got accuracy {test_accuracy:.3f}; served labels the same as predict(): {same}")
    print(f"serve and query: drift, expected 'stable' for test traffic and 'drift' once the digits are fainter; "
          f"got '{before['status']}' then '{after['status']}' (the inputs moved while the predicted classes did not: "
          f"PSI {after['prediction']['psi']:.2f})")
    print(f"({time.perf_counter() - start:.1f} s)")
    if args.figures:
        save_figures(args.figures, test.x[:6], before, after)
    return 0


def save_figures(folder: Path, digits, before: dict, after: dict) -> None:
    """The traffic that drifted (the same digits, fainter) and the pixels whose distribution moved most."""
    plt = figures.pyplot()
    fig = plt.figure(figsize=(10, 3.2))
    for i, image in enumerate(digits):
        for row, (scale, name) in enumerate(((1.0, "served first"), (0.4, "then, fainter"))):
            ax = fig.add_subplot(2, 2 * len(digits), row * 2 * len(digits) + i + 1)
            ax.imshow(scale * image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_axis_off()
            if i == 0:
                ax.set_title(name, fontsize=8, loc="left")
    ax = fig.add_subplot(1, 2, 2)
    top = after["top"][:8]
    ax.barh([f["name"] for f in top], [f["psi"] for f in top], color="tab:red", label="after the fainter digits")
    ax.axvline(before["max_psi"], color="tab:blue", linestyle="--", label="largest PSI before")
    ax.invert_yaxis()
    ax.set_xlabel("population stability index (PSI) against training")
    ax.set_title(f"Drift monitor: {after['drifted_features']} pixels drifted", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    figures.save(fig, folder, "serving_drift")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
