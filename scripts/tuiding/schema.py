"""JSON Schemas: scenario, flow and rule-pack files (for editors), the detection patterns, and the run record
(for tools reading run folders).

Built from the same pydantic types that validate and write them (model.py, record.py), so they cannot drift."""

from __future__ import annotations

from typing import Any

from . import model as M
from .portals import portal_names

DRAFT = "https://json-schema.org/draft/2020-12/schema"
NAMES = ("scenario", "flow", "rules", "ux-patterns", "run", "step", "result", "summary")


def _file_schema(adapter: Any, title: str) -> dict[str, Any]:
    schema: dict[str, Any] = adapter.json_schema(by_alias=True)
    if "portal" in schema.get("properties", {}):
        # Installed portals are the closed set here (editors complete them); validation names them too.
        schema["properties"]["portal"] = {
            "anyOf": [{"enum": list(portal_names())}, {"type": "null"}],
            "description": "embedded mock portal to start for this run",
        }
    return {**schema, "$schema": DRAFT, "title": title}


def schema(name: str = "scenario") -> dict[str, Any]:
    if name == "scenario":
        return _file_schema(M.SCENARIO_ADAPTER, "tuiding scenario")
    if name == "flow":
        return _file_schema(M.FLOW_ADAPTER, "tuiding flow")
    if name == "rules":
        from .rules import schema as rules_schema

        return {**rules_schema(), "$schema": DRAFT, "title": "tuiding rule pack"}
    if name == "ux-patterns":
        return {**M.UxPatternTable.model_json_schema(), "$schema": DRAFT, "title": "tuiding detection patterns"}
    from .record import schemas

    return {"$schema": DRAFT, **schemas()[name]}


def scenario_schema() -> dict[str, Any]:
    return schema("scenario")
