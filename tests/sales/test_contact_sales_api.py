"""`POST /api/contact-sales` from the wire (SPEC §12, §12.1, §5.1, §7, D9, D13 (1), D14.5, D14.9).

Every request goes through the real app and database; what was emitted is read from the PostHog
sink, what was stored from the `contact_sales_inquiry` table, and the counter from `/metrics`.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from multica.db_utils import utcnow
from multica.extensions import db
from multica.sales.models import ContactSalesInquiry
from tests.conftest import create_user, flush

URL = "/api/contact-sales"
ADA = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "business_email": "ada@analytical-engine.example",
    "company_name": "Analytical Engines Ltd",
    "company_size": "11-50",
    "country_region": "United Kingdom",
    "use_case": "evaluate",
    "goals": "Let agents pick up our backlog of bug reports.",
    "consent_outreach": True,
}
PERSONAL = ("Ada", "Lovelace", "analytical-engine", "Analytical Engines", "backlog", "ada@")


def inquiries(app) -> list[ContactSalesInquiry]:
    with app.app_context():
        rows = db.session.scalars(sa.select(ContactSalesInquiry).order_by(ContactSalesInquiry.created_at)).all()
        db.session.expunge_all()
        return rows


def submitted_events(app, sink) -> list[dict]:
    flush(app)
    return sink.events("contact_sales_submitted")


def assert_nothing_happened(app, sink) -> None:
    assert inquiries(app) == []
    assert submitted_events(app, sink) == []


def unique_email(domain: str = "analytical-engine.example") -> str:
    return f"ada-{uuid.uuid4().hex[:8]}@{domain}"


# ---- the §12.1 cases -------------------------------------------------------------------------------

def test_valid_inquiry_is_stored_and_emitted_once(app, client, sink):
    response = client.post(URL, json=ADA, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"id", "created_at"}
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert body["created_at"].endswith("Z") and len(body["created_at"]) == 20

    [row] = inquiries(app)
    assert str(row.id) == body["id"]
    assert (row.first_name, row.last_name, row.company_name) == ("Ada", "Lovelace", "Analytical Engines Ltd")
    assert row.business_email == "ada@analytical-engine.example"
    assert (row.company_size, row.country_region, row.use_case) == ("11-50", "United Kingdom", "evaluate")
    assert row.goals == ADA["goals"]
    assert row.consent_outreach is True and row.consent_updates is False
    assert row.source == "page"
    assert str(row.submitter_ip) == "127.0.0.1"
    assert row.user_agent == "Mozilla/5.0 (X11; Linux x86_64)"

    [event] = submitted_events(app, sink)
    props = event["properties"]
    assert event["distinct_id"] == body["id"] == props["inquiry_id"]
    assert props["company_size"] == "11-50" and props["use_case"] == "evaluate"
    assert props["country_region"] == "United Kingdom"
    assert props["has_goals"] is True
    assert props["form_source"] == "page"
    assert "user_id" not in props  # D13 (1): the public form has no user identity
    shipped = json.dumps(event)
    for text in PERSONAL:
        assert text not in shipped
    for key in ("goals", "first_name", "last_name", "business_email", "company_name", "email", "ip", "user_agent", "$ip"):
        assert key not in props


def test_the_counter_is_labelled_by_form_source(app, client):
    assert client.post(URL, json=ADA).status_code == 201
    assert client.post(URL, json={**ADA, "business_email": unique_email(), "source": "onboarding"}).status_code == 201
    assert client.post(URL, json={**ADA, "business_email": unique_email(), "source": "homepage_modal"}).status_code == 201
    assert client.post(URL, json={**ADA, "business_email": "ada@gmail.com"}).status_code == 400
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'multica_contact_sales_submitted_total{source="page"} 1.0' in metrics
    assert 'multica_contact_sales_submitted_total{source="onboarding"} 1.0' in metrics
    assert 'multica_contact_sales_submitted_total{source="other"} 1.0' in metrics
    assert "homepage_modal" not in metrics


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"business_email": "ada@gmail.com"}, "please use a business email address"),
        ({"business_email": "not-an-email"}, "business_email is invalid"),
        ({"company_size": "ten-ish"}, "company_size is invalid"),
        ({"use_case": "world-domination"}, "use_case is invalid"),
        ({"first_name": "   "}, "first_name is required"),
        ({"business_email": "Ada Lovelace <ada@gmail.com>"}, "please use a business email address"),
    ],
)
def test_refused_inquiries(app, client, sink, change, error):
    response = client.post(URL, json={**ADA, **change})
    assert response.status_code == 400
    assert response.json == {"error": error}
    assert_nothing_happened(app, sink)


def test_same_email_three_times_then_429(app, client, sink):
    statuses = [client.post(URL, json=ADA).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert client.post(URL, json=ADA).json == {"error": "too many recent inquiries from this email"}
    assert len(inquiries(app)) == 3
    assert len(submitted_events(app, sink)) == 3


def test_the_limit_counts_the_canonical_email(app, client):
    for spelling in ("ada@analytical-engine.example", "  ADA@Analytical-Engine.example ", "Ada <ada@analytical-engine.example>"):
        assert client.post(URL, json={**ADA, "business_email": spelling}).status_code == 201
    assert client.post(URL, json={**ADA, "business_email": "<Ada@analytical-engine.EXAMPLE>"}).status_code == 429
    # Another address is not limited by Ada's inquiries.
    assert client.post(URL, json={**ADA, "business_email": "charles@analytical-engine.example"}).status_code == 201


def test_inquiries_older_than_an_hour_do_not_count(app, client):
    with app.app_context():
        for minutes in (61, 90, 120):
            db.session.add(ContactSalesInquiry(
                first_name="Ada", last_name="Lovelace", business_email=ADA["business_email"], company_name="A",
                company_size="1-10", country_region="France", use_case="other", created_at=utcnow() - timedelta(minutes=minutes),
            ))
        db.session.add(ContactSalesInquiry(
            first_name="Ada", last_name="Lovelace", business_email=ADA["business_email"], company_name="A",
            company_size="1-10", country_region="France", use_case="other", created_at=utcnow() - timedelta(minutes=59),
        ))
        db.session.commit()
    assert [client.post(URL, json=ADA).status_code for _ in range(3)] == [201, 201, 429]


def test_display_name_is_stripped_from_the_stored_email(app, client):
    response = client.post(URL, json={**ADA, "business_email": "Ada Lovelace <ada@display-name.example>"})
    assert response.status_code == 201
    assert [row.business_email for row in inquiries(app)] == ["ada@display-name.example"]


@pytest.mark.parametrize(("goals", "has_goals"), [("", False), ("   ", False), (None, False), ("Ship faster", True)])
def test_has_goals(app, client, sink, goals, has_goals):
    body = {**ADA, "goals": goals}
    assert client.post(URL, json=body).status_code == 201
    assert inquiries(app)[0].goals == (goals or "").strip()
    [event] = submitted_events(app, sink)
    assert event["properties"]["has_goals"] is has_goals


def test_free_text_in_country_and_source_never_travels(app, client, sink):
    body = {**ADA, "country_region": "Ada's kitchen, ada@analytical-engine.example", "source": "newsletter ada"}
    assert client.post(URL, json=body).status_code == 201
    [row] = inquiries(app)
    assert row.country_region == body["country_region"] and row.source == "newsletter ada"  # stored as given
    [event] = submitted_events(app, sink)
    assert event["properties"]["country_region"] == "Other"
    assert event["properties"]["form_source"] == "other"
    assert "kitchen" not in json.dumps(event) and "newsletter" not in json.dumps(event)


# ---- the eleven rules, in order, with their messages ----------------------------------------------------

@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"first_name": None}, "first_name is required"),
        ({"first_name": ""}, "first_name is required"),
        ({"first_name": "é" * 41}, "first_name is too long"),  # 82 bytes, 41 characters
        ({"last_name": " "}, "last_name is required"),
        ({"last_name": "x" * 81}, "last_name is too long"),
        ({"company_name": ""}, "company_name is required"),
        ({"company_name": "x" * 201}, "company_name is too long"),
        ({"business_email": ""}, "business_email is invalid"),
        ({"business_email": "   "}, "business_email is invalid"),
        ({"business_email": "no-at-sign"}, "business_email is invalid"),
        ({"business_email": "@multica.ai"}, "business_email is invalid"),
        ({"business_email": "ada@"}, "business_email is invalid"),
        ({"business_email": "ada@x.example, bob@x.example"}, "business_email is invalid"),
        ({"business_email": "ada@x.example\r\nBcc: eve@x.example"}, "business_email is invalid"),
        ({"business_email": "a" * 250 + "@x.example"}, "business_email is too long"),
        ({"business_email": "ada@Gmail.COM"}, "please use a business email address"),
        ({"business_email": "ada@yahoo.co.uk"}, "please use a business email address"),
        ({"business_email": "ada@qq.com"}, "please use a business email address"),
        ({"company_size": None}, "company_size is invalid"),
        ({"company_size": "1000"}, "company_size is invalid"),
        ({"country_region": ""}, "country_region is required"),
        ({"country_region": "x" * 81}, "country_region is too long"),
        ({"use_case": ""}, "use_case is invalid"),
        ({"goals": "x" * 2001}, "goals is too long"),
    ],
)
def test_each_rule_and_its_message(app, client, sink, change, error):
    response = client.post(URL, json={**ADA, **change})
    assert response.status_code == 400
    assert response.json == {"error": error}
    assert_nothing_happened(app, sink)


def test_rules_apply_in_order(app, client, sink):
    everything_wrong = {
        "first_name": "", "last_name": "", "company_name": "", "business_email": "ada@gmail.com",
        "company_size": "huge", "country_region": "", "use_case": "?", "goals": "x" * 2001,
    }
    expected = [
        ("first_name", "Ada", "first_name is required"),
        ("last_name", "Lovelace", "last_name is required"),
        ("company_name", "Acme", "company_name is required"),
        ("business_email", "ada@acme.example", "please use a business email address"),
        ("company_size", "1-10", "company_size is invalid"),
        ("country_region", "France", "country_region is required"),
        ("use_case", "integrate", "use_case is invalid"),
        ("goals", "", "goals is too long"),
    ]
    body = dict(everything_wrong)
    for field, fix, error in expected:
        response = client.post(URL, json=body)
        assert (response.status_code, response.json) == (400, {"error": error})
        body[field] = fix
    assert client.post(URL, json=body).status_code == 201


def test_the_per_email_limit_comes_after_every_other_rule(app, client):
    for _ in range(3):
        assert client.post(URL, json=ADA).status_code == 201
    assert client.post(URL, json={**ADA, "goals": "x" * 2001}).json == {"error": "goals is too long"}
    assert client.post(URL, json=ADA).status_code == 429


def test_values_are_trimmed(app, client):
    body = {**ADA, "first_name": "  Ada ", "company_size": " 11-50 ", "use_case": "evaluate\n", "country_region": " France ", "goals": "  go  "}
    assert client.post(URL, json=body).status_code == 201
    [row] = inquiries(app)
    assert (row.first_name, row.company_size, row.use_case, row.country_region, row.goals) == ("Ada", "11-50", "evaluate", "France", "go")


def test_lengths_are_measured_in_bytes_after_trimming(app, client):
    body = {**ADA, "first_name": "  " + "é" * 40 + "  ", "last_name": "x" * 80, "company_name": "x" * 200, "goals": "y" * 2000}
    assert client.post(URL, json=body).status_code == 201


# ---- malformed bodies (D14.9) -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "not json", "content_type": "application/json"},
        {"data": "first_name=Ada&last_name=Lovelace", "content_type": "application/x-www-form-urlencoded"},
        {"json": [ADA]},
        {"json": "Ada"},
        {"json": None, "data": "null", "content_type": "application/json"},
        {"json": {**ADA, "first_name": 7}},
        {"json": {**ADA, "business_email": ["ada@analytical-engine.example"]}},
        {"json": {**ADA, "company_size": 10}},
        {"json": {**ADA, "consent_outreach": "yes"}},
        {"json": {**ADA, "consent_updates": 1}},
        {"json": {**ADA, "source": {"page": True}}},
        {"json": {**ADA, "goals": "x" * 100_000}},
        {"json": {**ADA, "first_name": "Ada\x00"}},
        {"data": json.dumps({**ADA, "business_email": "ada\ud800@analytical-engine.example"}), "content_type": "application/json"},
        {"data": json.dumps({**ADA, "goals": "lone \udc80 surrogate"}), "content_type": "application/json"},
        {"data": json.dumps({**ADA, "country_region": "\ud83d"}), "content_type": "application/json"},
        {"data": b"\xff\xfe", "content_type": "application/json"},
        {"data": json.dumps({**ADA, "goals": "x" * (16 * 1024)}), "content_type": "application/json"},
    ],
)
def test_malformed_bodies_are_400_and_change_nothing(app, client, sink, kwargs):
    if kwargs.get("json", ...) is None:
        kwargs = {k: v for k, v in kwargs.items() if k != "json"}
    response = client.post(URL, **kwargs)
    assert response.status_code == 400
    assert isinstance(response.json["error"], str) and response.json["error"]
    assert_nothing_happened(app, sink)


def test_a_body_over_the_app_wide_cap_is_413(app, client, sink):
    response = client.post(URL, data=b"{" + b" " * (2 * 1024 * 1024) + b"}", content_type="application/json")
    assert response.status_code == 413
    assert "error" in response.json
    assert_nothing_happened(app, sink)


def test_the_16_kib_cap(app, client):
    padding = 16 * 1024 - len(json.dumps({**ADA, "goals": ""}).encode())
    exact = json.dumps({**ADA, "goals": ""})[:-1] + ', "pad": "' + "p" * (padding - len(', "pad": ""')) + '"}'
    assert len(exact.encode()) == 16 * 1024
    assert client.post(URL, data=exact, content_type="application/json").status_code == 201
    over = exact[:-2] + 'p"}'
    assert client.post(URL, data=over, content_type="application/json").json == {"error": "invalid request body"}


# ---- what is stored ------------------------------------------------------------------------------------

def test_the_tcp_peer_is_stored_and_x_forwarded_for_ignored(app, client):
    response = client.post(URL, json=ADA, headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert response.status_code == 201
    assert str(inquiries(app)[0].submitter_ip) == "198.51.100.23"


def test_trusted_proxies_do_not_change_the_stored_address(make_app):
    app = make_app(RATE_LIMIT_TRUSTED_PROXIES="10.0.0.0/8")
    client = app.test_client()
    assert client.post(URL, json=ADA, headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 201
    assert str(inquiries(app)[0].submitter_ip) == "10.1.2.3"


def test_an_unparseable_peer_is_stored_as_null(app, client):
    assert client.post(URL, json=ADA, environ_base={"REMOTE_ADDR": "unix-socket"}).status_code == 201
    assert inquiries(app)[0].submitter_ip is None


def test_ipv6_peer(app, client):
    assert client.post(URL, json=ADA, environ_base={"REMOTE_ADDR": "2001:db8::1"}).status_code == 201
    assert str(inquiries(app)[0].submitter_ip) == "2001:db8::1"


@pytest.mark.parametrize(("agent", "stored"), [("a" * 600, "a" * 512), ("", ""), ("x" * 511 + "é", "x" * 511)])
def test_user_agent_is_cut_at_512_bytes(app, client, agent, stored):
    assert client.post(URL, json=ADA, headers={"User-Agent": agent}).status_code == 201
    row = inquiries(app)[0]
    assert len(row.user_agent.encode("utf-8")) <= 512
    assert row.user_agent == stored


def test_consents_are_stored(app, client):
    assert client.post(URL, json={**ADA, "consent_outreach": False, "consent_updates": True}).status_code == 201
    row = inquiries(app)[0]
    assert (row.consent_outreach, row.consent_updates) == (False, True)


# ---- access ------------------------------------------------------------------------------------------

def test_no_api_returns_inquiries(app, client):
    response = client.post(URL, json=ADA)
    inquiry_id = response.json["id"]
    for method, path in (("get", URL), ("get", f"{URL}/{inquiry_id}"), ("put", URL), ("delete", URL), ("get", f"/api/contact-sales-inquiries/{inquiry_id}")):
        answer = getattr(client, method)(path)
        assert answer.status_code in (404, 405)
        assert "Lovelace" not in answer.get_data(as_text=True)


def test_csrf_exempt_for_clients_without_a_session(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    assert app.test_client().post(URL, json=ADA).status_code == 201


def test_csrf_exempt_for_a_signed_in_browser_too(make_app):
    """D14.5: the public endpoint takes JSON without a token even from a browser with a session."""
    app = make_app(WTF_CSRF_ENABLED=True)
    user = create_user(app)
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user.id
    assert client.post(URL, json=ADA).status_code == 201


def test_a_bearer_token_changes_nothing(app, client, sink):
    user = create_user(app)
    response = client.post(URL, json=ADA, headers=user.headers)
    assert response.status_code == 201
    [event] = submitted_events(app, sink)
    assert event["distinct_id"] == response.json["id"] != user.id
    assert "user_id" not in event["properties"]


# ---- the per-IP limiter (D9) -------------------------------------------------------------------------

def test_per_ip_limit(make_app, sink):
    app = make_app(RATELIMIT_ENABLED=True, RATE_LIMIT_CONTACT_SALES=2)
    client = app.test_client()
    first = client.post(URL, json={**ADA, "business_email": unique_email()})
    second = client.post(URL, json={**ADA, "business_email": unique_email()})
    third = client.post(URL, json={**ADA, "business_email": unique_email()})
    assert [first.status_code, second.status_code, third.status_code] == [201, 201, 429]
    assert third.json == {"error": "too many requests"}
    assert int(third.headers["Retry-After"]) > 0
    # Another client address has its own budget; X-Forwarded-For does not buy a new one.
    assert client.post(URL, json={**ADA, "business_email": unique_email()}, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    assert client.post(URL, json={**ADA, "business_email": unique_email()}, environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 201
    assert len(inquiries(app)) == 3
    assert len(submitted_events(app, sink)) == 3


def test_per_ip_limit_is_shared_with_the_form(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATE_LIMIT_CONTACT_SALES=1, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    assert client.post("/contact-sales", data={**ADA, "consent_outreach": "on"}).status_code == 303
    assert client.post(URL, json={**ADA, "business_email": unique_email()}).status_code == 429


def test_the_limiter_can_be_turned_off_but_not_the_per_email_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=False, RATE_LIMIT_CONTACT_SALES=1)
    client = app.test_client()
    assert [client.post(URL, json=ADA).status_code for _ in range(4)] == [201, 201, 201, 429]
