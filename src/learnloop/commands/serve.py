"""``learnloop serve MODEL``: serve a saved model over HTTP with a durable prediction log and drift monitoring.

Needs the ``serve`` extra (``pip install "learnloop[serve]"``). See :mod:`learnloop.serving.app` for the endpoints;
the API is described at ``/docs`` once the server runs (a page that needs no network).

Keys: ``--api-key-file F`` (or ``LEARNLOOP_API_KEY``) for predict, ``--admin-key-file F`` (or
``LEARNLOOP_ADMIN_KEY``) for feedback, reload, the monitor and /metrics; see :mod:`learnloop.serving.auth`. On a
loopback address the server answers only for loopback host names (``--allowed-hosts`` to change that).
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import socket
import sys
from pathlib import Path

from learnloop.commands._args import positive_int, positive_number
from learnloop.errors import LearnloopError

LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"]


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="serve a saved model over HTTP (predict, log, monitor)",
                              description=__doc__.splitlines()[0])
    p.add_argument("model", metavar="MODEL", help="a model file written by model.save()")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--name", default=None, help="the model's name in URLs (default: the file name without suffix)")
    p.add_argument("--log-db", default="predictions.sqlite", metavar="FILE",
                   help="SQLite prediction log, created readable by its owner only (default predictions.sqlite)")
    p.add_argument("--api-key-file", default=None, metavar="FILE",
                   help="keys (one a line) that may predict and read model descriptions; LEARNLOOP_API_KEY adds "
                        "one. With any key set, every endpoint but /healthz, /readyz, /docs needs one")
    p.add_argument("--admin-key-file", default=None, metavar="FILE",
                   help="keys that may also send feedback, reload, and read the monitor and /metrics; "
                        "LEARNLOOP_ADMIN_KEY adds one")
    p.add_argument("--allowed-hosts", default=None, metavar="NAMES",
                   help="comma-separated names the Host header may give, '*' for any (default: the loopback names "
                        "when --host is a loopback address, else any)")
    p.add_argument("--max-body-bytes", type=positive_int, default=1 << 20, metavar="N",
                   help="larger request bodies get 413 (default 1048576)")
    p.add_argument("--max-concurrency", type=positive_int, default=128, metavar="N",
                   help="requests (whose bodies have arrived) in flight beyond N get 503 at once (default 128)")
    p.add_argument("--max-bytes-in-flight", type=positive_int, default=64 * 2**20, metavar="N",
                   help="request body bytes held at once; more get 503 (default 67108864)")
    p.add_argument("--body-timeout", type=positive_number, default=10.0, metavar="SECONDS",
                   help="a request body must arrive within this time, else 408 (default 10)")
    p.add_argument("--synchronous", choices=("normal", "full"), default="normal",
                   help="prediction-log durability: normal (default) keeps every acknowledged request through a "
                        "killed server but not through a machine crash; full also fsyncs each commit (survives "
                        "power loss, fewer requests per second)")
    p.add_argument("--log-max-age-days", type=positive_number, default=None, metavar="DAYS",
                   help="delete logged predictions older than this, checked every minute (default: keep all)")
    p.add_argument("--log-max-rows", type=positive_int, default=None, metavar="N",
                   help="keep only the N newest logged predictions (default: keep all)")
    p.add_argument("--log-max-bytes", type=positive_int, default=None, metavar="N",
                   help="keep the log's pages within N bytes, oldest predictions deleted first, checked every half "
                        "second (default: no bound)")
    p.add_argument("--watch-interval", type=float, default=1.0, metavar="SECONDS",
                   help="check the model file for a new version this often; 0 disables (default 1)")
    p.add_argument("--access-log", action="store_true", help="print one line per request")
    p.set_defaults(func=run)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is printed (so a port in use is the only thing said)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise LearnloopError(f"Cannot listen on {host}: {exc.strerror}.") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        why = "the address is already in use (another server on that port?)" if exc.errno == errno.EADDRINUSE \
            else exc.strerror
        raise LearnloopError(f"Cannot listen on {host}:{port}: {why}.") from None
    sock.set_inheritable(True)
    return sock


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from learnloop.serving.app import create_app
        from learnloop.serving.auth import APIKeys
        from learnloop.serving.retention import Retention
    except ModuleNotFoundError as exc:
        raise LearnloopError(f"learnloop serve needs the serve extra ({exc.name} is missing): "
                             f"pip install 'learnloop[serve]'") from None
    path = Path(args.model)
    if not path.is_file():
        raise LearnloopError(f"No model file at {path}.")
    name = args.name or path.stem
    keys = APIKeys.load(args.api_key_file, args.admin_key_file)
    if args.allowed_hosts is not None:
        hosts = [h.strip() for h in args.allowed_hosts.split(",") if h.strip()]
    else:
        hosts = LOOPBACK_NAMES if _is_loopback(args.host) else None
    app = create_app({name: path}, log_db=args.log_db, max_body_bytes=args.max_body_bytes,
                     max_concurrency=args.max_concurrency, synchronous=args.synchronous,
                     watch_interval=args.watch_interval, api_keys=keys, allowed_hosts=hosts,
                     body_timeout=args.body_timeout, max_bytes_in_flight=args.max_bytes_in_flight,
                     log_retention=Retention(args.log_max_age_days, args.log_max_rows, args.log_max_bytes))
    sock = _bind(args.host, args.port)
    served = app.state.registry.get(name)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("learnloop serve: %(message)s"))
    log = logging.getLogger("learnloop.serve")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"learnloop serve: model {name!r} version {served.version} on "
          f"http://{shown}:{args.port}/v1/models/{name}:predict (log: {args.log_db})", flush=True)
    if served.schema is not None:
        print(f"learnloop serve: it takes rows of raw fields ({', '.join(served.schema.names)}); the fields and an "
              f"example are at http://{shown}:{args.port}/docs", flush=True)
    if not keys.enabled:
        print("learnloop serve: no API key (--api-key-file, --admin-key-file): whoever reaches this address may "
              "predict, send feedback and reload" + ("" if _is_loopback(args.host) else
                                                       f", and {args.host} is reachable from other machines"),
              flush=True)
    config = uvicorn.Config(app, workers=1, access_log=args.access_log, log_level="warning",
                            timeout_graceful_shutdown=10)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
