"""Checks an event against its catalog entry (D6)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from multica.analytics.catalog import CATALOG, GLOBAL_FORBIDDEN, EventSpec, Prop

_EMAIL_LIKE = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+\.[A-Za-z]{2,}")


class SchemaViolation(ValueError):
    """An event does not match the contract; raised in development and tests."""

    def __init__(self, event: str, violations: list[str]) -> None:
        super().__init__(f"{event}: " + "; ".join(violations))
        self.event = event
        self.violations = violations


def check_value(prop: Prop, value: Any) -> str | None:
    """Why `value` does not fit `prop`, or None when it does."""
    kind = prop.type
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "string[]":
        ok = isinstance(value, list) and all(isinstance(v, str) and len(v) <= 64 for v in value) and len(value) <= 50
    elif kind == "uuid":
        ok = isinstance(value, str) and _is_uuid(value)
    else:
        ok = isinstance(value, str)
    if not ok:
        return f"{prop.name} must be {kind}"
    if prop.allowed is not None and value not in prop.allowed:
        return f"{prop.name} must be one of {', '.join(repr(v) for v in prop.allowed)}"
    if prop.max_length is not None and isinstance(value, str) and len(value.encode("utf-8")) > prop.max_length:
        return f"{prop.name} is longer than {prop.max_length} bytes"
    return None


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False


def violations_for(
    spec: EventSpec,
    properties: dict[str, Any],
    *,
    workspace_id: str = "",
    set_props: dict | None = None,
    set_once: dict | None = None,
    extra_allowed: dict[str, Prop] | None = None,
    closed: bool = False,
) -> list[str]:
    """Every way the event breaks its contract; `closed` also refuses undeclared properties."""
    problems: list[str] = []
    declared = spec.props
    props = dict(properties)
    if workspace_id:
        props["workspace_id"] = workspace_id
    for prop in spec.required:
        if prop.name not in props:
            problems.append(f"missing required property {prop.name}")
    if spec.workspace == "required" and not props.get("workspace_id"):
        problems.append("missing workspace_id")
    if spec.workspace == "never" and "workspace_id" in props:
        problems.append("workspace_id is not allowed on this event")
    for key, value in props.items():
        prop = declared.get(key) or (extra_allowed or {}).get(key)
        if key in GLOBAL_FORBIDDEN or key in spec.forbidden:
            problems.append(f"forbidden property {key}")
        elif prop is not None:
            problem = check_value(prop, value)
            if problem:
                problems.append(problem)
        elif key == "workspace_id":
            if not (isinstance(value, str) and _is_uuid(value)):
                problems.append("workspace_id must be uuid")
        elif closed:
            problems.append(f"unknown property {key}")
        elif isinstance(value, str) and _EMAIL_LIKE.search(value):
            # Undeclared extras are allowed, but never as a vehicle for an email address.
            problems.append(f"{key} looks like an email address")
    for label, given, allowed in (("$set", set_props, spec.set_keys), ("$set_once", set_once, spec.set_once_keys)):
        for key, value in (given or {}).items():
            if key not in allowed:
                problems.append(f"{label}.{key} is not declared")
            elif not (value is None or isinstance(value, (str, int, float, bool))):
                problems.append(f"{label}.{key} must be a scalar")
            elif isinstance(value, str) and _EMAIL_LIKE.search(value) and not (spec.name == "signup" and label == "$set_once" and key == "email"):
                problems.append(f"{label}.{key} looks like an email address")
    return problems


def validate_event(event) -> list[str]:
    """Violations of a server-built `Event` against the catalog (unknown names are one)."""
    spec = CATALOG.get(event.name)
    if spec is None:
        return [f"unknown event {event.name!r}"]
    if spec.typed_metrics_only:
        return [f"{event.name} has no analytics event; use the typed task metrics"]
    return violations_for(
        spec,
        event.properties or {},
        workspace_id=event.workspace_id,
        set_props=event.set,
        set_once=event.set_once,
    )
