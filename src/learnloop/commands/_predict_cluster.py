"""``learnloop predict --scheduler``: the blocks of a file scored by the workers of a dask.distributed cluster.

The model goes to every worker once. A Parquet file's row groups (an Arrow file's record batches) are read by the
workers themselves, so they must see the file at the same path (a shared or copied file system); a text file is read
here, block by block, and its blocks are sent. At most ``IN_FLIGHT_PER_THREAD`` blocks per worker thread are out at
a time and results come back in the file's order, so memory stays bounded here and the output is the same, row for
row, as a local run's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from types import SimpleNamespace

from learnloop.errors import LearnloopError

IN_FLIGHT_PER_THREAD = 2


def score_on_cluster(client, model, stream, reader, id_column: str | None, batch_size: int) -> Iterator:
    """:class:`~learnloop.commands.predict.Scored` parts of the file, in order, computed on the cluster."""
    from learnloop._cluster import worker_threads

    raw = [id_column] if id_column is not None else []
    model_future = client.scatter(model, broadcast=True, hash=False)
    where = SimpleNamespace(path=stream.path, names=list(stream.names))
    if stream.kind in ("parquet", "arrow"):
        specs = _groups(stream)
    else:
        specs = stream.blocks(reader.columns, batch_size, numeric=reader.numeric, raw=raw)
    window = IN_FLIGHT_PER_THREAD * worker_threads(client)
    pending: deque = deque()
    try:
        for spec in specs:
            pending.append(client.submit(score_part, model_future, spec, where, reader.columns, reader.numeric, raw,
                                         id_column, pure=False))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def _groups(stream) -> list[tuple]:
    """(kind, index, first row) of every row group (Parquet) or record batch (Arrow) of the file."""
    if stream.kind == "parquet":
        meta = stream._parquet.metadata
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    else:
        sizes = [stream._ipc.get_batch(i).num_rows for i in range(stream._ipc.num_record_batches)]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return [(stream.kind, i, start) for i, start in enumerate(starts)]


def score_part(model, spec, where, columns: list[str], numeric: list[str], raw: list[str], id_column):
    """On a worker: read the part (or take the block sent), encode it and predict (see ``predict.score_block``)."""
    from learnloop.commands._row_reader import RowReader
    from learnloop.commands.predict import Outputs, score_block

    block = spec if not isinstance(spec, tuple) else read_group(where.path, *spec, columns, numeric, raw)
    reader = RowReader(model, where)
    outputs = Outputs(model, getattr(model, "metadata", None) or {})
    return score_block(model, reader, outputs, block, id_column)


def read_group(path, kind: str, index: int, start: int, columns: list[str], numeric: list[str], raw: list[str]):
    """One row group / record batch as a :class:`~learnloop.data.table_stream.Block`, read as ``TableStream`` reads
    it."""
    import pyarrow as pa

    from learnloop._columns import arrow_column
    from learnloop.data.table_stream import Block, _numbers

    wanted = list(dict.fromkeys([*columns, *raw]))
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            table = pq.ParquetFile(path).read_row_group(index, columns=wanted)
        else:
            import pyarrow.ipc as ipc

            with pa.memory_map(str(path)) as source:
                table = pa.Table.from_batches([ipc.open_file(source).get_batch(index).select(wanted)])
    except (pa.ArrowException, OSError) as err:
        raise LearnloopError(f"{path}: a worker cannot read part {index} ({err}); the workers must see the file at "
                             f"this path.") from None
    block = Block(start, table.num_rows, {}, raw={name: table.column(name) for name in raw})
    numbers = set(numeric)
    for name in columns:
        col = table.column(name)
        if name in numbers:
            values, invalid, text = _numbers(col, False)
            block.columns[name] = values
            if invalid is not None:
                block.invalid[name], block.text[name] = invalid, text
        else:
            block.columns[name] = arrow_column(col, f"{path}: column {name!r}")
    return block
