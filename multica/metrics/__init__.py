"""Prometheus: business counters, HTTP metrics and the guarded `/metrics` endpoint (D8)."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Flask, abort, current_app, request
from prometheus_client import CollectorRegistry
from prometheus_flask_exporter import PrometheusMetrics

from multica.metrics.business import Metrics

bp = Blueprint("metrics", __name__)


def init_app(app: Flask) -> None:
    """Give the app its own registry with every business counter, plus per-route HTTP metrics."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    exporter = PrometheusMetrics(app, path=None, registry=registry, group_by="url_rule", defaults_prefix="multica")
    app.extensions["metrics"] = metrics
    app.extensions["prometheus_exporter"] = exporter


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def _has_token() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    return bool(token) and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token)


@bp.get("/metrics")
def metrics_endpoint():
    """Prometheus exposition, for loopback scrapers or `Authorization: Bearer $METRICS_TOKEN`."""
    if not (_is_loopback(request.remote_addr) or _has_token()):
        abort(403)
    exporter: PrometheusMetrics = current_app.extensions["prometheus_exporter"]
    body, content_type = exporter.generate_metrics(request.headers.get("Accept"))
    return body, 200, {"Content-Type": content_type}
