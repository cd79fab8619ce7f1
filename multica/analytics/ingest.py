"""Validation and stamping of browser events for first-party ingestion (D7, D14.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from multica.analytics.catalog import CATALOG, FRONTEND_SUPER_PROPERTIES, ingestible
from multica.analytics.event import Event
from multica.analytics.schema import violations_for

MAX_EVENTS = 50
# Stamped by the server whatever the browser says (D14.2).
_SERVER_OWNED = ("environment", "event_schema_version", "user_id", "$ip", "$geoip_disable")


class InvalidBatch(ValueError):
    """The batch is refused whole; nothing from it is enqueued."""


@dataclass(frozen=True)
class Identity:
    """Who the browser is: a signed-in user, or an anonymous id from `multica_anon_id`."""

    distinct_id: str
    signed_in: bool


def parse_batch(body: dict) -> list[tuple[str, dict]]:
    """`[(name, properties)]` from `{"events": [...]}`, or InvalidBatch with the reason."""
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise InvalidBatch("events must be a non-empty list")
    if len(events) > MAX_EVENTS:
        raise InvalidBatch(f"too many events (at most {MAX_EVENTS})")
    parsed = []
    for index, item in enumerate(events):
        if not isinstance(item, dict):
            raise InvalidBatch(f"events[{index}] must be an object")
        name = item.get("event")
        properties = item.get("properties", {})
        if not isinstance(name, str) or not ingestible(name):
            raise InvalidBatch(f"events[{index}]: unknown event")
        if not isinstance(properties, dict):
            raise InvalidBatch(f"events[{index}]: properties must be an object")
        parsed.append((name, properties))
    return parsed


def build_event(name: str, properties: dict[str, Any], identity: Identity, *, client_ip: str | None) -> Event:
    """Validate one browser event against the catalog and turn it into a stamped server `Event`."""
    spec = CATALOG[name]
    props = {k: v for k, v in properties.items() if k not in _SERVER_OWNED}
    set_props = props.pop("$set", None)
    set_once = props.pop("$set_once", None)
    for label, value in (("$set", set_props), ("$set_once", set_once)):
        if value is not None and not isinstance(value, dict):
            raise InvalidBatch(f"{name}: {label} must be an object")
    problems = violations_for(
        spec,
        props,
        set_props=set_props,
        set_once=set_once,
        extra_allowed=FRONTEND_SUPER_PROPERTIES,
        closed=True,
    )
    if name == "$set" and not (set_props or set_once):
        problems.append("$set needs $set or $set_once")
    if problems:
        raise InvalidBatch(f"{name}: " + "; ".join(problems))
    if client_ip:
        props["$ip"] = client_ip
    else:
        props["$geoip_disable"] = True
    return Event(
        name,
        identity.distinct_id,
        props,
        set=set_props or None,
        set_once=set_once or None,
        stamp_user_id=identity.signed_in,
    )
