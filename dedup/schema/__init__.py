"""The report contract, ``dedup.report/1``, as a JSON Schema (draft 2020-12) shipped in the package.

`report.schema.json` describes the report object of ``--format json`` and of the service's
``POST /v1/check``; its ``$defs/finding`` describes one line of ``--format jsonl``.
``dedup schema`` prints it; docs/report.md explains it. The schema is open (readers ignore
keys they do not know); `closed` makes a copy that refuses undocumented keys, for tests that
check that everything dedup writes is documented.
"""
from __future__ import annotations

import copy
import json
from importlib.resources import files
from typing import Any, Literal

SCHEMA_FILE = "report.schema.json"
Part = Literal["report", "finding"]
PARTS: tuple[Part, ...] = ("report", "finding")


def schema_text() -> str:
    """The schema file as shipped (JSON text)."""
    return files(__name__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def report_schema(part: Part = "report") -> dict[str, Any]:
    """The schema of a whole report, or of one finding (a ``jsonl`` line) with the same ``$defs``."""
    schema: dict[str, Any] = json.loads(schema_text())
    if part == "report":
        return schema
    if part == "finding":
        return {"$schema": schema["$schema"], "title": f"{schema['title']} finding (one line of --format jsonl)",
                "$ref": "#/$defs/finding", "$defs": schema["$defs"]}
    raise ValueError(f"unknown schema part {part!r} (choose from {', '.join(PARTS)})")


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` in which every object with listed ``properties`` and no rule of its
    own for other keys refuses keys it does not list."""
    out = copy.deepcopy(schema)

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(out)
    return out


__all__ = ["PARTS", "SCHEMA_FILE", "closed", "report_schema", "schema_text"]
