"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts (the default), or Keras 2's
layout (``style="keras2"``), which the course's notebooks show."""

from __future__ import annotations

from learnloop.errors import LearnloopError

STYLES = ("keras3", "keras2")


def _size(n_params: int, bytes_per_param: int = 4) -> str:
    size = float(n_params * bytes_per_param)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def _shape(layer) -> str:
    if layer.output is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in layer.output.shape) + \
        ("," if len(layer.output.shape) == 1 else "") + ")"


def _counts(model) -> tuple[list[tuple[str, str, str]], int, int]:
    """(rows of (name (type), output shape, params), trainable, non-trainable)."""
    rows = []
    trainable = non_trainable = 0
    for layer in model.layers:
        if layer.built:
            n = layer.count_params()
            n_trainable = sum(int(w.size) for w in layer.trainable_weights)
            trainable += n_trainable
            non_trainable += n - n_trainable
            rows.append((f"{layer.name} ({type(layer).__name__})", _shape(layer), f"{n:,}"))
        else:
            rows.append((f"{layer.name} ({type(layer).__name__})", "?", "0 (unbuilt)"))
    return rows, trainable, non_trainable


def format_summary(model, line_length: int | None = None, style: str = "keras3", positions=None) -> str:
    """The summary as text: one row per layer, then total, trainable and non-trainable parameter counts.

    ``style="keras2"`` gives Keras 2's layout (65 columns, ``_``/``=`` rules, a blank line after each layer).
    """
    if style not in STYLES:
        raise LearnloopError(f"summary(style=...) expects one of {list(STYLES)}; got {style!r}.")
    if style == "keras2":
        return _keras2(model, line_length, positions)
    widths = [31, 24, 15]
    if line_length:
        widths[0] = max(20, line_length - sum(widths[1:]) - 4)
    rows, trainable, non_trainable = _counts(model)

    def line(left: str, mid: str, right: str, fill: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def cells(values, sep: str = "│") -> str:
        a, b, c = values
        return f"{sep} {a:<{widths[0]}.{widths[0]}} {sep} {b:<{widths[1]}} {sep} {c:>{widths[2]}} {sep}"

    out = [f'Model: "{model.name}"', line("┏", "┳", "┓", "━"),
           cells(("Layer (type)", "Output Shape", "Param #"), "┃"), line("┡", "╇", "┩", "━")]
    for i, row in enumerate(rows):
        out.append(cells(row))
        if i < len(rows) - 1:
            out.append(line("├", "┼", "┤", "─"))
    out.append(line("└", "┴", "┘", "─"))
    total = trainable + non_trainable
    out += [f" Total params: {total:,} ({_size(total)})",
            f" Trainable params: {trainable:,} ({_size(trainable)})",
            f" Non-trainable params: {non_trainable:,} ({_size(non_trainable)})"]
    return "\n".join(out)


def _keras2_row(fields, positions: list[int]) -> list[str]:
    """Keras 2's ``print_row``: each field cut to its column (long ones continue on the next line)."""
    left = [str(f) for f in fields]
    lines = []
    while any(left):
        line = ""
        for col in range(len(left)):
            start = positions[col - 1] if col else 0
            last = col == len(positions) - 1
            space = 0 if last else 2
            cutoff = positions[col] - start - space - (0 if last else 1)
            fit = left[col][:cutoff]
            breaks = [fit.find(x) + len(x) for x in ("),", "},", "],", "',") if fit.find(x) >= 0]
            if breaks:                                      # Keras breaks after the end of a tuple, list or dict
                cutoff = min(breaks)
                fit = fit[:cutoff]
            line += (" " if col == 0 else "") + fit + " " * space
            left[col] = left[col][cutoff:]
            line += " " * (positions[col] - len(line))
        lines.append(line)
    return lines


def _keras2(model, line_length: int | None, positions) -> str:
    line_length = line_length or 65
    positions = list(positions or [0.45, 0.85, 1.0])
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    rows, trainable, non_trainable = _counts(model)
    out = [f'Model: "{model.name}"', "_" * line_length, *_keras2_row(["Layer (type)", "Output Shape", "Param #"],
                                                                      positions), "=" * line_length]
    for name, shape, params in rows:
        params = "0 (unused)" if "unbuilt" in params else params.replace(",", "")
        out += _keras2_row([name, shape, params], positions)
        out.append(" " * line_length)
    total = trainable + non_trainable
    out += ["=" * line_length, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {non_trainable:,}", "_" * line_length]
    return "\n".join(out)


def summary_html(model) -> str:
    """The summary as an HTML table (what a notebook shows for a model)."""
    from learnloop._html import table

    rows, trainable, non_trainable = _counts(model)
    return table(["Layer (type)", "Output Shape", "Param #"], rows, caption=f'Model: "{model.name}"',
                 footer=f"Total params: {trainable + non_trainable:,} - trainable: {trainable:,}, "
                        f"non-trainable: {non_trainable:,}")
