"""Validate recorded request bodies against Cisco's request schemas (copied into schemas/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

_SCHEMAS = json.loads((Path(__file__).with_name("schemas") / "requests.json").read_text())["requests"]
# Limits Cisco's schema states in the descriptions only.
_PROSE_LIMITS = {
    "dialNumber": 43,
    "deviceId": 43,
    "teamId": 36,
    "agentId": 36,
    "auxCodeId": 36,
    "logoutReason": 128,
    "clientType": 20,
    "lastStateChangeReason": 128,
}


def schema_for(method: str, path: str) -> dict[str, Any] | None:
    schema = _SCHEMAS.get(f"{method} {path}")
    if schema is None:
        return None
    strict = json.loads(json.dumps(schema))
    strict["additionalProperties"] = False
    for name, limit in _PROSE_LIMITS.items():
        if name in strict["properties"]:
            strict["properties"][name].setdefault("maxLength", limit)
    return strict


def validate(method: str, path: str, body: object) -> bool:
    """True when a schema applies and the body passes; raises `ValidationError` otherwise."""
    schema = schema_for(method, path)
    if schema is None:
        return False
    jsonschema.validate(body, schema)
    return True
