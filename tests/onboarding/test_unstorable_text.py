"""Questionnaire and waitlist text PostgreSQL cannot store is 400, never a 500 (found probing the
fuzzer's string classes on PostgreSQL: a NUL or a lone surrogate in `role_other`, the waitlist
`reason` or its `email` answered 500)."""

from __future__ import annotations

import uuid

import pytest

from multica.auth.models import User
from multica.extensions import db
from tests.conftest import create_user


def post_raw(client, method: str, path: str, body: str, user):
    """A hand-written JSON body, so it can carry `\\u0000` and `\\ud800` escapes."""
    return client.open(path, method=method, data=body, content_type="application/json", headers=user.headers)


def stored(app, user) -> User:
    with app.app_context():
        row = db.session.get(User, uuid.UUID(user.id))
        db.session.expunge(row)
        return row


@pytest.mark.parametrize("value", ["x\\u0000", "\\ud800", "bell\\u0007"])
def test_an_unstorable_other_answer_is_an_invalid_questionnaire(app, client, value):
    user = create_user(app)
    response = post_raw(client, "PATCH", "/api/me/onboarding", '{"questionnaire": {"role": "other", "role_other": "%s"}}' % value, user)
    assert response.status_code == 400
    assert response.json == {"error": "invalid questionnaire"}
    assert stored(app, user).onboarding_questionnaire == {}


def test_an_other_answer_may_hold_a_newline(app, client):
    user = create_user(app)
    response = client.patch("/api/me/onboarding", json={"questionnaire": {"role_other": "two\nlines"}}, headers=user.headers)
    assert response.status_code == 200
    assert response.json["onboarding_questionnaire"]["role_other"] == "two\nlines"


@pytest.mark.parametrize(("body", "message"), [
    ('{"email": "a@example.com", "reason": "x\\u0000"}', "invalid reason"),
    ('{"email": "a@example.com", "reason": "\\udc00"}', "invalid reason"),
    ('{"email": "a\\u0000@example.com"}', "email is invalid"),
    ('{"email": "\\ud800@example.com"}', "email is invalid"),
])
def test_unstorable_waitlist_text_is_refused_and_nothing_is_stored(app, client, body, message):
    user = create_user(app)
    response = post_raw(client, "POST", "/api/me/onboarding/cloud-waitlist", body, user)
    assert response.status_code == 400
    assert response.json == {"error": message}
    row = stored(app, user)
    assert row.cloud_waitlist_email is None and row.cloud_waitlist_reason is None
