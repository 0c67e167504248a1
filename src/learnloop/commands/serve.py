"""``learnloop serve MODEL``: serve a saved model over HTTP with a durable prediction log and drift monitoring.

Needs the ``serve`` extra (``pip install "learnloop[serve]"``). See :mod:`learnloop.serving.app` for the endpoints;
the OpenAPI document is at ``/docs`` once the server runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from learnloop.commands._args import positive_int, positive_number
from learnloop.errors import LearnloopError


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="serve a saved model over HTTP (predict, log, monitor)",
                              description=__doc__.splitlines()[0])
    p.add_argument("model", metavar="MODEL", help="a model file written by model.save()")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--name", default=None, help="the model's name in URLs (default: the file name without suffix)")
    p.add_argument("--log-db", default="predictions.sqlite", metavar="FILE",
                   help="SQLite prediction log (default predictions.sqlite)")
    p.add_argument("--max-body-bytes", type=positive_int, default=1 << 20, metavar="N",
                   help="larger request bodies get 413 (default 1048576)")
    p.add_argument("--max-concurrency", type=positive_int, default=128, metavar="N",
                   help="requests in flight beyond N get 503 at once (default 128)")
    p.add_argument("--synchronous", choices=("normal", "full"), default="normal",
                   help="prediction-log durability: normal (default) keeps every acknowledged request through a "
                        "killed server but not through a machine crash; full also fsyncs each commit (survives "
                        "power loss, fewer requests per second)")
    p.add_argument("--log-max-age-days", type=positive_number, default=None, metavar="DAYS",
                   help="delete logged predictions older than this, checked every minute (default: keep all)")
    p.add_argument("--log-max-rows", type=positive_int, default=None, metavar="N",
                   help="keep only the N newest logged predictions (default: keep all)")
    p.add_argument("--watch-interval", type=float, default=1.0, metavar="SECONDS",
                   help="check the model file for a new version this often; 0 disables (default 1)")
    p.add_argument("--access-log", action="store_true", help="print one line per request")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from learnloop.serving.app import create_app
        from learnloop.serving.retention import Retention
    except ModuleNotFoundError as exc:
        raise LearnloopError(f"learnloop serve needs the serve extra ({exc.name} is missing): "
                             f"pip install 'learnloop[serve]'") from None
    path = Path(args.model)
    if not path.is_file():
        raise LearnloopError(f"No model file at {path}.")
    name = args.name or path.stem
    app = create_app({name: path}, log_db=args.log_db, max_body_bytes=args.max_body_bytes,
                     max_concurrency=args.max_concurrency, synchronous=args.synchronous,
                     watch_interval=args.watch_interval,
                     log_retention=Retention(args.log_max_age_days, args.log_max_rows))
    served = app.state.registry.get(name)
    print(f"learnloop serve: model {name!r} version {served.version} on "
          f"http://{args.host}:{args.port}/v1/models/{name}:predict (log: {args.log_db})", flush=True)
    if served.schema is not None:
        print(f"learnloop serve: it takes rows of raw fields ({', '.join(served.schema.names)}); the fields and an "
              f"example are at http://{args.host}:{args.port}/docs", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, workers=1, access_log=args.access_log, log_level="warning",
                timeout_graceful_shutdown=10)
    return 0
