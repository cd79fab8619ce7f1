"""Label normalizers (SPEC §6.4, §6.5, D13(7))."""

import pytest

from multica.metrics import labels
from multica.metrics.labels import (
    CANONICAL_FAILURE_REASONS,
    FORBIDDEN_LABELS,
    NORMALIZERS,
    normalize_bool,
    normalize_failure_reason,
    normalize_signup_source,
)

ALLOW_LISTS = {
    "task_source": (("issue", "chat", "autopilot", "autopilot_issue", "quick_create", "manual", "api", "other"), "other"),
    "runtime_mode": (("local", "cloud", "unknown"), "unknown"),
    "provider": (
        ("antigravity", "claude", "codebuddy", "codex", "copilot", "cursor", "gemini", "hermes", "kiro",
         "kimi", "multica_agent", "openclaw", "opencode", "pi", "other"),
        "other",
    ),
    "terminal_status": (("completed", "failed", "cancelled", "blocked", "other"), "other"),
    "platform": (("server", "web", "desktop", "cli", "mobile", "ios", "unknown"), "unknown"),
    "onboarding_path": (
        ("full", "runtime_skipped", "cloud_waitlist", "skip_existing", "invite_accept", "unknown"), "unknown",
    ),
    "autopilot_cadence": (("hourly", "daily", "weekly", "monthly", "manual", "webhook", "unknown"), "unknown"),
    "autopilot_trigger": (("schedule", "webhook", "manual", "unknown"), "unknown"),
    "feedback_kind": (("bug", "feature", "general", "praise", "other"), "other"),
    "contact_sales_source": (("page", "onboarding", "agents_page", "unknown", "other"), "other"),
}

ALLOWED_CASES = [(key, value) for key, (allowed, _) in ALLOW_LISTS.items() for value in allowed]
FALLBACK_INPUTS = ["", "   ", None, 7, True, ["web"], {"a": 1}, "bogus-value", "web app", "issue\x00"]
FALLBACK_CASES = [(key, raw, fallback) for key, (_, fallback) in ALLOW_LISTS.items() for raw in FALLBACK_INPUTS]


def test_normalizers_registry_has_exact_keys():
    assert set(NORMALIZERS) == {
        "task_source", "runtime_mode", "provider", "terminal_status", "failure_reason", "platform",
        "onboarding_path", "autopilot_cadence", "autopilot_trigger", "feedback_kind",
        "contact_sales_source", "signup_source", "bool",
    }
    assert NORMALIZERS["signup_source"] is normalize_signup_source
    assert NORMALIZERS["failure_reason"] is normalize_failure_reason
    assert NORMALIZERS["bool"] is normalize_bool


def test_forbidden_labels():
    assert FORBIDDEN_LABELS == (
        "workspace_id", "user_id", "agent_id", "task_id", "issue_id", "runtime_id", "session_id", "ip",
    )


@pytest.mark.parametrize(("key", "value"), ALLOWED_CASES)
def test_allowed_value_kept(key, value):
    assert NORMALIZERS[key](value) == value


@pytest.mark.parametrize(("key", "value"), ALLOWED_CASES)
def test_allowed_value_trimmed_and_lowercased(key, value):
    assert NORMALIZERS[key](f"  {value.upper()}\t\n") == value


@pytest.mark.parametrize(("key", "raw", "fallback"), FALLBACK_CASES)
def test_unknown_collapses_to_fallback(key, raw, fallback):
    assert NORMALIZERS[key](raw) == fallback


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        # §6.5 [R] unknown-collapse vectors.
        ("provider", "provider-from-user-input", "other"),
        ("runtime_mode", "workspace-123", "unknown"),
        ("task_source", "task-123", "other"),
        ("platform", "iphone-internal-build-9", "unknown"),
        ("platform", "web", "web"),
        ("platform", "iphone-build-1234567890-abcdef", "unknown"),
        ("onboarding_path", "ab-experiment-123", "unknown"),
        ("autopilot_cadence", "every_5_min", "unknown"),
        ("autopilot_trigger", "future_kind", "unknown"),
        ("feedback_kind", "rant", "other"),
        ("contact_sales_source", "homepage_modal", "other"),
        ("signup_source", "rakuten-affiliate-program", "other"),
        # §20 X-6: `onboarding` is never a task source.
        ("task_source", "onboarding", "other"),
    ],
)
def test_reference_collapse_vectors(key, raw, expected):
    assert NORMALIZERS[key](raw) == expected


@pytest.mark.parametrize("reason", CANONICAL_FAILURE_REASONS)
def test_canonical_failure_reason_kept(reason):
    assert normalize_failure_reason(reason) == reason
    assert normalize_failure_reason(f"  {reason} ") == reason


def test_canonical_failure_reasons_are_the_21():
    assert len(CANONICAL_FAILURE_REASONS) == 21
    assert len(set(CANONICAL_FAILURE_REASONS)) == 21
    assert CANONICAL_FAILURE_REASONS[:7] == (
        "queued_expired", "runtime_offline", "runtime_recovery", "timeout", "iteration_limit",
        "agent_blocked", "api_invalid_request",
    )
    assert all(reason.startswith("agent_error.") for reason in CANONICAL_FAILURE_REASONS[7:])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('API Error: 429 {"error":"overloaded"}', "agent_error.provider_capacity_or_rate_limit"),
        ("API Error: 401 Unauthorized", "agent_error.provider_auth_or_access"),
        ("", "agent_error.unknown"),
        (None, "agent_error.unknown"),
        (500, "agent_error.unknown"),
        ("agent_error", "agent_error.unknown"),  # §20 X-8 default
        # Trim only, no lowercasing: a re-cased canonical value is free text for the classifier.
        ("TIMEOUT", "agent_error.unknown"),
        ("Runtime_Offline", "agent_error.unknown"),
        ("AGENT_ERROR.PROVIDER_NETWORK", "agent_error.unknown"),
        ("Something odd", "agent_error.unknown"),
    ],
)
def test_failure_reason_classifies_free_text(raw, expected):
    assert normalize_failure_reason(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # §6.5 [R].
        ("", "direct"),
        ("rakuten-affiliate-program", "other"),
        ('{"utm_source":"twitter","utm_medium":"social"}', "twitter"),
        ("https://news.ycombinator.com/item?id=42", "hacker_news"),
        # Empty-ish.
        (None, "direct"),
        ("   ", "direct"),
        (42, "direct"),
        # JSON: key priority, blank and non-string values skipped.
        ('{"referrer_origin":"https://news.ycombinator.com"}', "hacker_news"),
        ('{"utm_source":"hn","utm_medium":"social","referrer_origin":"https://news.ycombinator.com"}', "other"),
        ('{"utm_source":"newsletter"}', "email"),
        ('{"source":"github"}', "github"),
        ('{"referrer":"https://www.reddit.com/r/x"}', "reddit"),
        ('{"ref":"producthunt"}', "product_hunt"),
        ('{"utm_source":"  ","source":"bing"}', "bing"),
        ('{"utm_source":7,"source":"LinkedIn"}', "linkedin"),
        ('{"ref":"x","referrer_origin":"https://github.com"}', "twitter"),
        ('{"source":"google","utm_source":"bing"}', "bing"),
        ('{"utm_medium":"social"}', "other"),
        ("{}", "other"),
        ('{"utm_source":""}', "other"),
        ('  {"utm_source":"Reddit"}  ', "reddit"),
        # Not a JSON object.
        ("not json {", "other"),
        ("{not json", "other"),
        ('["twitter"]', "other"),
        # URLs and hosts.
        ("https://www.google.com/search?q=x", "google"),
        ("http://google.co.uk", "google"),
        ("//bing.com/", "bing"),
        ("duckduckgo.com#frag", "duckduckgo"),
        ("https://t.co/abc", "twitter"),
        ("https://x.com/someone", "twitter"),
        ("twitter.com", "twitter"),
        ("https://lnkd.in/xyz", "linkedin"),
        ("https://www.linkedin.com/feed", "linkedin"),
        ("https://fb.com", "facebook"),
        ("https://www.facebook.com/", "facebook"),
        ("https://instagram.com", "instagram"),
        ("https://gitlab.com/a/b", "gitlab"),
        ("https://old.reddit.com/r/python", "reddit"),
        ("https://youtu.be/abc", "youtube"),
        ("https://www.youtube.com/watch?v=1", "youtube"),
        ("https://discord.gg/invite", "discord"),
        ("https://discord.com/channels", "discord"),
        ("https://slack.com", "slack"),
        ("https://www.producthunt.com/posts/multica", "product_hunt"),
        ("https://medium.com/@a/b", "medium"),
        ("https://dev.to/post", "dev_to"),
        ("HTTPS://WWW.GITHUB.COM/multica", "github"),
        ("https://news.ycombinator.com:8443", "other"),
        ("https://google.de", "other"),
        ("https://mail.google.com", "other"),
        ("http://localhost:3000", "other"),
        # Allow-list and aliases.
        ("x", "twitter"),
        ("hackernews", "hacker_news"),
        ("hacker_news", "hacker_news"),
        ("producthunt", "product_hunt"),
        ("devto", "dev_to"),
        ("newsletter", "email"),
        ("Email", "email"),
        ("organic", "organic"),
        ("referral", "referral"),
        ("partner", "partner"),
        ("affiliate", "affiliate"),
        ("ad", "paid"),
        ("ads", "paid"),
        ("paid", "paid"),
        ("CPC", "paid"),
        ("sem", "paid"),
        ("direct", "direct"),
        ("other", "other"),
        ("google", "google"),
        ("facebook", "facebook"),
        ("instagram", "instagram"),
        ("youtube", "youtube"),
        ("discord", "discord"),
        ("slack", "slack"),
        ("medium", "medium"),
        ("gitlab", "gitlab"),
        ("duckduckgo", "duckduckgo"),
        ("hn", "other"),
        ("https://", "other"),
    ],
)
def test_signup_source(raw, expected):
    assert normalize_signup_source(raw) == expected


def test_signup_source_only_yields_allowed_values():
    allowed = set(labels._SIGNUP_SOURCES.values())
    assert allowed == {
        "direct", "google", "bing", "duckduckgo", "twitter", "linkedin", "facebook", "instagram", "github",
        "gitlab", "hacker_news", "reddit", "youtube", "discord", "slack", "product_hunt", "medium", "dev_to",
        "email", "organic", "referral", "partner", "affiliate", "paid", "other",
    }
    assert set(labels._SIGNUP_HOSTS.values()) <= allowed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, "true"),
        ("true", "true"),
        (" TRUE ", "true"),
        (False, "false"),
        ("false", "false"),
        (1, "false"),
        ("yes", "false"),
        ("", "false"),
        (None, "false"),
    ],
)
def test_bool(raw, expected):
    assert normalize_bool(raw) == expected
