"""Email-code sign-up and login from the wire (SPEC §8.2, §8.3, §8.5–§8.7, §8.10, D13 (13))."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from multica.auth.models import User, VerificationCode
from multica.auth.service import REGISTRATION_DISABLED, Restrictions, find_or_create_user, signup_source_from_cookie
from multica.db_utils import utcnow
from multica.extensions import db
from tests.conftest import flush

EMAIL = "ada@analytical-engine.example"


def latest_code(app, email=EMAIL) -> str:
    with app.app_context():
        return db.session.scalar(
            sa.select(VerificationCode.code).where(VerificationCode.email == email).order_by(VerificationCode.created_at.desc()).limit(1)
        )


def send(client, email=EMAIL):
    return client.post("/auth/send-code", json={"email": email})


def verify(client, code, email=EMAIL):
    return client.post("/auth/verify-code", json={"email": email, "code": code})


def sign_up(app, client, email=EMAIL):
    assert send(client, email).status_code == 200
    response = verify(client, latest_code(app, email), email)
    assert response.status_code == 200, response.json
    return response.json


def age_codes(app, seconds: int) -> None:
    """Move every code's clock back (time travel for the 60 s / 10 min windows)."""
    with app.app_context():
        for row in db.session.scalars(sa.select(VerificationCode)):
            row.created_at = row.created_at - timedelta(seconds=seconds)
            row.expires_at = row.expires_at - timedelta(seconds=seconds)
        db.session.commit()


@pytest.fixture
def app(make_app):
    return make_app(MAIL_BACKEND="memory")


# ---- send-code ------------------------------------------------------------------------------------

def test_send_code_stores_a_six_digit_code_and_mails_it(app, client):
    response = send(client, "  Ada@Analytical-Engine.EXAMPLE ")
    assert response.status_code == 200
    assert response.json == {"message": "Verification code sent"}
    code = latest_code(app)
    assert code is not None and len(code) == 6 and code.isdigit()
    message = app.extensions["mailer"].outbox[-1]
    assert message["To"] == EMAIL
    assert message["Subject"] == "Your Multica verification code"
    body = message.get_content()
    assert code in body and "10 minutes" in body
    with app.app_context():
        row = db.session.scalar(sa.select(VerificationCode))
        remaining = row.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
        assert timedelta(minutes=9) < remaining <= timedelta(minutes=10)
        assert row.used is False and row.attempts == 0


def test_console_mailer_prints_the_dev_line(make_app, capfd):
    app = make_app()
    response = app.test_client().post("/auth/send-code", json={"email": EMAIL})
    assert response.status_code == 200
    out = capfd.readouterr().out
    assert f"[DEV] Verification code for {EMAIL}: {latest_code(app)}" in out


@pytest.mark.parametrize("body", [{}, {"email": ""}, {"email": "   "}])
def test_send_code_requires_an_email(client, body):
    response = client.post("/auth/send-code", json=body)
    assert response.status_code == 400 and response.json == {"error": "email is required"}


def test_resend_throttle(app, client):
    assert send(client).status_code == 200
    second = send(client)
    assert second.status_code == 429
    assert second.json == {"error": "please wait before requesting another code"}
    age_codes(app, 61)
    assert send(client).status_code == 200


def test_expired_codes_are_cleaned_up(app, client):
    send(client)
    age_codes(app, 2 * 3600)
    send(client)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationCode)) == 1


def test_blocked_signup_is_403_and_emits_nothing(make_app, sink):
    app = make_app(ALLOW_SIGNUP="false", MAIL_BACKEND="memory")
    response = app.test_client().post("/auth/send-code", json={"email": EMAIL})
    assert response.status_code == 403 and response.json == {"error": REGISTRATION_DISABLED}
    flush(app)
    assert sink.events() == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationCode)) == 0


def test_existing_users_may_log_in_when_signup_is_closed(make_app, sink):
    open_app = make_app(MAIL_BACKEND="memory")
    sign_up(open_app, open_app.test_client())
    age_codes(open_app, 61)
    closed = make_app(ALLOW_SIGNUP="false", MAIL_BACKEND="memory")
    client = closed.test_client()
    assert send(client).status_code == 200
    assert verify(client, latest_code(closed)).status_code == 200


# ---- verify-code ---------------------------------------------------------------------------------

def test_first_verify_signs_up_once(app, client, sink):
    body = sign_up(app, client)
    assert set(body) == {"token", "user"}
    user = body["user"]
    assert user["email"] == EMAIL and user["name"] == "ada"
    assert user["onboarded_at"] is None and user["onboarding_questionnaire"] == {}
    assert {"id", "name", "email", "avatar_url", "onboarded_at", "onboarding_questionnaire", "created_at", "updated_at"} <= set(user)
    flush(app)
    signups = sink.events("signup")
    assert len(signups) == 1
    event = signups[0]
    assert event["distinct_id"] == user["id"]
    props = event["properties"]
    assert props["email_domain"] == "analytical-engine.example"
    assert props["signup_source"] == ""
    assert "auth_method" not in props and "workspace_id" not in props
    assert props["user_id"] == user["id"]
    assert props["$set_once"] == {"email": EMAIL, "signup_source": ""}
    # A second login emits no signup.
    age_codes(app, 61)
    sign_up(app, client)
    flush(app)
    assert len(sink.events("signup")) == 1
    # No shipped event carries the full email outside $set_once.
    for item in sink.events():
        stripped = {k: v for k, v in item["properties"].items() if k != "$set_once"}
        assert EMAIL not in json.dumps(stripped)


def test_signup_counter(app, client):
    client.set_cookie("multica_signup_source", "%7B%22utm_source%22%3A%22hn%22%7D")
    sign_up(app, client)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'multica_signup_total{signup_source="other"} 1.0' in metrics


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        ("%7B%22utm_source%22%3A%22hn%22%7D", '{"utm_source":"hn"}'),
        ("%ZZ", ""),
        ("a+b", "a b"),
        ("%7B%22x%22%3A%22" + "a" * 505 + "%22%7D", ""),  # 513 bytes decoded
        ("%7B%22x%22%3A%22" + "a" * 504 + "%22%7D", '{"x":"' + "a" * 504 + '"}'),  # 512 bytes
    ],
)
def test_signup_source_cookie(app, client, sink, cookie, expected):
    client.set_cookie("multica_signup_source", cookie)
    sign_up(app, client)
    flush(app)
    event = sink.events("signup")[0]
    assert event["properties"]["signup_source"] == expected
    assert event["properties"]["$set_once"]["signup_source"] == expected


def test_referer_is_never_a_signup_source(app, client, sink):
    send(client)
    client.post("/auth/verify-code", json={"email": EMAIL, "code": latest_code(app)}, headers={"Referer": "https://x.com/?code=abc"})
    flush(app)
    assert sink.events("signup")[0]["properties"]["signup_source"] == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, ""), ("", ""), ("%7B%7D", "{}"), ("%", ""), ("%4", ""), ("%e2%82%ac", "€"), ("%ff", "")],
)
def test_signup_source_decoder(raw, expected):
    assert signup_source_from_cookie(raw) == expected


def test_five_wrong_attempts_exhaust_the_code(app, client):
    send(client)
    code = latest_code(app)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = verify(client, wrong)
        assert response.status_code == 400 and response.json == {"error": "invalid or expired code"}
    assert verify(client, code).status_code == 400


def test_exhaustion_invalidates_older_codes_too(app, client):
    send(client)
    older = latest_code(app)
    age_codes(app, 61)
    send(client)
    newest = latest_code(app)
    wrong = next(c for c in ("000000", "111111", "222222") if c not in {older, newest})
    for _ in range(5):
        verify(client, wrong)
    assert verify(client, older).status_code == 400
    assert verify(client, newest).status_code == 400


def test_expired_code_is_refused(app, client):
    send(client)
    code = latest_code(app)
    age_codes(app, 601)
    assert verify(client, code).status_code == 400


def test_code_is_single_use(app, client):
    send(client)
    code = latest_code(app)
    assert verify(client, code).status_code == 200
    assert verify(client, code).status_code == 400


@pytest.mark.parametrize("body", [{}, {"email": EMAIL}, {"code": "123456"}, {"email": " ", "code": " "}])
def test_verify_requires_both_fields(client, body):
    response = client.post("/auth/verify-code", json=body)
    assert response.status_code == 400 and response.json == {"error": "email and code are required"}


def test_dev_code_outside_production(make_app):
    app = make_app(MULTICA_DEV_VERIFICATION_CODE="123456", MAIL_BACKEND="memory")
    client = app.test_client()
    assert verify(client, "123456").status_code == 400  # no code row yet
    send(client)
    assert verify(client, "123456").status_code == 200


def test_dev_code_is_ignored_in_production(make_app):
    app = make_app(MULTICA_DEV_VERIFICATION_CODE="123456", APP_ENV="production", MAIL_BACKEND="memory", SECRET_KEY="x" * 40)
    client = app.test_client()
    send(client)
    assert verify(client, "123456").status_code == 400


@pytest.mark.parametrize("dev_code", ["12345", "abcdef", "1234567"])
def test_malformed_dev_codes_are_ignored(make_app, dev_code):
    app = make_app(MULTICA_DEV_VERIFICATION_CODE=dev_code, MAIL_BACKEND="memory")
    client = app.test_client()
    send(client)
    assert verify(client, dev_code).status_code == 400


# ---- restrictions and find-or-create --------------------------------------------------------------

@pytest.mark.parametrize(
    ("restrictions", "email", "allowed"),
    [
        (Restrictions(allow_signup=True), "new@x.com", True),
        (Restrictions(allow_signup=False), "new@x.com", False),
        (Restrictions(allow_signup=False, allowed_domains=("company.com",)), "user@company.com", True),
        (Restrictions(allow_signup=False, allowed_domains=("company.com",)), "user@other.com", False),
        (Restrictions(allow_signup=False, allowed_domains=("company.com",)), "user@sub.company.com", False),
        (Restrictions(allow_signup=False, allowed_emails=("boss@x.com",)), "boss@x.com", True),
        (Restrictions(allow_signup=False, allowed_emails=("boss@x.com",)), "Boss@X.com", True),
        (Restrictions(allow_signup=True, allowed_emails=("boss@x.com",)), "other@x.com", False),
        (Restrictions(allow_signup=True, allowed_domains=("x.com",)), "@x.com", False),
    ],
)
def test_restriction_table(restrictions, email, allowed):
    assert restrictions.allows(email) is allowed


def test_restrictions_from_config():
    parsed = Restrictions.from_config({"ALLOW_SIGNUP": "false", "ALLOWED_EMAILS": " Boss@X.com, ,", "ALLOWED_EMAIL_DOMAINS": "Company.com"})
    assert parsed == Restrictions(False, ("boss@x.com",), ("company.com",))
    assert Restrictions.from_config({"ALLOW_SIGNUP": "FALSE"}).allow_signup is True


def test_find_or_create(app):
    closed = Restrictions(allow_signup=False)
    with app.app_context():
        from multica.errors import ApiError

        with pytest.raises(ApiError, match="registration is disabled"):
            find_or_create_user("stranger@x.com", closed)
        user, is_new = find_or_create_user("ok@x.com", Restrictions())
        assert is_new and user.name == "ok"
        again, is_new = find_or_create_user("ok@x.com", closed)
        assert again.id == user.id and not is_new
        allowed, is_new = find_or_create_user("boss@x.com", Restrictions(False, ("boss@x.com",)))
        assert is_new
        at_first, _ = find_or_create_user("@weird", Restrictions())
        assert at_first.name == "@weird"


def test_blocked_verify_emits_nothing(make_app, sink):
    open_app = make_app(MAIL_BACKEND="memory")
    send(open_app.test_client(), "late@x.com")
    code = latest_code(open_app, "late@x.com")
    closed = make_app(ALLOW_SIGNUP="false", MAIL_BACKEND="memory")
    response = verify(closed.test_client(), code, "late@x.com")
    assert response.status_code == 403 and response.json == {"error": REGISTRATION_DISABLED}
    flush(closed)
    assert sink.events("signup") == []
    with closed.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "late@x.com")) is None


# ---- identity merge ------------------------------------------------------------------------------

def test_identify_merges_the_anonymous_id(app, client, sink):
    client.set_cookie("multica_anon_id", "anon-42")
    user = sign_up(app, client)["user"]
    flush(app)
    identifies = sink.events("$identify")
    assert len(identifies) == 1
    assert identifies[0]["distinct_id"] == user["id"]
    assert identifies[0]["properties"]["$anon_distinct_id"] == "anon-42"
    # A later login with the cookie merges again; without it, never.
    age_codes(app, 61)
    sign_up(app, client)
    flush(app)
    assert len(sink.events("$identify")) == 2


def test_no_identify_without_the_cookie(app, client, sink):
    sign_up(app, client)
    flush(app)
    assert sink.events("$identify") == []


# ---- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/auth/send-code", "/auth/verify-code"])
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", "application/json"),
        (b"[]", "application/json"),
        (b'"str"', "application/json"),
        (b"null", "application/json"),
        (b"email=a%40b.co", "application/x-www-form-urlencoded"),
        (b'{"email": 42, "code": "123456"}', "application/json"),
        (b'{"email": ["a@b.co"], "code": "123456"}', "application/json"),
        (b'{"email": "a@b.co", "code": 123456}', "application/json"),
        (json.dumps({"email": "a" * 100_000, "code": "1"}).encode(), "application/json"),
    ],
)
def test_malformed_bodies(app, client, sink, path, body, content_type):
    if path == "/auth/send-code" and b'"code": 123456' in body:
        body = b'{"email": {"nested": true}}'  # send-code reads no code; break its own field instead
    response = client.post(path, data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.json == {"error": "invalid request body"} or "error" in response.json
    flush(app)
    assert sink.events() == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationCode)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_two_megabyte_body_is_413(client):
    response = client.post("/auth/send-code", data=b"{" + b" " * (2 * 1024 * 1024) + b"}", content_type="application/json")
    assert response.status_code == 413 and "error" in response.json


def test_per_ip_throttle(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATE_LIMIT_AUTH=2, MAIL_BACKEND="memory")
    client = app.test_client()
    statuses = [client.post("/auth/send-code", json={"email": f"u{i}@x.com"}).status_code for i in range(3)]
    assert statuses == [200, 200, 429]
    limited = client.post("/auth/send-code", json={"email": "u9@x.com"})
    assert limited.json == {"error": "too many requests"} and int(limited.headers["Retry-After"]) > 0
