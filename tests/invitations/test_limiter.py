"""The invitation limiter (SPEC Appendix B, D21): three gates, the 429 shape, nothing consumed on refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from multica.db_utils import utcnow
from multica.extensions import db
from multica.invitations.limiter import recipient_key
from multica.invitations.models import InvitationRateHit
from tests.conftest import create_user, create_workspace, flush
from tests.invitations.helpers import add_member, invitation_rows, invite


@pytest.fixture
def app(make_app):
    """The limiter on, as it is by default."""
    return make_app(MAIL_BACKEND="memory", RATELIMIT_ENABLED=True)


@pytest.fixture
def owner(app):
    return create_user(app)


@pytest.fixture
def workspace(app, owner):
    return create_workspace(app, owner)


def hits(app, gate: str, key: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(InvitationRateHit).where(
            InvitationRateHit.gate == gate, InvitationRateHit.key == key))


def seed_hits(app, gate: str, key: str, count: int, age: timedelta = timedelta(0)) -> None:
    """`count` consumed units in `gate` for `key`, `age` old."""
    with app.app_context():
        db.session.add_all(InvitationRateHit(gate=gate, key=key, created_at=utcnow() - age) for _ in range(count))
        db.session.commit()


def age_hits(app, by: timedelta) -> None:
    with app.app_context():
        for hit in db.session.scalars(sa.select(InvitationRateHit)):
            hit.created_at = hit.created_at - by
        db.session.commit()


def assert_limited(response, *, at_least: int = 1, at_most: int | None = None) -> int:
    assert response.status_code == 429
    body = response.json
    assert set(body) == {"error", "code", "retry_after_seconds"}
    assert body["error"] == "too many invitation requests"
    assert body["code"] == "invitation_rate_limited"
    wait = body["retry_after_seconds"]
    assert isinstance(wait, int) and wait >= at_least
    if at_most is not None:
        assert wait <= at_most
    assert response.headers["Retry-After"] == str(wait)
    assert response.headers["Cache-Control"] == "no-store"
    return wait


def test_eleventh_invitation_in_ten_minutes_is_429_and_emits_nothing(app, client, sink, owner, workspace):
    for index in range(10):
        assert invite(client, owner, workspace, f"person{index}@example.com").status_code == 201
    refused = invite(client, owner, workspace, "eleventh@example.com")
    assert_limited(refused, at_least=590, at_most=600)
    assert len(invitation_rows(app, workspace)) == 10
    assert invitation_rows(app, workspace, "eleventh@example.com") == []
    flush(app)
    assert len(sink.events("team_invite_sent")) == 10
    assert len(app.extensions["mailer"].outbox) == 10
    # Refused by the inviter gate: the workspace and recipient gates lost nothing.
    assert hits(app, "workspace", workspace["id"]) == 10
    assert hits(app, "recipient", recipient_key("eleventh@example.com")) == 0
    # Ten minutes later the window has slid past the burst.
    age_hits(app, timedelta(minutes=10, seconds=1))
    assert invite(client, owner, workspace, "eleventh@example.com").status_code == 201


def test_retry_after_is_when_the_oldest_unit_leaves_the_window(app, client, owner, workspace):
    seed_hits(app, "inviter", owner.id, 5, age=timedelta(minutes=9))
    seed_hits(app, "inviter", owner.id, 5, age=timedelta(minutes=1))
    assert_limited(invite(client, owner, workspace, "late@example.com"), at_least=59, at_most=60)


def test_recipient_gate_counts_one_address_across_workspaces(app, client, sink):
    email = "Popular@Example.com"
    for index in range(6):
        inviter = create_user(app)
        workspace = create_workspace(app, inviter)
        assert invite(client, inviter, workspace, email).status_code == 201
    inviter = create_user(app)
    workspace = create_workspace(app, inviter)
    assert_limited(invite(client, inviter, workspace, " popular@example.COM "), at_least=86000)
    assert hits(app, "inviter", inviter.id) == 0 and hits(app, "workspace", workspace["id"]) == 0
    assert hits(app, "recipient", recipient_key(email)) == 6
    flush(app)
    assert len(sink.events("team_invite_sent")) == 6


def test_workspace_gate_holds_fifty_a_day(app, client, owner, workspace):
    seed_hits(app, "workspace", workspace["id"], 50, age=timedelta(hours=23))
    admin = create_user(app)
    add_member(app, admin, workspace, "admin")
    wait = assert_limited(invite(client, admin, workspace, "x@example.com"), at_least=3590, at_most=3600)
    assert wait <= 3600
    assert hits(app, "inviter", admin.id) == 0
    age_hits(app, timedelta(hours=1, seconds=1))
    assert invite(client, admin, workspace, "x@example.com").status_code == 201
    assert hits(app, "inviter", admin.id) == 1


def test_the_wait_is_the_longest_over_every_refusing_gate(app, client, owner, workspace):
    seed_hits(app, "inviter", owner.id, 10, age=timedelta(minutes=5))
    seed_hits(app, "recipient", recipient_key("x@example.com"), 6, age=timedelta(hours=1))
    assert_limited(invite(client, owner, workspace, "x@example.com"), at_least=82700, at_most=82800)


def test_duplicate_and_validation_refusals_come_first_and_consume_nothing(app, client, owner, workspace):
    assert invite(client, owner, workspace, "dup@example.com").status_code == 201
    for _ in range(12):
        assert invite(client, owner, workspace, "dup@example.com").status_code == 409
        assert invite(client, owner, workspace, "x@example.com", "owner").status_code == 400
    assert hits(app, "inviter", owner.id) == 1


def test_off_with_ratelimit_enabled_false(make_app):
    app = make_app(MAIL_BACKEND="memory", RATELIMIT_ENABLED=False)
    owner = create_user(app)
    workspace = create_workspace(app, owner)
    client = app.test_client()
    for index in range(12):
        assert invite(client, owner, workspace, f"p{index}@example.com").status_code == 201
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InvitationRateHit)) == 0


def test_an_unreadable_limiter_store_is_503(app, client, sink, owner, workspace):
    with app.app_context():
        db.session.execute(sa.text("ALTER TABLE invitation_rate_hit RENAME TO invitation_rate_hit_away"))
        db.session.commit()
    try:
        response = invite(client, owner, workspace, "x@example.com")
    finally:
        with app.app_context():
            db.session.execute(sa.text("ALTER TABLE invitation_rate_hit_away RENAME TO invitation_rate_hit"))
            db.session.commit()
    assert response.status_code == 503
    assert response.json == {"error": "invitation service temporarily unavailable", "code": "invitation_rate_limiter_unavailable"}
    assert response.headers["Retry-After"] == "5"
    assert invitation_rows(app, workspace) == []
    flush(app)
    assert sink.events("team_invite_sent") == []
