"""``learnloop logs export|stats --db FILE``: read the prediction log a server wrote."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from learnloop.errors import LearnloopError


def register(subparsers) -> None:
    p = subparsers.add_parser("logs", help="export or summarize a prediction log", description=__doc__.splitlines()[0])
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


def _db(path: str) -> Path:
    db = Path(path)
    if not db.is_file():
        raise LearnloopError(f"No prediction log at {db}.")
    return db


def run_export(args: argparse.Namespace) -> int:
    from learnloop.serving.logquery import export

    db = _db(args.db)
    if args.output:
        with open(args.output, "w", newline="", encoding="utf-8") as out:
            n = export(db, out, args.format, args.model)
        print(f"wrote {n} rows to {args.output}", file=sys.stderr)
    else:
        try:
            export(db, sys.stdout, args.format, args.model)
            sys.stdout.flush()
        except BrokenPipeError:                          # e.g. piped into head: stop quietly
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from learnloop.serving.logquery import stats, text_summary

    summary = stats(_db(args.db))
    print(json.dumps(summary, indent=2) if args.json else text_summary(summary), end="\n" if args.json else "")
    return 0
