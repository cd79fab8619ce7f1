"""`POST /api/analytics/events`: first-party ingestion for the browser tracker (D7)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, jsonify, request

from multica.analytics import bp
from multica.analytics.identity import anonymous_id
from multica.analytics.ingest import Identity, InvalidBatch, build_event, parse_batch
from multica.analytics.record import relay_event
from multica.errors import ApiError
from multica.inputs import json_object
from multica.extensions import csrf, limiter

MAX_BODY_BYTES = 64 * 1024


def _ingest_limit() -> str:
    return current_app.config.get("RATELIMIT_ANALYTICS_INGEST", "120 per minute")


_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _authority(scheme: str, netloc: str) -> str:
    """`host[:port]` lowercased, without the scheme's default port."""
    netloc = netloc.lower()
    default = _DEFAULT_PORTS.get(scheme.lower())
    if default and netloc.endswith(f":{default}"):
        netloc = netloc[: -len(default) - 1]
    return netloc


def _same_origin() -> bool:
    """A browser's `Origin` (or `Sec-Fetch-Site`) must name this site; non-browser clients send neither.

    Only the host and port are compared: behind a TLS-terminating proxy the app sees `http` while
    the browser's origin says `https`.
    """
    if request.headers.get("Sec-Fetch-Site", "") == "cross-site":
        return False
    origin = request.headers.get("Origin")
    if not origin:
        return True
    parts = urlsplit(origin)
    if origin == "null" or not parts.netloc:
        return False
    return _authority(parts.scheme, parts.netloc) == _authority(request.scheme, request.host)


def _identity() -> Identity | None:
    user_id = current_app.extensions["current_user_id"]()
    if user_id:
        return Identity(str(user_id), signed_in=True)
    anon = anonymous_id()
    return Identity(anon, signed_in=False) if anon else None


@bp.post("/api/analytics/events")
@csrf.exempt
@limiter.limit(_ingest_limit)
def ingest_events():
    """Validate a batch of browser events, stamp them and queue them for PostHog; all or nothing."""
    if not _same_origin():
        raise ApiError(403, "cross-origin request refused")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError(413, "request body too large")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "request body too large")
    body = json_object()
    identity = _identity()
    if identity is None:
        raise ApiError(400, "missing anonymous id")
    forward_ip = request.remote_addr if current_app.config.get("ANALYTICS_FORWARD_IP") else None
    try:
        events = [build_event(name, props, identity, client_ip=forward_ip) for name, props in parse_batch(body)]
    except InvalidBatch as exc:
        raise ApiError(400, str(exc)) from None
    for event in events:
        relay_event(event)
    return jsonify(accepted=len(events)), 202
