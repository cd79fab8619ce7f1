"""Prometheus label normalizers (SPEC §6.4, Appendix A, D13(7)).

Every label value on a business metric passes one of these functions, so a label can only ever
take a value from a fixed allow-list: user input (headers, cookies, request bodies) must never be
able to mint new time series. Each normalizer accepts any value; anything that is not a string is
read as "" and lands on the fallback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from multica.analytics.catalog import COMPLETION_PATHS, CONTACT_SALES_FORM_SOURCES, FEEDBACK_KINDS
from multica.metrics.classifier import classify_failure_reason

FORBIDDEN_LABELS = ("workspace_id", "user_id", "agent_id", "task_id", "issue_id", "runtime_id", "session_id", "ip")

CANONICAL_FAILURE_REASONS = (
    "queued_expired",
    "runtime_offline",
    "runtime_recovery",
    "timeout",
    "iteration_limit",
    "agent_blocked",
    "api_invalid_request",
    "agent_error.provider_auth_or_access",
    "agent_error.provider_quota_limit",
    "agent_error.provider_capacity_or_rate_limit",
    "agent_error.provider_server_error",
    "agent_error.provider_network",
    "agent_error.process_failure",
    "agent_error.empty_or_unparseable_output",
    "agent_error.agent_timeout",
    "agent_error.context_overflow",
    "agent_error.missing_config",
    "agent_error.model_not_found_or_unavailable",
    "agent_error.runtime_version_unsupported",
    "agent_error.runtime_missing_executable",
    "agent_error.unknown",
)
_CANONICAL_FAILURE_SET = frozenset(CANONICAL_FAILURE_REASONS)

TASK_SOURCES = ("issue", "chat", "autopilot", "autopilot_issue", "quick_create", "manual", "api", "other")
RUNTIME_MODES = ("local", "cloud", "unknown")
PROVIDERS = (
    "antigravity", "claude", "codebuddy", "codex", "copilot", "cursor", "gemini", "hermes",
    "kiro", "kimi", "multica_agent", "openclaw", "opencode", "pi", "other",
)
TERMINAL_STATUSES = ("completed", "failed", "cancelled", "blocked", "other")
PLATFORMS = ("server", "web", "desktop", "cli", "mobile", "ios", "unknown")
ONBOARDING_PATHS = COMPLETION_PATHS
AUTOPILOT_CADENCES = ("hourly", "daily", "weekly", "monthly", "manual", "webhook", "unknown")
AUTOPILOT_TRIGGERS = ("schedule", "webhook", "manual", "unknown")
CONTACT_SALES_SOURCES = CONTACT_SALES_FORM_SOURCES

# Keys of the attribution cookie's JSON object that may name the source, in priority order.
# `referrer_origin` is what the cookie writer (§14.5) actually stores for referrer-only visits;
# without it such sign-ups would always bucket to `other` (D13 (7)).
_SIGNUP_SOURCE_KEYS = ("utm_source", "source", "referrer", "ref", "referrer_origin")

_SIGNUP_HOSTS = {
    "google.com": "google",
    "google.co.uk": "google",
    "bing.com": "bing",
    "duckduckgo.com": "duckduckgo",
    "twitter.com": "twitter",
    "x.com": "twitter",
    "t.co": "twitter",
    "linkedin.com": "linkedin",
    "lnkd.in": "linkedin",
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "instagram.com": "instagram",
    "github.com": "github",
    "gitlab.com": "gitlab",
    "news.ycombinator.com": "hacker_news",
    "reddit.com": "reddit",
    "old.reddit.com": "reddit",
    "youtube.com": "youtube",
    "youtu.be": "youtube",
    "discord.com": "discord",
    "discord.gg": "discord",
    "slack.com": "slack",
    "producthunt.com": "product_hunt",
    "medium.com": "medium",
    "dev.to": "dev_to",
}

_SIGNUP_SOURCES = {
    **{name: name for name in (
        "direct", "google", "bing", "duckduckgo", "twitter", "linkedin", "facebook", "instagram",
        "github", "gitlab", "hacker_news", "reddit", "youtube", "discord", "slack", "product_hunt",
        "medium", "dev_to", "email", "organic", "referral", "partner", "affiliate", "paid", "other",
    )},
    "x": "twitter",
    "hackernews": "hacker_news",
    "producthunt": "product_hunt",
    "devto": "dev_to",
    "newsletter": "email",
    "ad": "paid",
    "ads": "paid",
    "cpc": "paid",
    "sem": "paid",
}


def _text(value: Any) -> str:
    """Return `value` trimmed when it is a string, else "" (missing or wrong-typed properties)."""
    return value.strip() if isinstance(value, str) else ""


def _allow(value: Any, allowed: tuple[str, ...], fallback: str) -> str:
    """Trim and lowercase `value`, keep it when allowed, else return `fallback`."""
    text = _text(value).lower()
    return text if text in allowed else fallback


def normalize_task_source(value: Any) -> str:
    """Bucket a task/issue/workspace `source` into the task-source allow-list (fallback `other`)."""
    return _allow(value, TASK_SOURCES, "other")


def normalize_runtime_mode(value: Any) -> str:
    """Bucket a runtime mode into `local`/`cloud`/`unknown`."""
    return _allow(value, RUNTIME_MODES, "unknown")


def normalize_provider(value: Any) -> str:
    """Bucket a runtime provider into the known providers (fallback `other`)."""
    return _allow(value, PROVIDERS, "other")


def normalize_terminal_status(value: Any) -> str:
    """Bucket a terminal status into `completed`/`failed`/`cancelled`/`blocked`/`other`."""
    return _allow(value, TERMINAL_STATUSES, "other")


def normalize_failure_reason(value: Any) -> str:
    """Keep a canonical failure reason verbatim; classify anything else into `agent_error.*`.

    Only trimmed, not lowercased: canonical reasons are matched exactly, and free text goes
    through the classifier, which is case-insensitive on its own.
    """
    text = _text(value)
    if text in _CANONICAL_FAILURE_SET:
        return text
    return classify_failure_reason(text)


def normalize_platform(value: Any) -> str:
    """Bucket a client platform (e.g. `X-Client-Platform`) into the platform allow-list."""
    return _allow(value, PLATFORMS, "unknown")


def normalize_onboarding_path(value: Any) -> str:
    """Bucket an onboarding `completion_path` into its six values (fallback `unknown`)."""
    return _allow(value, ONBOARDING_PATHS, "unknown")


def normalize_autopilot_cadence(value: Any) -> str:
    """Bucket an autopilot cadence into the cadence allow-list (fallback `unknown`)."""
    return _allow(value, AUTOPILOT_CADENCES, "unknown")


def normalize_autopilot_trigger(value: Any) -> str:
    """Bucket an autopilot trigger kind into `schedule`/`webhook`/`manual`/`unknown`."""
    return _allow(value, AUTOPILOT_TRIGGERS, "unknown")


def normalize_feedback_kind(value: Any) -> str:
    """Bucket a feedback kind into `bug`/`feature`/`general`/`praise`/`other`."""
    return _allow(value, FEEDBACK_KINDS, "other")


def normalize_contact_sales_source(value: Any) -> str:
    """Bucket the contact-sales `form_source` into the form-source allow-list (fallback `other`)."""
    return _allow(value, CONTACT_SALES_SOURCES, "other")


def _signup_source_from_json(text: str) -> str | None:
    """Return the source named by a JSON-object cookie, "" when it names none, None if not one."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        # Not JSON after all: the caller canonicalises the raw text, which ends up as `other`.
        return None
    if not isinstance(data, dict):
        return None
    for key in _SIGNUP_SOURCE_KEYS:
        candidate = data.get(key)
        if isinstance(candidate, str) and candidate.strip():
            return candidate
    return ""


def _canonical_host(text: str) -> str:
    """Reduce a URL-ish value to a bare lowercased host without scheme, path or `www.`."""
    text = text.strip().lower()
    for prefix in ("https://", "http://", "//"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    for index, char in enumerate(text):
        if char in "/?#":
            text = text[:index]
            break
    if text.startswith("www."):
        text = text[len("www."):]
    return text


def normalize_signup_source(value: Any) -> str:
    """Bucket the raw `multica_signup_source` cookie value into a low-cardinality source label.

    Empty ⇒ `direct`. A JSON object contributes its first non-blank `utm_source`, `source`,
    `referrer`, `ref` or `referrer_origin` (none ⇒ `other`). The value is then reduced to a host,
    known hosts are mapped to their source, and the result must be on the allow-list (with its
    aliases), else `other`. The PostHog event keeps the raw string; only the label is bucketed.
    """
    text = _text(value)
    if not text:
        return "direct"
    if text.startswith("{"):
        picked = _signup_source_from_json(text)
        if picked == "":
            return "other"
        if picked is not None:
            text = picked
    host = _canonical_host(text)
    host = _SIGNUP_HOSTS.get(host, host)
    return _SIGNUP_SOURCES.get(host, "other")


def normalize_bool(value: Any) -> str:
    """Render a flag label as `"true"` (for True or the string "true") or `"false"`."""
    if value is True:
        return "true"
    return "true" if _text(value).lower() == "true" else "false"


NORMALIZERS: dict[str, Callable[[Any], str]] = {
    "task_source": normalize_task_source,
    "runtime_mode": normalize_runtime_mode,
    "provider": normalize_provider,
    "terminal_status": normalize_terminal_status,
    "failure_reason": normalize_failure_reason,
    "platform": normalize_platform,
    "onboarding_path": normalize_onboarding_path,
    "autopilot_cadence": normalize_autopilot_cadence,
    "autopilot_trigger": normalize_autopilot_trigger,
    "feedback_kind": normalize_feedback_kind,
    "contact_sales_source": normalize_contact_sales_source,
    "signup_source": normalize_signup_source,
    "bool": normalize_bool,
}
