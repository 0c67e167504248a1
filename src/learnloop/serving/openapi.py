"""The served models' request bodies in the OpenAPI document: arrays for array models, named fields for table models.

The predict and feedback routes parse their bodies themselves, so their request schemas are written here from the
models being served (and rewritten when a new version is loaded). A table model (FeatureSpace first) gets three
components: ``<name>.Row`` (one property per raw field: its JSON type, ``null`` where the feature imputes,
``required`` the others, the ignored columns listed as such, an example row from the training reference),
``<name>.RowsRequest`` (``{"instances": [Row, ...]}``) and ``<name>.ColumnsRequest`` (``{"inputs": {field:
[...]}}``). The predict body is ``anyOf`` the served models' request schemas, with one named example per model and
format, so "Try it out" sends a valid request.

The *public* document (what a caller without a key sees once the server has API keys) keeps every route, field name
and JSON type but nothing taken from training data: no medians, ranges, categories or example rows (examples are
the type's zero). With keys, the document declares them (``bearerAuth`` or ``apiKeyHeader``) on every operation that
needs one.
"""

from __future__ import annotations

import re

import numpy as np

from learnloop.serving import schemas

PREDICT = "/v1/models/{name}:predict"
FEEDBACK = "/v1/models/{name}:feedback"
_JSON = "application/json"


ADMIN_PATHS = ("/v1/models/{name}:feedback", "/v1/models/{name}:reload", "/v1/models/{name}/monitor", "/metrics")
PUBLIC_PATHS = ("/healthz", "/readyz")


def document_security(spec: dict, keys) -> dict:
    """Declare the API keys (when ``keys`` has any) and the operations that need them."""
    if keys is None or not keys.enabled:
        return spec
    schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["bearerAuth"] = {"type": "http", "scheme": "bearer",
                             "description": "A predict key (predict, model descriptions) or the admin key (also "
                                            "feedback, reload, monitor, /metrics)."}
    schemes["apiKeyHeader"] = {"type": "apiKey", "in": "header", "name": "X-API-Key",
                               "description": "The same keys, in an X-API-Key header."}
    for path, item in spec.get("paths", {}).items():
        for operation in item.values():
            if isinstance(operation, dict) and path not in PUBLIC_PATHS:
                operation["security"] = [{"bearerAuth": []}, {"apiKeyHeader": []}]
                if path in ADMIN_PATHS:
                    operation["description"] = (operation.get("description", "") + "\n\nNeeds the admin key.").strip()
    return spec


def document_models(spec: dict, models: list, public: bool = False) -> dict:
    """Write the request bodies of ``models`` (:class:`~learnloop.serving.registry.ServedModel`) into ``spec``;
    ``public``: without anything taken from training data (see the module docstring)."""
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    alternatives, examples = [], {}
    arrays = [m for m in models if m.schema is None]
    if arrays:
        components["PredictRequest"] = schemas.PredictRequest.model_json_schema()
        alternatives.append({"$ref": "#/components/schemas/PredictRequest"})
        for m in arrays:
            examples[m.name] = {"summary": f"{m.name}: {len(m.input_shape)}-D instances of shape "
                                           f"{tuple(m.input_shape)}",
                                "value": {"instances": [np.zeros(m.input_shape).tolist()]}}
    used = set(components)
    for m in models:
        if m.schema is None:
            continue
        base = _component_name(m.name, used)
        row, rows, cols = f"{base}.Row", f"{base}.RowsRequest", f"{base}.ColumnsRequest"
        used.update((row, rows, cols))
        components[row] = _row_schema(m, public)
        components[rows] = {
            "title": f"{m.name}: rows", "type": "object", "additionalProperties": False, "required": ["instances"],
            "description": f"Instances for model {m.name!r}, one object of raw fields each (TF Serving's row "
                           f"format).",
            "properties": {"instances": {"type": "array", "minItems": 1, "items": {"$ref": f"#/components/"
                                                                                           f"schemas/{row}"}}}}
        components[cols] = _columns_schema(m, public)
        alternatives += [{"$ref": f"#/components/schemas/{rows}"}, {"$ref": f"#/components/schemas/{cols}"}]
        example = _zero_row(m) if public else m.schema.example_row()
        examples[f"{m.name} (rows)"] = {"summary": f"{m.name}: one row of raw fields",
                                        "value": {"instances": [example]}}
        examples[f"{m.name} (columns)"] = {"summary": f"{m.name}: the same, one list per field",
                                           "value": {"inputs": {k: [v] for k, v in example.items()}}}
    body_schema = alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}
    if body_schema.get("$ref") == "#/components/schemas/PredictRequest":
        body_schema = components["PredictRequest"]          # one array model: the schema inline, as before
    _set_body(spec, PREDICT, body_schema, examples)
    feedback = {}
    for m in models:
        if m.classes:
            feedback[m.name] = {"summary": f"{m.name}: the true label of instance 0 of a request",
                                "value": {"request_id": "0f3c...", "label": m.classes[0], "instance": 0}}
    if not feedback:
        feedback["regressor"] = {"value": {"request_id": "0f3c...", "label": 0, "instance": 0}}
    _set_body(spec, FEEDBACK, schemas.FeedbackRequest.model_json_schema(), feedback)
    for path in spec.get("paths", {}).values():                 # the name parameter lists the served models
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("name") == "name" and parameter.get("in") == "path":
                    parameter["schema"] = {**parameter.get("schema", {}), "examples": [m.name for m in models]}
    return spec


def _set_body(spec: dict, path: str, schema: dict, examples: dict) -> None:
    operation = spec.get("paths", {}).get(path, {}).get("post")
    if operation is None:
        return
    operation["requestBody"] = {"required": True, "content": {_JSON: {"schema": schema, "examples": examples}}}


def _component_name(name: str, used: set) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "model"
    candidate, i = base, 1
    while any(k.startswith(candidate + ".") for k in used):
        i += 1
        candidate = f"{base}_{i}"
    return candidate


def _zero_row(m) -> dict:
    return {f.name: {"number": 0.0, "integer": 0, "string": ""}.get(f.type) for f in m.schema.fields.values()}


def _field_schema(field, reference: dict | None, public: bool = False) -> dict:
    kind = field.type
    kinds = [kind] + (["string"] if field.parse is not None else []) + \
        (["null"] if field.nullable else [])
    if public:
        return {"type": kinds if len(kinds) > 1 else kind,
                "description": ("null or absent: imputed" if field.nullable else "required, not null") + ".",
                "examples": [{"number": 0.0, "integer": 0, "string": ""}.get(kind)]}
    out: dict = {"type": kinds if len(kinds) > 1 else kind}
    words = []
    if kind == "string":
        words.append("text (a number is read as its text, 3 -> \"3\")")
    elif field.parse is not None:
        from learnloop.layers._number_text import describe

        words.append(f"a number, or text read as {describe(field.parse)}")
    else:
        words.append("a whole number" if kind == "integer" else "a number")
    ref = reference or {}
    if ref.get("type") == "numeric" and ref.get("median") is not None:
        edges = ref.get("bin_edges") or []
        span = f", from {_num(edges[0])} to {_num(edges[-1])}" if len(edges) >= 2 else ""
        words.append(f"training median {_num(ref['median'])}{span}")
    elif ref.get("type") == "categorical" and ref.get("categories"):
        cats = ref["categories"]
        shown = ", ".join(repr(c) for c in cats[:8]) + (", ..." if len(cats) > 8 or ref.get("other") else "")
        words.append(f"training categories {shown}; other values take the out-of-vocabulary slot")
        out["examples"] = [_typed(c, kind) for c in cats[:5]]
    words.append("null or absent: imputed" if field.nullable else "required, not null")
    out["description"] = "; ".join(words) + "."
    if "examples" not in out:
        out["examples"] = [field.example]
    return out


def _row_schema(m, public: bool = False) -> dict:
    schema = m.schema
    columns = (m.reference or {}).get("columns") or {}
    properties = {f.name: _field_schema(f, columns.get(f.name), public) for f in schema.fields.values()}
    for name in schema.ignored:
        properties[name] = {"description": "A column of the training table the model does not read (the target, a "
                                           "group column, or a dropped column): accepted and ignored."}
    return {"title": f"{m.name}: one row", "type": "object", "additionalProperties": False,
            "properties": properties, "required": [f.name for f in schema.fields.values() if not f.nullable],
            "example": _zero_row(m) if public else schema.example_row()}


def _columns_schema(m, public: bool = False) -> dict:
    schema = m.schema
    columns = (m.reference or {}).get("columns") or {}
    properties = {}
    for f in schema.fields.values():
        item = _field_schema(f, columns.get(f.name), public)
        properties[f.name] = {"type": "array", "minItems": 1, "items": {k: v for k, v in item.items()
                                                                         if k != "examples"},
                              "description": item["description"]}
    for name in schema.ignored:
        properties[name] = {"type": "array", "description": "Ignored (a column the model does not read)."}
    return {"title": f"{m.name}: columns", "type": "object", "additionalProperties": False, "required": ["inputs"],
            "description": f"Instances for model {m.name!r}, one list per raw field, all of one length (TF "
                           f"Serving's columnar format).",
            "properties": {"inputs": {"type": "object", "additionalProperties": False, "properties": properties,
                                      "required": [f.name for f in schema.fields.values() if not f.nullable]}}}


def _typed(value, kind: str):
    if kind == "integer":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    return value


def _num(value) -> str:
    return f"{float(value):.6g}"
