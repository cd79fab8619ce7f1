"""Environment resolution and small PII-safe helpers (SPEC §2.2, §2.9)."""

from __future__ import annotations

import os

from multica.config import DEFAULT_POSTHOG_HOST

# The settings the browser tracker needs; see `live_settings`.
_BROWSER_SETTINGS = ("ANALYTICS_DISABLED", "POSTHOG_API_KEY", "POSTHOG_HOST", "ANALYTICS_ENVIRONMENT", "APP_ENV")

_ENVIRONMENTS = {
    "production": "production",
    "prod": "production",
    "staging": "staging",
    "stage": "staging",
    "development": "dev",
    "dev": "dev",
    "test": "dev",
    "local": "dev",
}


def normalize_environment(value: str | None) -> str:
    """`production`/`staging`/`dev` for a known spelling, else `""` (invalid)."""
    return _ENVIRONMENTS.get((value or "").strip().lower(), "")


def environment_from_env(environ=None) -> str:
    """`ANALYTICS_ENVIRONMENT` if valid, else `APP_ENV` if valid, else `dev`."""
    environ = os.environ if environ is None else environ
    return (
        normalize_environment(environ.get("ANALYTICS_ENVIRONMENT"))
        or normalize_environment(environ.get("APP_ENV"))
        or "dev"
    )


def analytics_disabled(value: str | None) -> bool:
    """`ANALYTICS_DISABLED` is exactly `true` or `1` (case-sensitive)."""
    return value in {"true", "1"}


def email_domain(email: str | None) -> str:
    """The text after the last `@`, lowercased; `""` without one or when nothing follows."""
    email = email or ""
    at = email.rfind("@")
    if at < 0:
        return ""
    return email[at + 1:].lower()


def non_agent_user_id(distinct_id: str | None) -> str:
    """`distinct_id` when it names a human user, `""` for empty or synthetic (`agent:x`) ids."""
    if not distinct_id or ":" in distinct_id:
        return ""
    return distinct_id


def live_settings(config, environ=None) -> dict:
    """The analytics settings as they stand now.

    A variable set in the process environment wins, re-read on every call so a rotated key
    reaches the browser without a restart (SPEC §13); otherwise the app's config decides, so a
    `create_app({...})` override tells the browser and the server client the same thing.
    """
    environ = os.environ if environ is None else environ
    return {
        name: environ[name] if name in environ else str(config.get(name) or "")
        for name in _BROWSER_SETTINGS
    }


def browser_analytics(config, environ=None) -> dict:
    """`posthog_key`, `posthog_host` and `analytics_environment` for the browser (SPEC §13)."""
    settings = live_settings(config, environ)
    if analytics_disabled(settings["ANALYTICS_DISABLED"]):
        return {"posthog_key": "", "posthog_host": "", "analytics_environment": ""}
    key = settings["POSTHOG_API_KEY"]
    host = settings["POSTHOG_HOST"]
    return {
        "posthog_key": key,
        "posthog_host": host if host or not key else DEFAULT_POSTHOG_HOST,
        "analytics_environment": environment_from_env(settings),
    }
