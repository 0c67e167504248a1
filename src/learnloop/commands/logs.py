"""``learnloop logs export|stats|prune --db FILE``: read, or trim, the prediction log a server wrote."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from learnloop.commands._args import positive_int, positive_number
from learnloop.errors import LearnloopError


def register(subparsers) -> None:
    p = subparsers.add_parser("logs", help="export, summarize or trim a prediction log",
                              description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="logs_command", metavar="ACTION", required=True)
    exp = sub.add_parser("export", help="every logged request as CSV or JSON lines")
    exp.add_argument("--db", required=True, metavar="FILE", help="the SQLite prediction log")
    exp.add_argument("--format", choices=("csv", "jsonl"), default="jsonl", help="default jsonl")
    exp.add_argument("--model", default=None, help="only this model's requests")
    exp.add_argument("--output", "-o", default=None, metavar="FILE", help="write here instead of stdout")
    exp.set_defaults(func=run_export)
    st = sub.add_parser("stats", help="counts, latency percentiles, versions, labels and feedback accuracy")
    st.add_argument("--db", required=True, metavar="FILE", help="the SQLite prediction log")
    st.add_argument("--json", action="store_true", help="print the summary as JSON")
    st.set_defaults(func=run_stats)
    pr = sub.add_parser("prune", help="delete old requests (and their feedback), as serve --log-max-* does")
    pr.add_argument("--db", required=True, metavar="FILE", help="the SQLite prediction log")
    pr.add_argument("--max-age-days", type=positive_number, default=None, metavar="DAYS",
                    help="delete requests older than this")
    pr.add_argument("--max-rows", type=positive_int, default=None, metavar="N", help="keep only the N newest")
    pr.add_argument("--max-bytes", type=positive_int, default=None, metavar="N",
                    help="delete the oldest until the log's pages are within N bytes")
    pr.set_defaults(func=run_prune)


def _db(path: str) -> Path:
    db = Path(path)
    if not db.is_file():
        raise LearnloopError(f"No prediction log at {db}.")
    return db


def run_export(args: argparse.Namespace) -> int:
    from learnloop.serving.logquery import export

    db = _db(args.db)
    counts: dict = {}
    if args.output:
        with open(args.output, "w", newline="", encoding="utf-8") as out:
            n = export(db, out, args.format, args.model, counts)
        print(f"wrote {n} rows to {args.output}", file=sys.stderr)
    else:
        try:
            export(db, sys.stdout, args.format, args.model, counts)
            sys.stdout.flush()
        except BrokenPipeError:                          # e.g. piped into head: stop quietly
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    if counts.get("skipped"):
        print(f"skipped {counts['skipped']} unreadable rows (inputs or outputs not JSON)", file=sys.stderr)
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from learnloop.serving.logquery import stats, text_summary

    summary = stats(_db(args.db))
    print(json.dumps(summary, indent=2) if args.json else text_summary(summary), end="\n" if args.json else "")
    return 0


def run_prune(args: argparse.Namespace) -> int:
    from learnloop.serving.predlog import connect
    from learnloop.serving.retention import Retention, prune

    retention = Retention(args.max_age_days, args.max_rows, args.max_bytes)
    if not retention.bounded:
        raise LearnloopError("learnloop logs prune needs --max-age-days, --max-rows and/or --max-bytes (what to keep).")
    conn = connect(_db(args.db))
    try:
        deleted = prune(conn, retention)
        left = conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
    finally:
        conn.close()
    print(f"deleted {deleted} requests; {left} remain in {args.db}")
    return 0
