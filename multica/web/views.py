"""Landing page, health check and the public config document."""

from __future__ import annotations

from flask import current_app, jsonify, render_template
from sqlalchemy import text

from multica.extensions import db
from multica.web import bp
from multica.web.public_config import public_config


@bp.get("/")
def index():
    """The landing page: hero and footer calls to action for the desktop app and sign-in."""
    return render_template("web/index.html")


@bp.get("/favicon.ico")
def favicon():
    """The site icon, where browsers look for it first."""
    return current_app.send_static_file("favicon.ico"), 200, {"Cache-Control": "public, max-age=86400"}


@bp.get("/api/config")
def api_config():
    """Anonymous-safe settings, re-read from the environment on every request (key rotation)."""
    return jsonify(public_config(current_app.config))


@bp.get("/healthz")
def healthz():
    """Database reachability and the analytics pipeline's state; 503 when the database is down."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        db.session.rollback()
        database = "unreachable"
    client = current_app.extensions.get("analytics")
    analytics = {"enabled": bool(getattr(client, "enabled", False))}
    if analytics["enabled"]:
        analytics.update(
            sent=client.sent,
            dropped=client.dropped,
            failed=client.failed,
            retried=client.retried,
            queued=client.pending(),
        )
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database, analytics=analytics), status
