"""`POST /api/analytics/events` from the wire: what the sink receives, and what is refused (D7, D14.2–3)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import flush

URL = "/api/analytics/events"
ANON = "0f3b7e2a-4d1c-4a8e-9b6f-1c2d3e4f5a6b"
WS = "8d5c1a2b-0035-4c62-9f14-1ad4215736a5"


def post(client, events, **kwargs):
    return client.post(URL, json={"events": events}, **kwargs)


@pytest.fixture
def anon_client(client):
    client.set_cookie("multica_anon_id", ANON)
    return client


def test_accepted_events_arrive_stamped_with_the_anonymous_id(app, anon_client, sink):
    response = post(anon_client, [
        {"event": "download_intent_expressed", "properties": {
            "source": "landing_hero", "client_type": "web", "app_version": "1.2.3",
            "environment": "production", "event_schema_version": 7, "is_demo": False,
        }},
        {"event": "$set", "properties": {"$set": {"platform_preference": "desktop"}}},
        {"event": "$pageview", "properties": {"$current_url": "/acme/issues"}},
    ])
    assert response.status_code == 202
    assert response.json == {"accepted": 3}
    flush(app)
    received = sink.events()
    assert [e["event"] for e in received] == ["download_intent_expressed", "$set", "$pageview"]
    intent, person, pageview = received
    assert {e["distinct_id"] for e in received} == {ANON}
    props = intent["properties"]
    assert props["source"] == "landing_hero"
    assert props["client_type"] == "web" and props["app_version"] == "1.2.3"
    assert props["environment"] == "dev"  # server-owned, overwritten
    assert props["event_schema_version"] == 2
    assert props["$geoip_disable"] is True and "$ip" not in props
    assert "user_id" not in props  # an anonymous id is not a user id
    assert person["properties"]["$set"] == {"platform_preference": "desktop"}
    assert pageview["properties"]["$current_url"] == "/acme/issues"


def test_url_encoded_anonymous_cookie_is_decoded(app, client, sink):
    client.set_cookie("multica_anon_id", "anon%20id")
    assert post(client, [{"event": "$pageview", "properties": {}}]).status_code == 202
    flush(app)
    assert sink.events()[0]["distinct_id"] == "anon id"


def test_signed_in_user_is_the_distinct_id(app, anon_client, sink):
    with anon_client.session_transaction() as session:
        session["user_id"] = "5b0c3f4e-1111-4a2b-8c3d-9e8f7a6b5c4d"
    post(anon_client, [{"event": "feedback_opened", "properties": {"source": "help_menu", "workspace_id": WS, "user_id": "spoofed"}}])
    flush(app)
    event = sink.events()[0]
    assert event["distinct_id"] == "5b0c3f4e-1111-4a2b-8c3d-9e8f7a6b5c4d"
    assert event["properties"]["user_id"] == "5b0c3f4e-1111-4a2b-8c3d-9e8f7a6b5c4d"
    assert event["properties"]["workspace_id"] == WS


def test_forward_ip_when_the_operator_opts_in(make_app, sink):
    app = make_app(ANALYTICS_FORWARD_IP=True)
    client = app.test_client()
    client.set_cookie("multica_anon_id", ANON)
    post(client, [{"event": "$pageview", "properties": {}}], environ_base={"REMOTE_ADDR": "203.0.113.9"})
    flush(app)
    props = sink.events()[0]["properties"]
    assert props["$ip"] == "203.0.113.9" and "$geoip_disable" not in props


@pytest.mark.parametrize(
    "events",
    [
        [{"event": "signup", "properties": {}}],
        [{"event": "$identify", "properties": {"$anon_distinct_id": "x"}}],
        [{"event": "runtime_registered", "properties": {}}],
        [{"event": "agent_task_started", "properties": {}}],
        [{"event": "made_up", "properties": {}}],
        [{"event": "download_intent_expressed", "properties": {"source": "billboard"}}],
        [{"event": "download_intent_expressed", "properties": {}}],
        [{"event": "download_intent_expressed", "properties": {"source": "landing_hero", "email": "a@b.co"}}],
        [{"event": "download_intent_expressed", "properties": {"source": "landing_hero", "free_text": "hi"}}],
        [{"event": "download_page_viewed", "properties": {"detected_os": "mac", "detected_arch": "arm64", "detect_confident": "yes", "version_available": True}}],
        [{"event": "$set", "properties": {"$set": {"email": "a@b.co"}}}],
        [{"event": "$set", "properties": {}}],
        [{"event": "$pageview", "properties": {"$set": "nope"}}],
        [{"event": "$pageview", "properties": "nope"}],
        [{"event": 42}],
        ["not an object"],
        [],
        [{"event": "$pageview", "properties": {}}, {"event": "signup", "properties": {}}],
    ],
)
def test_invalid_batches_are_refused_whole(app, anon_client, sink, events):
    response = post(anon_client, events)
    assert response.status_code == 400
    assert "error" in response.json
    flush(app)
    assert sink.events() == []


def test_too_many_events(app, anon_client, sink):
    response = post(anon_client, [{"event": "$pageview", "properties": {}}] * 51)
    assert response.status_code == 400
    assert post(anon_client, [{"event": "$pageview", "properties": {}}] * 50).status_code == 202


def test_oversize_body_is_refused(app, anon_client, sink):
    big = {"events": [{"event": "$pageview", "properties": {"$current_url": "/" + "a" * 70_000}}]}
    response = anon_client.post(URL, data=json.dumps(big), content_type="application/json")
    assert response.status_code == 413
    flush(app)
    assert sink.events() == []


def test_cross_origin_is_refused(app, anon_client, sink):
    event = [{"event": "$pageview", "properties": {}}]
    assert post(anon_client, event, headers={"Origin": "https://evil.example"}).status_code == 403
    assert post(anon_client, event, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert post(anon_client, event, headers={"Origin": "null"}).status_code == 403
    assert post(anon_client, event, headers={"Origin": "http://localhost"}).status_code == 202
    flush(app)
    assert len(sink.events()) == 1


def test_missing_anonymous_id(app, client, sink):
    response = post(client, [{"event": "$pageview", "properties": {}}])
    assert response.status_code == 400 and response.json == {"error": "missing anonymous id"}


def test_no_csrf_token_needed(make_app, sink):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    client.set_cookie("multica_anon_id", ANON)
    assert post(client, [{"event": "$pageview", "properties": {}}]).status_code == 202


def test_text_plain_beacon_body_is_accepted(app, anon_client, sink):
    body = json.dumps({"events": [{"event": "$pageview", "properties": {"$current_url": "/"}}]})
    assert anon_client.post(URL, data=body, content_type="text/plain;charset=UTF-8").status_code == 202


def test_throttled_per_ip(make_app, sink):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_ANALYTICS_INGEST="3 per minute")
    client = app.test_client()
    client.set_cookie("multica_anon_id", ANON)
    statuses = [post(client, [{"event": "$pageview", "properties": {}}]).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    last = post(client, [{"event": "$pageview", "properties": {}}])
    assert last.json == {"error": "too many requests"}
    assert int(last.headers["Retry-After"]) > 0


def test_disabled_analytics_accepts_and_ships_nothing(make_app, sink):
    app = make_app(ANALYTICS_DISABLED="1")
    client = app.test_client()
    client.set_cookie("multica_anon_id", ANON)
    assert post(client, [{"event": "$pageview", "properties": {}}]).status_code == 202
    assert sink.events() == []


def test_origin_behind_a_tls_proxy_is_same_site(app, anon_client):
    event = [{"event": "$pageview", "properties": {}}]
    # The browser says https; the app behind the proxy sees http on the same host.
    assert post(anon_client, event, headers={"Origin": "https://localhost"}).status_code == 202
    assert post(anon_client, event, headers={"Origin": "https://localhost:443"}).status_code == 202
    assert post(anon_client, event, headers={"Origin": "https://localhost:8443"}).status_code == 403
    assert post(anon_client, event, headers={"Origin": "https://localhost.evil.example"}).status_code == 403


def test_proxy_hops_make_external_urls_https(make_app):
    from flask import url_for

    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example.com"}
    for hops, expected in ((1, "https://app.example.com/login"), (0, "http://localhost/login")):
        app = make_app(PROXY_HOPS=hops)
        app.add_url_rule("/_probe", "probe", lambda: url_for("auth.login_page", _external=True))
        assert app.test_client().get("/_probe", headers=headers).get_data(as_text=True) == expected
