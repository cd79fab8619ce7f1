"""Invitations under real concurrency on PostgreSQL (SPEC D2, D13 (11)).

Twenty threads, each on its own keep-alive connection (so its own server thread and database
session), are released together against a live server: one accept wins and joins the workspace
once, the rest are 400 `invitation is not pending`; one invitation of an address is written and the
rest are 409, with exactly one `team_invite_sent`.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from multica.auth.models import User
from multica.extensions import db
from multica.workspaces.models import Member
from tests.conftest import create_user, create_workspace, flush
from tests.invitations.helpers import invitation_rows, invite

pytestmark = pytest.mark.postgres

THREADS = 20


@pytest.fixture
def app(make_app):
    """A pool with a connection for every thread; the limiter on, as by default."""
    return make_app(
        MAIL_BACKEND="memory", RATELIMIT_ENABLED=True,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": THREADS + 5, "max_overflow": 0},
    )


def together(base_url: str, send) -> list[httpx.Response]:
    """Call `send(http, i)` from THREADS threads released at the same instant, each on its own open connection."""
    barrier = threading.Barrier(THREADS, timeout=30)

    def run(index: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            assert http.get("/healthz").status_code == 200
            barrier.wait()
            return send(http, index)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_twenty_concurrent_accepts_give_one_200(app, live_server, sink):
    owner = create_user(app)
    workspace = create_workspace(app, owner)
    bob = create_user(app, "bob@example.com")
    invitation = invite(app.test_client(), owner, workspace, bob.email).json
    responses = together(live_server.url, lambda http, i: http.post(f"/api/invitations/{invitation['id']}/accept", headers=bob.headers))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (THREADS - 1), statuses
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invitation is not pending"}
    with app.app_context():
        members = db.session.scalars(sa.select(Member).where(Member.user_id == uuid.UUID(bob.id))).all()
        assert len(members) == 1
        assert db.session.get(User, uuid.UUID(bob.id)).onboarded_at is not None
    assert [row.status for row in invitation_rows(app, workspace)] == ["accepted"]
    flush(app)
    assert len(sink.events("team_invite_accepted")) == 1
    [completed] = sink.events("onboarding_completed")
    assert completed["distinct_id"] == bob.id and completed["properties"]["completion_path"] == "invite_accept"


def test_twenty_concurrent_invitations_of_one_address_give_one_201(app, live_server, sink):
    owner = create_user(app)
    workspace = create_workspace(app, owner)
    responses = together(live_server.url, lambda http, i: http.post(
        f"/api/workspaces/{workspace['id']}/members", json={"email": "Race@Example.com"}, headers=owner.headers,
    ))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (THREADS - 1), statuses
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"invitation already pending for this email"}
    assert [row.status for row in invitation_rows(app, workspace, "race@example.com")] == ["pending"]
    flush(app)
    assert len(sink.events("team_invite_sent")) == 1
    assert len(app.extensions["mailer"].outbox) == 1


def test_twenty_concurrent_declines_give_one_204(app, live_server, sink):
    owner = create_user(app)
    workspace = create_workspace(app, owner)
    bob = create_user(app, "bob@example.com")
    invitation = invite(app.test_client(), owner, workspace, bob.email).json
    responses = together(live_server.url, lambda http, i: http.post(f"/api/invitations/{invitation['id']}/decline", headers=bob.headers))
    assert sorted(r.status_code for r in responses) == [204] + [400] * (THREADS - 1)
    assert [row.status for row in invitation_rows(app, workspace)] == ["declined"]
