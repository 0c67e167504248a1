"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts."""

from __future__ import annotations


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


def format_summary(model, line_length: int | None = None) -> str:
    """The summary as text: one row per layer, then total, trainable and non-trainable parameter counts."""
    widths = [31, 24, 15]
    if line_length:
        widths[0] = max(20, line_length - sum(widths[1:]) - 4)
    rows = []
    trainable = non_trainable = 0
    for layer in model.layers:
        if layer.built:
            n = layer.count_params()
            n_trainable = sum(int(w.size) for w in layer.trainable_weights)
            trainable += n_trainable
            non_trainable += n - n_trainable
            params = f"{n:,}"
            shape = _shape(layer)
        else:
            params, shape = "0 (unbuilt)", "?"
        rows.append((f"{layer.name} ({type(layer).__name__})", shape, params))

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
