"""`record_event`: the single emission entry point for server events (SPEC §2.10, D6)."""

from __future__ import annotations

import logging

from flask import current_app, has_app_context

from multica.analytics.catalog import is_metrics_only
from multica.analytics.event import Event
from multica.analytics.schema import SchemaViolation, validate_event

logger = logging.getLogger("multica.analytics")
_FROM_APP = object()


def record_event(event: Event, *, client=_FROM_APP, metrics=_FROM_APP, strict: bool | None = None) -> None:
    """Ship `event` to PostHog (unless metrics-only) and bump its paired Prometheus counter.

    Call it after the transaction that makes the event true has committed. `client` and `metrics`
    default to the current app's; either may be None. With `strict` (development and tests) an
    event that breaks its catalog entry raises `SchemaViolation`; otherwise the worker ships it,
    logs it and counts it.
    """
    if client is _FROM_APP:
        client = _extension("analytics")
    if strict is None:
        strict = has_app_context() and bool(current_app.config.get("ANALYTICS_STRICT"))
    if strict:
        violations = validate_event(event)
        if violations:
            raise SchemaViolation(event.name, violations)
    if client is not None and not is_metrics_only(event.name):
        client.capture(event)
    count_only(event, metrics=metrics)


def _extension(name: str):
    """The current app's extension `name`, or None outside an app."""
    return current_app.extensions.get(name) if has_app_context() else None


def count_only(event: Event, *, metrics=_FROM_APP) -> None:
    """Bump the event's Prometheus counter without shipping it (e.g. server-side `onboarding_started`)."""
    if metrics is _FROM_APP:
        metrics = _extension("metrics")
    if metrics is not None:
        try:
            metrics.count_event(event)
        except Exception:  # noqa: BLE001 - metrics must never break a request
            logger.exception("analytics: could not count event", extra={"event": event.name})


def relay_event(event: Event, *, client=_FROM_APP) -> None:
    """Queue an already-validated browser event for PostHog (first-party ingestion, D7)."""
    if client is _FROM_APP:
        client = _extension("analytics")
    if client is not None:
        client.capture(event)
