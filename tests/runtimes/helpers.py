"""Helpers for the runtimes tests: Prometheus samples, runtime rows, the event names under test."""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from multica.extensions import db
from multica.runtimes.models import Runtime

RUNTIME_EVENTS = {"runtime_registered", "runtime_ready", "runtime_failed", "runtime_offline"}


def metric(client, name: str, **labels: str) -> float:
    """The sum of `name`'s samples on `GET /metrics` whose labels include `labels` (0 when absent)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    total = 0.0
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(key) == value for key, value in labels.items()):
                total += sample.value
    return total


def lifecycle_counts(client, provider: str = "claude") -> dict[str, float]:
    """registered/ready/offline/failed counters for one provider label (runtime_mode local)."""
    return {
        kind: metric(client, f"multica_runtime_{kind}_total", provider=provider, runtime_mode="local")
        for kind in ("registered", "ready", "offline", "failed")
    }


def runtime_rows(app) -> list[Runtime]:
    """Every runtime row, detached, by provider."""
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Runtime).order_by(Runtime.daemon_id, Runtime.provider)))
        db.session.expunge_all()
        return rows


def bearer(token: str) -> SimpleNamespace:
    """A stand-in daemon presenting `token`."""
    return SimpleNamespace(token=token, headers={"Authorization": f"Bearer {token}"})


def register(client, daemon, daemon_id: str = "laptop-1", providers=("claude",), **extra):
    """`POST /api/daemon/register` with the daemon's token."""
    body = {"daemon_id": daemon_id, "providers": list(providers), **extra}
    return client.post("/api/daemon/register", json=body, headers=daemon.headers)


def runtime_events_in(sink) -> set[str]:
    """Runtime lifecycle event names that reached the PostHog sink (there must be none)."""
    return {item.get("event") for item in sink.events(accepted_only=False)} & RUNTIME_EVENTS
