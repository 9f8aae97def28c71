"""The JSON Schema of scenario files (for editors: validation and completion), built from the same types as validation."""
from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from . import args as A
from .steps import ACTIONS


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    s = TypeAdapter(tp).json_schema(ref_template="#/$defs/{model}", by_alias=True)
    defs.update(s.pop("$defs", {}))
    return s


def scenario_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    options = _schema(A.StepOptions, defs)
    steps = []
    for name, action in ACTIONS.items():
        props = {name: {**_schema(action.arg, defs), "description": action.summary}, **options["properties"]}
        steps.append({"type": "object", "title": name, "properties": props, "required": [name], "additionalProperties": False})
    header = _schema(A.Header, defs)
    header["properties"]["steps"] = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Step"}}
    header["properties"]["device"]["description"] = "a Playwright device name, e.g. 'iPhone 13'"
    defs["Step"] = {"oneOf": steps}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **header,
            "title": "tuiding scenario", "$defs": defs}
