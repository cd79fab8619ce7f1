"""What `GET /api/config` tells anonymous clients (SPEC §13); read from the environment per call."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from multica.analytics.environment import browser_analytics

OFFICIAL_CLOUD_HOSTS = ("multica.ai", "app.multica.ai")


def _clean_url(value: str | None) -> str:
    return (value or "").strip().rstrip("/")


def host_matches(url: str, host: str) -> bool:
    """`url`'s host equals `host`: case-insensitive, trailing dot and port ignored, bare hosts accepted."""
    url = (url or "").strip()
    if not url:
        return False
    netloc = urlsplit(url if "://" in url else f"//{url}").hostname or ""
    return netloc.rstrip(".").lower() == host.rstrip(".").lower()


def daemon_urls(environ=None) -> tuple[str, str]:
    """`(server_url, app_url)` for daemon setup, both empty on the official cloud or when unknown."""
    environ = os.environ if environ is None else environ
    app_url = _clean_url(environ.get("MULTICA_APP_URL")) or _clean_url(environ.get("FRONTEND_ORIGIN"))
    if not app_url:
        return "", ""
    if any(host_matches(app_url, host) for host in OFFICIAL_CLOUD_HOSTS):
        return "", ""
    server_url = _clean_url(environ.get("MULTICA_PUBLIC_URL")) or app_url
    return server_url, app_url


def public_config(config, environ=None) -> dict:
    """The anonymous-safe configuration document; the analytics fields come from the analytics package."""
    environ = os.environ if environ is None else environ
    body: dict = {
        "cdn_domain": environ.get("CDN_DOMAIN", "").strip(),
        "allow_signup": environ.get("ALLOW_SIGNUP") != "false",
    }
    if environ.get("GOOGLE_CLIENT_ID"):
        body["google_client_id"] = environ["GOOGLE_CLIENT_ID"]
    if environ.get("DISABLE_WORKSPACE_CREATION") == "true":
        body["workspace_creation_disabled"] = True
    server_url, app_url = daemon_urls(environ)
    if server_url:
        body["daemon_server_url"] = server_url
    if app_url:
        body["daemon_app_url"] = app_url
    body.update(browser_analytics(config, environ))
    return body
