"""``learnloop predict MODEL --data FILE -o OUT``: a saved model's predictions for every row of a table file.

The rows stream through the model and its feature pipeline in blocks of ``--batch-size`` (Parquet and Arrow files by
row group and record batch, delimited text through pyarrow's streaming CSV reader, with ``read_table``'s sniffing),
so memory stays bounded whatever the file size; the next block is read while the current one is predicted. The
output (CSV, or Parquet for a .parquet/.pq suffix) has one row per input row, in order: the ``--id`` column when
asked, then ``prediction`` (the original class label, from the model's metadata, or the value for a regressor) and,
for a classifier, ``probability_<label>`` for each class.

A row the model cannot take (text in a numeric column, a missing value a feature does not impute, a value that is not
finite once encoded, a line with the wrong number of fields) stops the command with its row number and column; with
``--on-error skip`` it is left out, counted, and the rest is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from learnloop.commands._args import codec, positive_int
from learnloop.commands._row_reader import RowReader
from learnloop.errors import LearnloopError
from learnloop.models.outputs import class_indices, class_probabilities, output_kind

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
DEFAULT_BATCH = 65536


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="predictions for every row of a CSV / Parquet file, streamed (CSV or Parquet out)",
        description="Predict for every row of a table file with a saved model, in bounded memory.")
    p.add_argument("model", metavar="MODEL", help="a model file written by model.save() or learnloop run")
    p.add_argument("--data", required=True, type=Path, metavar="FILE",
                   help="the rows: CSV or any delimited text (read as read_table reads it), Parquet or Arrow IPC")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUT",
                   help="where to write the predictions: .csv (or .tsv/.txt) or .parquet")
    p.add_argument("--id", metavar="COL", default=None, help="a column of the data to copy into the output")
    p.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH, metavar="N",
                   help=f"rows read, encoded and predicted at a time (default {DEFAULT_BATCH})")
    p.add_argument("--on-error", choices=("error", "skip"), default="error",
                   help="a row the model cannot take: stop naming it (error, the default), or leave it out and "
                        "count it (skip)")
    p.add_argument("--encoding", type=codec, default=None, help="the text file's encoding (default: detected)")
    p.add_argument("--delimiter", default=None, help="the text file's delimiter (default: sniffed)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a dask.distributed scheduler (tcp://HOST:8786): Parquet row groups (Arrow record batches) "
                        "are read and scored by its workers, which must see the file at the same path; text is read "
                        "here and its blocks scored there (pip install 'learnloop[cluster]')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    _check_paths(args)
    from learnloop.data._background import Prefetched
    from learnloop.data.table_stream import TableStream
    from learnloop.models import load_model

    model = load_model(args.model)
    meta = getattr(model, "metadata", None) or {}
    stream = TableStream(args.data, encoding=args.encoding, delimiter=args.delimiter, names=meta.get("columns"),
                         skip_ragged=args.on_error == "skip")
    reader = RowReader(model, stream)
    if args.id is not None and args.id not in stream.names:
        raise LearnloopError(f"--id {args.id!r}: {args.data} has no such column; its columns are {stream.names}.",
                             cli=f"--id {args.id!r} is not a column of {args.data}; its columns are {stream.names}.")
    outputs = Outputs(model, meta)
    if args.id is not None and args.id in outputs.names:
        raise LearnloopError(f"--id {args.id!r} has the name of an output column ({outputs.names}); rename it.")

    start = time.perf_counter()
    bar = _progress(stream.num_rows, args.quiet)
    raw = [args.id] if args.id is not None else []
    client = None
    if args.scheduler:
        from learnloop._cluster import connect
        from learnloop.commands._predict_cluster import score_on_cluster

        client = connect(args.scheduler)
        scored = score_on_cluster(client, model, stream, reader, args.id, args.batch_size)
        blocks = None
    else:
        blocks = Prefetched(stream.blocks(reader.columns, args.batch_size, numeric=reader.numeric, raw=raw))
        scored = (score_block(model, reader, outputs, block, args.id) for block in blocks)
    tmp = args.output.with_name(f".{args.output.name}.partial")
    sink = Sink(tmp, args.output.suffix.lower())
    skipped, first_skip = 0, None
    try:
        for part in scored:
            if part.bad_rows is not None:
                row = part.start + int(part.bad_rows[0]) + 1
                reason = part.reason or "the model cannot take it"
                if args.on_error == "error":
                    raise LearnloopError(f"{args.data}: row {row} (data rows counted from 1): "
                                         f"{reason}. Fix the row, or pass --on-error skip to leave out such rows.")
                skipped += len(part.bad_rows)
                if first_skip is None:
                    first_skip = f"row {row}: {reason}"
            sink.put(part.table)
            if bar is not None:
                bar.update(part.n)
        if sink.rows is None:
            raise LearnloopError(f"{args.data} has no data rows.")
        sink.close()
        tmp.replace(args.output)
    finally:
        if blocks is not None:
            blocks.close()
        else:
            scored.close()
        if client is not None:
            client.close()
        sink.abandon()
        if bar is not None:
            bar.close()
        tmp.unlink(missing_ok=True)
    written = sink.rows
    seconds = time.perf_counter() - start
    ragged = len(stream.ragged)
    print(f"wrote {args.output}: {written:,} rows ({', '.join(outputs.names)}) in {seconds:.1f} s "
          f"({(written + skipped + ragged) / max(seconds, 1e-9):,.0f} rows/s)")
    if skipped or ragged:
        print(f"skipped {skipped + ragged:,} rows the model could not take" +
              (f"; first: {first_skip}" if first_skip else "") +
              (f"; {ragged} lines with the wrong number of fields (first: line {stream.ragged[0][0]})"
               if ragged else ""))
    return 0


@dataclass
class Scored:
    """One block's output rows: where it starts, its rows read, the output table of the rows the model took, and
    the rows it could not take (positions in the block) with the first one's reason."""

    start: int
    n: int
    table: object
    bad_rows: np.ndarray | None = None
    reason: str | None = None


def score_block(model, reader, outputs, block, id_column: str | None) -> Scored:
    """A block of raw columns through the feature pipeline and the network, into output columns."""
    x, bad, why = reader.encode(block)
    table = outputs.table(model._predict_prepared(x) if len(x) else None, len(x))
    if id_column is not None:
        table = _with_id(table, id_column, block.raw[id_column], bad)
    if bad is None:
        return Scored(block.start, block.n, table)
    rows = np.flatnonzero(bad)
    return Scored(block.start, block.n, table, rows, why.get(int(rows[0])))


def _check_paths(args) -> None:
    """Argument errors before any work, naming the flag."""
    if not Path(args.model).is_file():
        raise LearnloopError(f"No model file at {args.model}.")
    if not args.data.is_file():
        raise LearnloopError(f"--data {args.data}: no such file.")
    suffix = args.output.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise LearnloopError(f"-o {args.output}: the suffix says the format; use .csv (or .tsv, .txt) or .parquet.")
    if not args.output.parent.is_dir():
        raise LearnloopError(f"-o {args.output}: the folder {args.output.parent} does not exist.")
    for other, flag in ((args.data, "--data"), (Path(args.model), "MODEL")):
        if args.output.resolve() == other.resolve():
            raise LearnloopError(f"-o {args.output} is the {flag} file itself; choose another path.")


def _progress(total: int | None, quiet: bool):
    """A progress bar on stderr when it is a terminal (never in a pipe, a log file or a notebook cell's capture)."""
    from learnloop.diagnostics.progress import _is_terminal

    if quiet or not _is_terminal():
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="row", unit_scale=True, file=sys.stderr, mininterval=0.5, dynamic_ncols=True)


class Outputs:
    """The output columns of a model: prediction (and class probabilities) from its raw outputs."""

    def __init__(self, model, meta: dict):
        kind = output_kind(model)
        self.task, self.from_logits = kind.task, kind.from_logits
        width = int(tuple(model.output_shape)[-1])
        if self.task == "regression":
            self.classes = None
            self.names = ["prediction"] if width == 1 else [f"prediction_{j}" for j in range(width)]
            return
        n_classes = 2 if self.task == "binary" else width
        classes = meta.get("classes")
        self.classes = list(classes) if isinstance(classes, list) and len(classes) == n_classes else \
            list(range(n_classes))
        self.names = ["prediction"] + [f"probability_{c}" for c in self.classes]

    def table(self, out: np.ndarray | None, n: int):
        """A pyarrow Table of the output columns for the outputs ``out`` of ``n`` rows."""
        import pyarrow as pa

        if out is None:
            out = np.empty((0, 1 if self.task != "multiclass" else len(self.classes)), dtype=np.float32)
        out = out.reshape(n, -1)
        if self.task == "regression":
            return pa.table({name: _numeric(out[:, j]) for j, name in enumerate(self.names)})
        with np.errstate(all="ignore"):
            probs = class_probabilities(out, self.task, self.from_logits)
            index = class_indices(out, self.from_logits)
        labels = pa.DictionaryArray.from_arrays(_numeric(index.astype(np.int32)), _labels(self.classes))
        columns = {"prediction": labels}
        for j, name in enumerate(self.names[1:]):
            columns[name] = _numeric(np.ascontiguousarray(probs[:, j]))
        return pa.table(columns)


def _numeric(values: np.ndarray):
    """A NumPy array of numbers as an Arrow array, from its buffer (pa.array would import pandas)."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    kind = {np.dtype(np.float32): pa.float32(), np.dtype(np.float64): pa.float64(), np.dtype(np.int32): pa.int32(),
            np.dtype(np.int64): pa.int64()}[values.dtype]
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _labels(classes: list):
    """The class labels as an Arrow array: integers, numbers, or text."""
    import pyarrow as pa

    if all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in classes):
        return _numeric(np.asarray(classes, dtype=np.int64))
    if all(isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, bool) for c in classes):
        return _numeric(np.asarray(classes, dtype=np.float64))
    encoded = [str(c).encode("utf-8") for c in classes]
    offsets = np.concatenate([[0], np.cumsum([len(e) for e in encoded])]).astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(classes), [None, pa.py_buffer(offsets),
                                                            pa.py_buffer(b"".join(encoded))])


def _with_id(table, name: str, ids, bad: np.ndarray | None):
    """``table`` with the id column (as read, the good rows') first."""
    import pyarrow as pa

    if bad is not None:
        ids = ids.take(_numeric(np.flatnonzero(~bad).astype(np.int64)))
    return pa.table({name: ids, **{c: table.column(c) for c in table.column_names}})


class Sink:
    """The output file, written in a background thread while the next block is predicted (CSV or Parquet by the
    suffix; floats are not dictionary-encoded in Parquet: they rarely repeat)."""

    def __init__(self, path: Path, suffix: str):
        self.path, self.suffix = path, suffix
        self.rows: int | None = None          # rows written; None before the first block
        self._writer = self._consumer = None

    def put(self, table) -> None:
        if self._writer is None:
            self._writer = self._open(table.schema)
            from learnloop.data._background import Consumer

            self._consumer = Consumer(self._writer.write_table)
            self.rows = 0
        if table.num_rows:
            self._consumer.put(table)
            self.rows += table.num_rows

    def _open(self, schema):
        import pyarrow as pa

        if self.suffix in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            return pq.ParquetWriter(self.path, schema,
                                    use_dictionary=[f.name for f in schema if not pa.types.is_floating(f.type)])
        import pyarrow.csv as pcsv

        delimiter = "\t" if self.suffix == ".tsv" else ","
        return pcsv.CSVWriter(self.path, schema, write_options=pcsv.WriteOptions(delimiter=delimiter))

    def close(self) -> None:
        """Finish writing (raises a write error)."""
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            consumer.close()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()

    def abandon(self) -> None:
        """Stop after an error (the partial file is removed by the caller); a second error is not raised."""
        try:
            self.close()
        except Exception:               # the error being handled is the one to report
            pass
