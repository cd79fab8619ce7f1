"""Environment resolution and small PII-safe helpers (SPEC §2.2, §2.9)."""

from __future__ import annotations

import os

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
