"""Settings read from the environment (and `.env`), with safe development defaults."""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_SECRET_KEY = "multica-dev-secret-change-in-production"
DEFAULT_POSTHOG_HOST = "https://us.i.posthog.com"
DEFAULT_RELEASES_API_URL = "https://api.github.com/repos/multica-ai/multica/releases"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment asks for something the app refuses to run with."""


def env_str(name: str, default: str = "") -> str:
    """The variable's value, or `default` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """`true`/`1`/`yes`/`on` (any case) as True; unset gives `default`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    """A positive float, or `default` when unset, unparseable or not positive."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def env_int(name: str, default: int) -> int:
    """A positive integer, or `default` when unset, unparseable or not positive."""
    try:
        value = int(os.environ.get(name, "").strip())
    except ValueError:
        return default
    return value if value > 0 else default


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(raw: str, default: int) -> int:
    """Seconds from integer seconds (`3600`) or a duration string (`720h`, `1h30m`)."""
    text = (raw or "").strip()
    if not text:
        return default
    if text.isdigit():
        return int(text) if int(text) > 0 else default
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            return default
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or total <= 0:
        return default
    return int(total)


def database_url() -> str:
    """`DATABASE_URL`, normalised to psycopg 3, or the embedded SQLite file."""
    url = env_str("DATABASE_URL").strip()
    if not url:
        instance = PROJECT_ROOT / "instance"
        return f"sqlite:///{instance / 'multica.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def spool_dir(production: bool) -> str:
    """`POSTHOG_SPOOL_DIR`, defaulting to `instance/spool` in production (an empty value disables it)."""
    raw = os.environ.get("POSTHOG_SPOOL_DIR")
    if raw is None:
        return str(PROJECT_ROOT / "instance" / "spool") if production else ""
    return raw.strip()


def is_production() -> bool:
    """`APP_ENV` (trimmed, any case) is `production` or `prod`."""
    return env_str("APP_ENV").strip().lower() in {"production", "prod"}


def from_env() -> dict:
    """Build the Flask config mapping from the current environment."""
    production = is_production()
    token_ttl = parse_duration(env_str("AUTH_TOKEN_TTL"), 30 * 24 * 3600)
    return {
        "APP_ENV": env_str("APP_ENV").strip(),
        "SECRET_KEY": env_str("SECRET_KEY") or env_str("JWT_SECRET") or DEFAULT_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # A pooled connection idle longer than this is pinged before use (not every checkout).
        "DATABASE_PING_AFTER_IDLE": env_float("DATABASE_PING_AFTER_IDLE", 10.0),
        # An app-wide body cap: bigger bodies are refused with 413 before a view runs.
        "MAX_CONTENT_LENGTH": env_int("MAX_CONTENT_LENGTH", 1024 * 1024),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
        "LOG_LEVEL": env_str("LOG_LEVEL", "INFO").strip().upper() or "INFO",
        # Analytics pipeline (SPEC §2, D5).
        "ANALYTICS_DISABLED": env_str("ANALYTICS_DISABLED"),
        "POSTHOG_API_KEY": env_str("POSTHOG_API_KEY"),
        "POSTHOG_HOST": env_str("POSTHOG_HOST"),
        "ANALYTICS_ENVIRONMENT": env_str("ANALYTICS_ENVIRONMENT"),
        "POSTHOG_QUEUE_SIZE": env_int("POSTHOG_QUEUE_SIZE", 1024),
        "POSTHOG_BATCH_SIZE": env_int("POSTHOG_BATCH_SIZE", 64),
        "POSTHOG_FLUSH_INTERVAL": env_float("POSTHOG_FLUSH_INTERVAL", 10.0),
        "POSTHOG_TIMEOUT": env_float("POSTHOG_TIMEOUT", 5.0),
        "POSTHOG_SHUTDOWN_TIMEOUT": env_float("POSTHOG_SHUTDOWN_TIMEOUT", 5.0),
        # The delivery spool (D17): on by default in production only; set empty to turn it off.
        "POSTHOG_SPOOL_DIR": spool_dir(production),
        "POSTHOG_SPOOL_MAX_MB": env_int("POSTHOG_SPOOL_MAX_MB", 256),
        "ANALYTICS_FORWARD_IP": env_bool("ANALYTICS_FORWARD_IP"),
        # Production ships violations (and counts them); elsewhere they raise.
        "ANALYTICS_STRICT": not production and env_str("APP_ENV").strip().lower() not in {"staging", "stage"},
        # Metrics (D8).
        "METRICS_TOKEN": env_str("METRICS_TOKEN"),
        # Who may open /admin/funnel (D16.3): a comma-separated list of emails.
        "ADMIN_EMAILS": env_str("ADMIN_EMAILS"),
        # Per-IP throttles (D9).
        "RATELIMIT_ENABLED": env_bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": env_str("REDIS_URL").strip() or "memory://",
        "RATELIMIT_ANALYTICS_INGEST": env_str("RATELIMIT_ANALYTICS_INGEST", "120 per minute"),
        "RATE_LIMIT_TRUSTED_PROXIES": env_str("RATE_LIMIT_TRUSTED_PROXIES"),
        "PROXY_HOPS": env_int("PROXY_HOPS", 0),
        "TASK_STALE_AFTER": env_int("TASK_STALE_AFTER", 1800),
        "AUTH_TOKEN_TTL": token_ttl,
        "APP_VERSION": env_str("APP_VERSION", "0.1.0"),
        "DISABLE_WORKSPACE_CREATION": env_str("DISABLE_WORKSPACE_CREATION").strip(),
        # Sign-up and login (SPEC §8, D4).
        "ALLOW_SIGNUP": env_str("ALLOW_SIGNUP"),
        "ALLOWED_EMAILS": env_str("ALLOWED_EMAILS"),
        "ALLOWED_EMAIL_DOMAINS": env_str("ALLOWED_EMAIL_DOMAINS"),
        "MULTICA_DEV_VERIFICATION_CODE": env_str("MULTICA_DEV_VERIFICATION_CODE"),
        "RATE_LIMIT_AUTH": env_int("RATE_LIMIT_AUTH", 5),
        "RATE_LIMIT_AUTH_VERIFY": env_int("RATE_LIMIT_AUTH_VERIFY", 20),
        "RATE_LIMIT_CONTACT_SALES": env_int("RATE_LIMIT_CONTACT_SALES", 5),
        "GOOGLE_CLIENT_ID": env_str("GOOGLE_CLIENT_ID").strip(),
        "GOOGLE_CLIENT_SECRET": env_str("GOOGLE_CLIENT_SECRET").strip(),
        "GOOGLE_SERVER_METADATA_URL": env_str("GOOGLE_SERVER_METADATA_URL").strip(),
        "SMTP_HOST": env_str("SMTP_HOST").strip(),
        "SMTP_PORT": env_int("SMTP_PORT", 587),
        "SMTP_USERNAME": env_str("SMTP_USERNAME"),
        "SMTP_PASSWORD": env_str("SMTP_PASSWORD"),
        "SMTP_FROM": env_str("SMTP_FROM"),
        "SMTP_STARTTLS": env_str("SMTP_STARTTLS", "true"),
        "PERMANENT_SESSION_LIFETIME": token_ttl,
        # The desktop release on /download (SPEC §15.1, D14.14); empty means the public default.
        "RELEASES_API_URL": env_str("RELEASES_API_URL").strip() or DEFAULT_RELEASES_API_URL,
        "GITHUB_TOKEN": env_str("GITHUB_TOKEN").strip(),
        "RELEASES_TIMEOUT": env_float("RELEASES_TIMEOUT", 3.0),
        "RELEASES_CACHE_SECONDS": env_float("RELEASES_CACHE_SECONDS", 300.0),
    }


def check_production_secrets(config: dict) -> None:
    """Refuse to run in production with the development `SECRET_KEY`."""
    app_env = str(config.get("APP_ENV", "")).strip().lower()
    if app_env in {"production", "prod"} and config.get("SECRET_KEY") in {"", None, DEFAULT_SECRET_KEY}:
        raise ConfigError(
            "refusing to start: APP_ENV=production needs a real SECRET_KEY "
            "(set SECRET_KEY to a long random value)"
        )
