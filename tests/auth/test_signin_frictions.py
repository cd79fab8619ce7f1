"""What a person meets while signing in (D20.5): one email rule everywhere, a locked code and the wait
said in words, sentences instead of API strings, and a sign-out page behind `GET /auth/logout`."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from multica.auth.models import VerificationCode
from multica.extensions import db
from tests.conftest import create_user

EMAIL = "ada@lovelace.example"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(make_app):
    return make_app(MAIL_BACKEND="memory")


def codes(app, email=EMAIL) -> list[VerificationCode]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(VerificationCode).where(VerificationCode.email == email)))
        db.session.expunge_all()
        return rows


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def login_form(client) -> str:
    return CSRF.search(client.get("/login").get_data(as_text=True)).group(1)


@pytest.mark.parametrize("address", ["walk2@example", "walk2@example.", "walk2@.example", "walk 2@example.com", "@example.com"])
def test_an_address_without_a_dotted_domain_is_refused_by_the_api(app, client, address):
    response = client.post("/auth/send-code", json={"email": address})
    assert response.status_code == 400 and response.json == {"error": "email is invalid"}
    assert codes(app, address.strip().lower()) == []


def test_the_waitlist_applies_the_same_rule(app, client):
    user = create_user(app)
    response = client.post("/api/me/onboarding/cloud-waitlist", json={"email": "walk2@example"}, headers=user.headers)
    assert response.status_code == 400 and response.json == {"error": "email is invalid"}
    ok = client.post("/api/me/onboarding/cloud-waitlist", json={"email": "walk2@example.com"}, headers=user.headers)
    assert ok.status_code == 200


def test_the_login_form_refuses_it_in_a_sentence(app):
    client = app.test_client()
    response = client.post("/login", data={"email": "walk2@example", "csrf_token": login_form(client)})
    assert response.status_code == 400
    assert "Enter a full email address, like name@example.com." in page_text(response)
    assert "email is invalid" not in page_text(response)
    assert codes(app, "walk2@example") == []


def test_the_fifth_wrong_code_says_the_code_is_locked(app):
    client = app.test_client()
    token = login_form(client)
    assert client.post("/login", data={"email": EMAIL, "csrf_token": token}).status_code == 200
    [row] = codes(app)
    wrong = "000000" if row.code != "000000" else "111111"
    messages = []
    for _ in range(6):
        response = client.post("/login/verify", data={"email": EMAIL, "code": wrong, "csrf_token": token})
        assert response.status_code == 400
        messages.append(page_text(response))
    assert all("That code isn't right." in text for text in messages[:4])
    for text in messages[4:]:  # the fifth wrong try locks it, and it stays locked
        assert "That code was entered wrong too many times, so it is locked. Request a new code below." in text
        assert "Send a new code" in text
    # Even the right code no longer works, and the API still answers in its own words.
    response = client.post("/auth/verify-code", json={"email": EMAIL, "code": row.code})
    assert response.status_code == 400 and response.json == {"error": "invalid or expired code"}


def test_please_wait_says_how_many_seconds(app):
    client = app.test_client()
    token = login_form(client)
    client.post("/login", data={"email": EMAIL, "csrf_token": token})
    response = client.post("/login", data={"email": EMAIL, "csrf_token": token, "resend": "1"})
    assert response.status_code == 429
    found = re.search(r"Please wait (\d+) seconds before requesting another code\.", page_text(response))
    assert found and 1 <= int(found.group(1)) <= 60
    assert 'name="code"' in response.get_data(as_text=True)  # a resend that must wait keeps the code form
    api = client.post("/auth/send-code", json={"email": EMAIL})
    assert api.status_code == 429 and api.json == {"error": "please wait before requesting another code"}
    assert 1 <= int(api.headers["Retry-After"]) <= 60


def test_an_expired_or_used_code_is_said_in_a_sentence(app):
    client = app.test_client()
    response = client.post("/login/verify", data={"email": EMAIL, "code": "123456", "csrf_token": login_form(client)})
    assert response.status_code == 400
    assert "That code has expired or was already used. Request a new code below." in page_text(response)
    assert "invalid or expired code" not in page_text(response)
