"""Product analytics: the PostHog client, the event catalog and browser ingestion (SPEC §2–§5, D5–D7)."""

from __future__ import annotations

import atexit
import logging

from flask import Blueprint, Flask

from multica.analytics.client import NoopClient, PostHogClient
from multica.analytics.environment import analytics_disabled, browser_analytics, environment_from_env
from multica.analytics.schema import validate_event
from multica.analytics.spool import Spool
from multica.config import DEFAULT_POSTHOG_HOST

logger = logging.getLogger("multica.analytics")
bp = Blueprint("analytics", __name__)


def new_from_config(config, observer=None):
    """The no-op or live client for this config, logging the SPEC §2.3 line that says which."""
    if analytics_disabled(config.get("ANALYTICS_DISABLED")):
        logger.info("analytics disabled via ANALYTICS_DISABLED")
        return NoopClient()
    api_key = config.get("POSTHOG_API_KEY") or ""
    if not api_key:
        logger.info("analytics: POSTHOG_API_KEY not set, using noop client")
        return NoopClient()
    host = (config.get("POSTHOG_HOST") or "").strip() or DEFAULT_POSTHOG_HOST
    environment = environment_from_env(
        {"ANALYTICS_ENVIRONMENT": config.get("ANALYTICS_ENVIRONMENT", ""), "APP_ENV": config.get("APP_ENV", "")}
    )
    client = PostHogClient(
        api_key,
        host,
        environment=environment,
        queue_size=int(config.get("POSTHOG_QUEUE_SIZE") or 0),
        batch_size=int(config.get("POSTHOG_BATCH_SIZE") or 0),
        flush_interval=float(config.get("POSTHOG_FLUSH_INTERVAL") or 0),
        timeout=float(config.get("POSTHOG_TIMEOUT") or 0),
        shutdown_timeout=float(config.get("POSTHOG_SHUTDOWN_TIMEOUT") or 0),
        observer=observer,
        # Strict environments validate in record_event (and raise); elsewhere the worker checks.
        validator=None if config.get("ANALYTICS_STRICT") else validate_event,
        spool=_spool_from_config(config),
    )
    logger.info("analytics: posthog client enabled", extra={"host": client.host})
    return client


def _spool_from_config(config) -> Spool | None:
    """The D17 spool when `POSTHOG_SPOOL_DIR` is set; the directory is created on first use."""
    directory = (config.get("POSTHOG_SPOOL_DIR") or "").strip()
    if not directory:
        return None
    max_mb = int(config.get("POSTHOG_SPOOL_MAX_MB") or 0) or 256
    return Spool(directory, max_mb * 1024 * 1024)


def init_app(app: Flask) -> None:
    """Create this process's client (unless the app was handed one) and drain it at exit.

    Who is signed in comes from `app.extensions["current_user_id"]`, which the auth package
    provides; analytics does not import auth.
    """
    client = app.config.get("ANALYTICS_CLIENT")
    if client is None:
        client = new_from_config(app.config, observer=app.extensions.get("metrics"))
    app.extensions["analytics"] = client
    if client.enabled:
        # Drains on Ctrl-C / normal exit; gunicorn.conf.py also closes it on worker exit.
        atexit.register(client.close)
        # The threads start with the first request (after any fork), so a spool left by an
        # earlier process is replayed even before anything new is captured.
        start = getattr(client, "start", None)
        if start is not None:
            app.before_request(start)
    app.context_processor(lambda: {"analytics_config": tracker_config})


def tracker_config() -> dict:
    """What the page hands the browser tracker: the §13 analytics fields plus who is signed in."""
    from flask import current_app

    user_id = current_app.extensions["current_user_id"]()
    return {
        **browser_analytics(current_app.config),
        "app_version": current_app.config.get("APP_VERSION", ""),
        "endpoint": "/api/analytics/events",
        "user_id": str(user_id) if user_id else None,
    }
