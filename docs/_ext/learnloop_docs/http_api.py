"""The HTTP API page, written from the OpenAPI document of a server built during the build.

A small table model (raw columns ``rooms``, ``area``, ``town`` in, a yes/no label out) is trained on the fly and
handed to ``learnloop.serving.create_app``; its ``openapi()`` document is what ``learnloop serve`` publishes at
``/openapi.json`` for such a model. The page lists every operation with its parameters, request body (schema and
examples) and responses, then every schema; the document itself is copied next to the page.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from learnloop_docs.api import _write

MODEL_NAME = "houses"


def _md(text: str | None) -> str:
    return (text or "").replace("``", "`").strip()


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", _md(text)).replace("|", "\\|")


def _anchor(name: str) -> str:
    return "schema-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _type(schema: dict) -> str:
    """A schema in a few words: ``Prediction[]``, ``string | null``, links to named schemas."""
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{_anchor(name)})"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " \\| ".join(_type(s) for s in schema[key])
    kind = schema.get("type", "")
    if kind == "array":
        return f"{_type(schema.get('items', {})) or 'any'}[]"
    if kind == "object" and "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
        return f"object of {_type(schema['additionalProperties'])}"
    if isinstance(kind, list):
        return " \\| ".join(kind)
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    return kind or "any"


def _op_anchor(path: str, method: str) -> str:
    return "op-" + re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-")


def _operation(path: str, method: str, op: dict) -> list[str]:
    lines = [f"({_op_anchor(path, method)})=", f"## `{method.upper()} {path}`", "", f"**{_md(op.get('summary'))}**",
             ""]
    description = re.sub(r"\n?\(Requests normally reach.*?\)\s*$", "", _md(op.get("description")), flags=re.S)
    if description:
        lines += [description, ""]
    if op.get("security"):
        schemes = sorted({name for requirement in op["security"] for name in requirement})
        lines += [f"Needs a key when the server has keys: {', '.join(f'`{s}`' for s in schemes)}.", ""]
    params = op.get("parameters") or []
    if params:
        lines += ["| parameter | in | type | required |", "|---|---|---|---|"]
        lines += [f"| `{p['name']}` | {p['in']} | {_type(p.get('schema', {}))} | {'yes' if p.get('required') else ''} |"
                  for p in params]
        lines.append("")
    body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
    if body:
        lines += [f"Request body (`application/json`): {_type(body.get('schema', {}))}", ""]
        for name, example in (body.get("examples") or {}).items():
            summary = example.get("summary") or name
            lines += [f"Example, {_md(summary)}:", "", "```json", json.dumps(example.get("value"), indent=1), "```",
                      ""]
    responses = op.get("responses") or {}
    if responses:
        lines += ["| status | meaning | body |", "|---|---|---|"]
        for code, response in responses.items():
            content = (response.get("content") or {})
            schema = next(iter(content.values()), {}).get("schema", {}) if content else {}
            kind = next(iter(content), "")
            shown = _type(schema) if schema else (f"`{kind}`" if kind else "")
            lines.append(f"| {code} | {_cell(response.get('description'))} | {shown} |")
        lines.append("")
    return lines


def _schema(name: str, schema: dict) -> list[str]:
    lines = [f"### {name}", "", _cell(schema.get("description")), ""]
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    if properties:
        lines += ["| field | type | required | description |", "|---|---|---|---|"]
        for field, sub in properties.items():
            lines.append(f"| `{field}` | {_type(sub)} | {'yes' if field in required else ''} | "
                         f"{_cell(sub.get('description') or sub.get('title', ''))} |")
        lines.append("")
    elif schema:
        lines += [f"Type: {_type(schema)}", ""]
    return lines


def _document() -> dict:
    import numpy as np

    import learnloop
    from learnloop.layers import Dense
    from learnloop.serving import create_app
    from learnloop.utils import FeatureSpace

    rng = np.random.default_rng(0)
    n = 64
    columns = {"rooms": rng.integers(1, 6, n).tolist(), "area": rng.normal(80, 20, n).round(1).tolist(),
               "town": rng.choice(["north", "south", "east"], n).tolist()}
    y = np.array(["yes" if a > 80 else "no" for a in columns["area"]])
    space = FeatureSpace({"rooms": "float_normalized", "area": "float_normalized",
                          "town": FeatureSpace.string_categorical(impute=True)}, output_mode="concat")
    space.adapt(columns)
    learnloop.set_random_seed(0)
    model = learnloop.Sequential([space, Dense(4, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss=learnloop.losses.BinaryCrossentropy(from_logits=True))
    model.fit(columns, (y == "yes").astype("float32"), epochs=1, verbose=0)
    model.metadata["classes"] = ["no", "yes"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{MODEL_NAME}.zip"
        model.save(path)
        app = create_app({MODEL_NAME: path}, log_db=Path(folder) / "log.sqlite", watch_interval=0)
        return app.openapi()


def write_page(page: Path, document_path: Path) -> dict:
    doc = _document()
    document_path.parent.mkdir(parents=True, exist_ok=True)
    _write(document_path, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    lines = [
        "# HTTP API",
        "",
        "`learnloop serve MODEL.zip` answers on the routes below. This page is written from the OpenAPI document "
        f"of a server built during the documentation build for a table model named `{MODEL_NAME}` (raw columns "
        "`rooms`, `area`, `town`; labels `no` / `yes`); for your model the fields are your columns, or an array for "
        "a model trained on arrays. The document itself: {download}`openapi.json <openapi.json>` "
        f"(OpenAPI {doc.get('openapi', '3')}). A running server serves its own at `/openapi.json`, and a page "
        "that needs no network at `/docs`.",
        "",
        "Request bodies are JSON sent as `content-type: application/json`. Errors have the "
        "[ErrorResponse](#schema-errorresponse) shape. The [command-line page](cli/serve.md) lists the server's "
        "options (keys, limits, the prediction log).",
        "",
        "| method | path | what it does |",
        "|---|---|---|",
    ]
    operations = [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]
    for path, method, op in operations:
        lines.append(f"| {method.upper()} | [`{path}`](#{_op_anchor(path, method)}) | {_cell(op.get('summary'))} |")
    lines.append("")
    for path, method, op in operations:
        lines += _operation(path, method, op)
    lines += ["## Schemas", ""]
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        lines += [f"({_anchor(name)})=", *_schema(name, schema)]
    _write(page, "\n".join(lines))
    return doc
