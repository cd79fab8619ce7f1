"""Process endpoints and app-wide behaviour: /healthz, /metrics, errors, body caps, production guard."""

from __future__ import annotations

import pytest

from multica import create_app
from multica.config import ConfigError


def test_landing_page_has_download_and_login_links(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('href="/download"') >= 2
    assert 'href="/login"' in html
    assert "js/analytics.js" in html


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
    assert response.json["analytics"]["enabled"] is True
    assert {"sent", "dropped", "failed", "retried", "queued"} <= set(response.json["analytics"])


def test_healthz_reports_an_unreachable_database(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_metrics_for_loopback(client):
    client.get("/")
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "multica_signup_total" in text
    assert 'multica_analytics_events_total{outcome="sent"}' in text
    assert "multica_analytics_queue_depth" in text
    assert 'url_rule="/"' in text  # per-route HTTP metrics grouped by rule


def test_metrics_refused_for_remote_clients(make_app):
    app = make_app(METRICS_TOKEN="s3cret")
    client = app.test_client()
    remote = {"REMOTE_ADDR": "198.51.100.7"}
    assert client.get("/metrics", environ_base=remote).status_code == 403
    assert client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    # Forwarded headers do not make a remote client local.
    assert client.get("/metrics", environ_base=remote, headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403


def test_metrics_without_token_configured_refuses_bearer(make_app):
    client = make_app().test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "198.51.100.7"}, headers={"Authorization": "Bearer "}).status_code == 403


def test_pipeline_outcomes_are_exported(app, client, sink):
    client.set_cookie("multica_anon_id", "a1")
    client.post("/api/analytics/events", json={"events": [{"event": "$pageview", "properties": {}}]})
    assert app.extensions["analytics"].flush(timeout=5)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'multica_analytics_events_total{outcome="sent"} 1.0' in text


def test_api_404_is_json_and_pages_are_html(client):
    api = client.get("/api/nope")
    assert api.status_code == 404 and api.json == {"error": "not found"}
    page = client.get("/nope")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "couldn't find" in page.get_data(as_text=True)


def test_method_not_allowed_is_json(client):
    response = client.get("/api/analytics/events")
    assert response.status_code == 405 and response.json == {"error": "method not allowed"}


def test_app_wide_body_cap_is_413(client):
    response = client.post("/api/analytics/events", data=b"x" * (2 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.json == {"error": "request body too large"}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"a string"', "application/json"),
        (b"null", "application/json"),
        (b"events=1", "application/x-www-form-urlencoded"),
        (b'{"events": "nope"}', "application/json"),
        (b'{"events": [{"event": "$pageview", "properties": {"$current_url": "' + b"a" * 100_000 + b'"}}]}', "application/json"),
        (b"\xff\xfe", "application/json"),
    ],
)
def test_malformed_bodies_are_4xx_json(client, body, content_type):
    client.set_cookie("multica_anon_id", "a1")
    response = client.post("/api/analytics/events", data=body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert isinstance(response.json, dict) and "error" in response.json


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "POSTHOG_API_KEY": ""})


def test_production_starts_with_a_real_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "POSTHOG_API_KEY": ""})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["ANALYTICS_STRICT"] is False


def test_session_cookie_flags(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
