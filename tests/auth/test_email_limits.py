"""Sign-in addresses that no column can hold are 400, stored nowhere (found by the API fuzzer).

`POST /auth/send-code` with a 1 200-character address answered 500 on PostgreSQL (`value too long
for type character varying(254)`); a NUL or a lone surrogate fails the same way there.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from multica.auth.models import User, VerificationCode
from multica.extensions import db

DOMAIN = "@example.com"


@pytest.fixture
def app(make_app):
    return make_app(MAIL_BACKEND="memory")


def stored_codes(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(VerificationCode))


def post_raw(client, path: str, body: str):
    """A JSON body written by hand, so it can carry escapes (`\\ud800`) that Python cannot encode."""
    return client.post(path, data=body, content_type="application/json")


def test_an_address_over_254_bytes_is_refused_before_anything_is_stored(app, client):
    email = "a" * (255 - len(DOMAIN)) + DOMAIN
    response = client.post("/auth/send-code", json={"email": email})
    assert response.status_code == 400
    assert response.json == {"error": "email is too long"}
    assert stored_codes(app) == 0


def test_an_address_of_exactly_254_bytes_still_gets_a_code(app, client):
    email = "a" * (254 - len(DOMAIN)) + DOMAIN
    assert client.post("/auth/send-code", json={"email": email}).status_code == 200
    assert stored_codes(app) == 1


def test_multibyte_characters_count_in_bytes(app, client):
    email = "é" * 125 + DOMAIN  # 125 characters, 250 bytes before the domain
    assert client.post("/auth/send-code", json={"email": email}).json == {"error": "email is too long"}
    assert stored_codes(app) == 0


@pytest.mark.parametrize("body", [
    '{"email": "a\\u0000b@example.com"}',
    '{"email": "a\\u0007b@example.com"}',
    '{"email": "\\ud800@example.com"}',
])
@pytest.mark.parametrize("path", ["/auth/send-code", "/auth/verify-code"])
def test_control_characters_and_lone_surrogates_are_invalid(app, client, path, body):
    payload = json.loads(body)
    payload["code"] = "123456"
    response = post_raw(client, path, json.dumps(payload))
    assert response.status_code == 400
    assert response.json == {"error": "invalid email"}
    assert stored_codes(app) == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_verify_code_refuses_an_address_no_code_can_belong_to(client):
    response = client.post("/auth/verify-code", json={"email": "a" * 300 + DOMAIN, "code": "123456"})
    assert response.status_code == 400
    assert response.json == {"error": "email is too long"}
