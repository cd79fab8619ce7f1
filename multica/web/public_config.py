"""What `GET /api/config` tells anonymous clients (SPEC §13); read from the environment per call."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from multica.analytics.environment import analytics_disabled, environment_from_env

DEFAULT_POSTHOG_HOST = "https://us.i.posthog.com"
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


def public_config(environ=None) -> dict:
    """The anonymous-safe configuration document."""
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
    if analytics_disabled(environ.get("ANALYTICS_DISABLED")):
        body.update(posthog_key="", posthog_host="", analytics_environment="")
    else:
        key = environ.get("POSTHOG_API_KEY", "")
        host = environ.get("POSTHOG_HOST", "")
        body.update(
            posthog_key=key,
            posthog_host=host if host or not key else DEFAULT_POSTHOG_HOST,
            analytics_environment=environment_from_env(environ),
        )
    return body
