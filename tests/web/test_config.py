"""`GET /api/config` (SPEC §13.1)."""

from __future__ import annotations

import pytest

from multica.web.public_config import host_matches


@pytest.fixture
def client(make_app):
    """An app as a self-host runs it: no PostHog key or host configured anywhere."""
    return make_app(POSTHOG_API_KEY="", POSTHOG_HOST="").test_client()


def get_config(client):
    response = client.get("/api/config")
    assert response.status_code == 200
    return response.json


def test_full_environment(client, monkeypatch):
    for key, value in {
        "ALLOW_SIGNUP": "false",
        "GOOGLE_CLIENT_ID": "google-client-id",
        "POSTHOG_API_KEY": "phc_test",
        "POSTHOG_HOST": "https://eu.i.posthog.com",
        "MULTICA_PUBLIC_URL": "https://api.example.com/",
        "MULTICA_APP_URL": "https://app.example.com/",
    }.items():
        monkeypatch.setenv(key, value)
    body = get_config(client)
    assert body["allow_signup"] is False
    assert body["google_client_id"] == "google-client-id"
    assert body["posthog_key"] == "phc_test"
    assert body["posthog_host"] == "https://eu.i.posthog.com"
    assert body["analytics_environment"] == "dev"
    assert body.get("workspace_creation_disabled", False) is False
    assert body["daemon_server_url"] == "https://api.example.com"
    assert body["daemon_app_url"] == "https://app.example.com"


@pytest.mark.parametrize("variable", ["MULTICA_APP_URL", "FRONTEND_ORIGIN"])
def test_app_url_alone_serves_both(client, monkeypatch, variable):
    monkeypatch.setenv(variable, "https://multica.internal.example/")
    body = get_config(client)
    assert body["daemon_server_url"] == "https://multica.internal.example"
    assert body["daemon_app_url"] == "https://multica.internal.example"


@pytest.mark.parametrize(
    "environ",
    [
        {"MULTICA_PUBLIC_URL": "https://api.multica.ai", "FRONTEND_ORIGIN": "https://multica.ai"},
        {"FRONTEND_ORIGIN": "https://multica.ai"},
        {"MULTICA_APP_URL": "https://app.multica.ai"},
    ],
)
def test_official_cloud_hides_daemon_urls(client, monkeypatch, environ):
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    body = get_config(client)
    assert "daemon_server_url" not in body and "daemon_app_url" not in body


def test_no_urls_no_daemon_fields(client):
    body = get_config(client)
    assert "daemon_server_url" not in body and "daemon_app_url" not in body
    assert "google_client_id" not in body


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.multica.ai", True), ("api.multica.ai", True), ("api.multica.ai:8080", True),
        ("https://api.multica.ai.", True), ("HTTPS://API.MULTICA.AI", True), ("https://evil.example", False), ("", False),
    ],
)
def test_host_match(url, expected):
    assert host_matches(url, "api.multica.ai") is expected


def test_workspace_creation_disabled(client, monkeypatch):
    monkeypatch.setenv("DISABLE_WORKSPACE_CREATION", "true")
    assert get_config(client)["workspace_creation_disabled"] is True


def test_analytics_disabled_blanks_the_analytics_fields(client, monkeypatch):
    monkeypatch.setenv("ANALYTICS_DISABLED", "1")
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_x")
    monkeypatch.setenv("POSTHOG_HOST", "https://eu.i.posthog.com")
    body = get_config(client)
    assert (body["posthog_key"], body["posthog_host"], body["analytics_environment"]) == ("", "", "")


def test_default_host_only_with_a_key(client, monkeypatch):
    assert get_config(client)["posthog_key"] == ""
    assert get_config(client)["posthog_host"] == ""
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_x")
    assert get_config(client)["posthog_host"] == "https://us.i.posthog.com"


def test_env_is_reread_on_every_request(client, monkeypatch):
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_one")
    assert get_config(client)["posthog_key"] == "phc_one"
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_two")
    assert get_config(client)["posthog_key"] == "phc_two"


def test_environment_follows_app_env(client, monkeypatch):
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_x")
    monkeypatch.setenv("APP_ENV", "staging")
    assert get_config(client)["analytics_environment"] == "staging"


def test_cdn_signed_is_not_reported(client):
    assert "cdn_signed" not in get_config(client)


def test_app_config_tells_the_browser_what_it_tells_the_server(make_app):
    """A `create_app({...})` override reaches `/api/config` and the page's tracker config alike."""
    app = make_app(POSTHOG_API_KEY="phc_override", POSTHOG_HOST="https://eu.i.posthog.com", APP_ENV="staging")
    client = app.test_client()
    body = get_config(client)
    assert (body["posthog_key"], body["posthog_host"], body["analytics_environment"]) == (
        "phc_override", "https://eu.i.posthog.com", "staging",
    )
    page = client.get("/login").get_data(as_text=True)
    assert '"posthog_key": "phc_override"' in page
    assert app.extensions["analytics"].host == "https://eu.i.posthog.com"
