"""``/docs``: the OpenAPI document as one self-contained HTML page (no script, stylesheet or font from elsewhere).

A server often runs where it has no network, and a page that loads Swagger UI from a CDN is blank there. This page
is written from the same document ``/openapi.json`` serves: each operation with its parameters, the JSON schema of
its request body, a curl command per example body (with the content type the server requires) and its responses.
Everything taken from the document is HTML-escaped.
"""

from __future__ import annotations

import json
from html import escape

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222 }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em }
.op { border: 1px solid #ddd; border-radius: 6px; margin: 1em 0; padding: .6em 1em }
.method { font-weight: bold; display: inline-block; min-width: 4em } .POST { color: #1a7f37 } .GET { color: #0969da }
code, pre { font: 13px ui-monospace, monospace; background: #f6f8fa } pre { padding: .6em; overflow-x: auto }
details summary { cursor: pointer; color: #555 } td { padding: .1em .8em .1em 0; vertical-align: top }
"""


def _json(value) -> str:
    return escape(json.dumps(value, indent=2, ensure_ascii=False))


def _resolve(spec: dict, schema: dict, depth: int = 0):
    """The schema with its ``$ref``s to components written out (three levels deep)."""
    if depth > 3:
        return schema
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return _resolve(spec, spec.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {}),
                            depth + 1)
        return {k: _resolve(spec, v, depth) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(spec, v, depth) for v in schema]
    return schema


def _shown(schema: dict):
    return schema.get("examples", schema.get("type", "")) if isinstance(schema, dict) else ""


def docs_page(spec: dict) -> str:
    """The HTML page of OpenAPI document ``spec``."""
    info = spec.get("info", {})
    secured = bool(spec.get("components", {}).get("securitySchemes"))
    out = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(str(info.get('title', 'API')))}"
           f"</title><style>{_STYLE}</style></head><body>",
           f"<h1>{escape(str(info.get('title', 'API')))} <small>{escape(str(info.get('version', '')))}</small></h1>",
           f"<p>{escape(str(info.get('description', '')))}</p>",
           "<p>Request bodies are JSON, sent with <code>Content-Type: application/json</code>; any other content type "
           "is refused with 415. The machine-readable document is <a href=openapi.json>/openapi.json</a>.</p>"]
    if secured:
        out.append("<p>This server needs an API key: send <code>Authorization: Bearer KEY</code> (or <code>X-API-Key: "
                   "KEY</code>). Without a key, this page shows the API's shape only, nothing learned from training "
                   "data.</p>")
    by_tag: dict[str, list] = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if isinstance(op, dict):
                by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((path, method.upper(), op))
    for tag, operations in by_tag.items():
        out.append(f"<h2>{escape(tag)}</h2>")
        for path, method, op in operations:
            out.append(f"<div class=op><div><span class='method {method}'>{method}</span> <code>{escape(path)}</code>"
                       f" &mdash; {escape(str(op.get('summary', '')))}</div>")
            if op.get("description"):
                out.append(f"<p>{escape(str(op['description']))}</p>")
            params = op.get("parameters") or []
            if params:
                rows = "".join(f"<tr><td><code>{escape(str(p.get('name')))}</code></td><td>{escape(str(p.get('in')))}"
                               f"</td><td><code>{escape(json.dumps(_shown(p.get('schema', {}))))}</code></td></tr>"
                               for p in params)
                out.append(f"<table>{rows}</table>")
            content = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            if content:
                for name, example in (content.get("examples") or {}).items():
                    body = json.dumps(example.get("value"), ensure_ascii=False)
                    url = "localhost:8000" + path.replace("{name}", name.split(" ")[0])
                    key = " -H 'authorization: Bearer KEY'" if secured else ""
                    out.append(f"<p>{escape(str(example.get('summary', name)))}:</p><pre>curl -s {escape(url)} "
                               f"-H 'content-type: application/json'{escape(key)} -d {escape(repr(body))}</pre>")
                out.append(f"<details><summary>request body schema</summary><pre>"
                           f"{_json(_resolve(spec, content.get('schema', {})))}</pre></details>")
            codes = ", ".join(f"{escape(str(code))} {escape(str(r.get('description', '')))}"
                              for code, r in (op.get("responses") or {}).items())
            out.append(f"<p><small>Responses: {codes}</small></p></div>")
    out.append("</body></html>")
    return "\n".join(out)
