"""Environment resolution, client selection and small helpers (SPEC §2.2, §2.3, §2.9)."""

from __future__ import annotations

import logging

import pytest

from multica.analytics import new_from_config
from multica.analytics.client import NoopClient, PostHogClient
from multica.analytics.environment import email_domain, environment_from_env, normalize_environment


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("production", "production"), ("prod", "production"), (" Prod ", "production"),
        ("staging", "staging"), ("stage", "staging"),
        ("development", "dev"), ("dev", "dev"), ("test", "dev"), ("local", "dev"),
        ("qa", ""), ("", ""), (None, ""),
    ],
)
def test_normalize_environment(value, expected):
    assert normalize_environment(value) == expected


@pytest.mark.parametrize(
    ("analytics_env", "app_env", "expected"),
    [
        ("qa", "prod", "production"),
        ("stage", "prod", "staging"),
        (None, "staging", "staging"),
        ("nonsense", "also-nonsense", "dev"),
        (None, None, "dev"),
    ],
)
def test_environment_from_env(analytics_env, app_env, expected):
    environ = {}
    if analytics_env is not None:
        environ["ANALYTICS_ENVIRONMENT"] = analytics_env
    if app_env is not None:
        environ["APP_ENV"] = app_env
    assert environment_from_env(environ) == expected


@pytest.mark.parametrize(
    ("email", "domain"),
    [("a@example.com", "example.com"), ("user@Company.co.uk", "company.co.uk"), ("", ""), ("no-at", ""), ("trailing@", ""), ("a@b@C.io", "c.io")],
)
def test_email_domain(email, domain):
    assert email_domain(email) == domain


def _records(caplog, message):
    return [r for r in caplog.records if r.getMessage() == message]


def test_disabled_wins_over_a_key(caplog):
    with caplog.at_level(logging.INFO, logger="multica.analytics"):
        client = new_from_config({"ANALYTICS_DISABLED": "true", "POSTHOG_API_KEY": "phc_x"})
    assert isinstance(client, NoopClient)
    assert _records(caplog, "analytics disabled via ANALYTICS_DISABLED")


def test_disabled_by_one(caplog):
    assert isinstance(new_from_config({"ANALYTICS_DISABLED": "1", "POSTHOG_API_KEY": "phc_x"}), NoopClient)


def test_empty_key_is_noop(caplog):
    with caplog.at_level(logging.INFO, logger="multica.analytics"):
        client = new_from_config({"POSTHOG_API_KEY": ""})
    assert isinstance(client, NoopClient)
    assert _records(caplog, "analytics: POSTHOG_API_KEY not set, using noop client")


def test_uppercase_true_does_not_disable(caplog):
    with caplog.at_level(logging.INFO, logger="multica.analytics"):
        client = new_from_config({"ANALYTICS_DISABLED": "TRUE", "POSTHOG_API_KEY": "phc_x", "POSTHOG_HOST": "http://127.0.0.1:9/"})
    try:
        assert isinstance(client, PostHogClient)
        enabled = _records(caplog, "analytics: posthog client enabled")
        assert enabled and enabled[0].host == "http://127.0.0.1:9"
    finally:
        client.close()


def test_default_host_and_environment():
    client = new_from_config({"POSTHOG_API_KEY": "phc_x", "APP_ENV": "prod"})
    try:
        assert client.url == "https://us.i.posthog.com/batch/"
        assert client.environment == "production"
    finally:
        client.close()


def test_key_is_used_verbatim():
    client = new_from_config({"POSTHOG_API_KEY": " phc_x ", "POSTHOG_HOST": "http://127.0.0.1:9"})
    try:
        assert client.api_key == " phc_x "
    finally:
        client.close()


def test_startup_lines_reach_stderr(tmp_path):
    """The §2.3 line is printed on stderr by a real process (D14.6)."""
    import subprocess
    import sys

    code = "from multica import create_app; create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'})"
    from tests.conftest import ROOT

    env = {"PATH": "/usr/bin:/bin", "POSTHOG_API_KEY": "", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "analytics: POSTHOG_API_KEY not set, using noop client" in result.stderr
