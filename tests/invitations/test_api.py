"""The invitation API from the wire (SPEC §10.2–§10.7): statuses, messages, stored rows and what the sink got."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from multica.auth.models import User
from multica.extensions import db
from tests.conftest import create_user, create_workspace, flush
from tests.invitations.helpers import add_member, age_invitation, invitation_rows, invite, members_of

EMAIL = "invitation-test@multica.ai"


@pytest.fixture
def app(make_app):
    """Invitation emails kept in the mailer's outbox."""
    return make_app(MAIL_BACKEND="memory")


@pytest.fixture
def owner(app):
    return create_user(app, "owner@acme.test", name="Olivia Owner")


@pytest.fixture
def workspace(app, owner):
    return create_workspace(app, owner, name="Acme")


def events(app, sink, name: str | None = None) -> list[dict]:
    flush(app)
    return [e for e in sink.events(name) if e["event"] != "workspace_created"]


def assert_no_full_email(sink, *emails: str) -> None:
    """No shipped event carries a test address (outside `signup.$set_once.email`)."""
    for event in sink.events():
        body = json.dumps({k: v for k, v in event.items() if k != "properties"} | {"properties": {
            k: v for k, v in event["properties"].items() if not (event["event"] == "signup" and k == "$set_once")
        }})
        for email in emails:
            assert email.lower() not in body.lower(), (event["event"], email)


# ---- create -------------------------------------------------------------------------------------

def test_invite_then_the_same_address_again_is_409(app, client, sink, owner, workspace):
    first = invite(client, owner, workspace, EMAIL, "member")
    assert first.status_code == 201
    body = first.json
    assert set(body) == {"id", "workspace_id", "inviter_id", "invitee_email", "invitee_user_id", "role", "status", "created_at", "updated_at", "expires_at"}
    assert body["workspace_id"] == workspace["id"] and body["inviter_id"] == owner.id
    assert body["invitee_email"] == EMAIL and body["invitee_user_id"] is None
    assert body["role"] == "member" and body["status"] == "pending"
    again = invite(client, owner, workspace, EMAIL.upper(), "member")
    assert again.status_code == 409
    assert again.json == {"error": "invitation already pending for this email"}
    assert len(invitation_rows(app, workspace, EMAIL)) == 1
    [sent] = events(app, sink, "team_invite_sent")
    assert sent["distinct_id"] == owner.id
    assert sent["properties"]["workspace_id"] == workspace["id"]
    assert sent["properties"]["invited_email_domain"] == "multica.ai"
    assert sent["properties"]["invite_method"] == "email"
    assert_no_full_email(sink, EMAIL, owner.email)


def test_invite_lowercases_trims_and_reports_the_domain(app, client, sink, owner, workspace):
    response = invite(client, owner, workspace, "  Bob@Example.COM ")
    assert response.status_code == 201
    assert response.json["invitee_email"] == "bob@example.com"
    [sent] = events(app, sink, "team_invite_sent")
    assert sent["properties"]["invited_email_domain"] == "example.com"
    assert "bob@example.com" not in json.dumps(sent).lower()


def test_invite_of_a_registered_user_links_the_user(app, client, owner, workspace):
    bob = create_user(app, "bob@example.com")
    response = invite(client, owner, workspace, "BOB@example.com")
    assert response.status_code == 201
    assert response.json["invitee_user_id"] == bob.id


def test_past_due_pending_row_expires_and_a_new_invite_is_created(app, client, owner, workspace):
    old = invite(client, owner, workspace, EMAIL).json
    age_invitation(app, old["id"], created=timedelta(days=-10), expires=timedelta(days=-3))
    response = invite(client, owner, workspace, EMAIL)
    assert response.status_code == 201
    assert response.json["id"] != old["id"]
    rows = {str(row.id): row.status for row in invitation_rows(app, workspace, EMAIL)}
    assert rows == {old["id"]: "expired", response.json["id"]: "pending"}


@pytest.mark.parametrize(("role", "status", "message", "stored"), [
    ("owner", 400, "cannot invite as owner", None),
    (" owner ", 400, "cannot invite as owner", None),
    ("boss", 400, "invalid member role", None),
    (7, 400, "invalid member role", None),
    ("", 201, None, "member"),
    (None, 201, None, "member"),
    ("admin", 201, None, "admin"),
    (" member ", 201, None, "member"),
])
def test_roles(app, client, sink, owner, workspace, role, status, message, stored):
    response = invite(client, owner, workspace, EMAIL, role)
    assert response.status_code == status, response.json
    if message:
        assert response.json == {"error": message}
        assert invitation_rows(app, workspace) == []
        assert events(app, sink, "team_invite_sent") == []
    else:
        assert response.json["role"] == stored
        assert [row.role for row in invitation_rows(app, workspace)] == [stored]


def test_inviting_an_existing_member_is_409_and_emits_nothing(app, client, sink, owner, workspace):
    bob = create_user(app, "bob@example.com")
    add_member(app, bob, workspace)
    response = invite(client, owner, workspace, "Bob@Example.com")
    assert response.status_code == 409
    assert response.json == {"error": "user is already a member"}
    assert invitation_rows(app, workspace) == []
    assert events(app, sink, "team_invite_sent") == []


def test_plain_member_cannot_invite_and_non_member_gets_404(app, client, sink, owner, workspace):
    member = create_user(app)
    add_member(app, member, workspace)
    response = invite(client, member, workspace, EMAIL)
    assert response.status_code == 403
    assert response.json == {"error": "insufficient permissions"}
    stranger = create_user(app)
    for workspace_id in (workspace["id"], str(uuid.uuid4()), "not-a-uuid"):
        response = invite(client, stranger, {"id": workspace_id}, EMAIL)
        assert response.status_code == 404
        assert response.json == {"error": "workspace not found"}
    assert invitation_rows(app, workspace) == []
    assert events(app, sink, "team_invite_sent") == []


def test_admin_can_invite(app, client, owner, workspace):
    admin = create_user(app)
    add_member(app, admin, workspace, "admin")
    assert invite(client, admin, workspace, EMAIL).status_code == 201


def test_anonymous_and_bad_token_are_401(client, workspace):
    assert client.post(f"/api/workspaces/{workspace['id']}/members", json={"email": EMAIL}).status_code == 401
    response = client.post(f"/api/workspaces/{workspace['id']}/members", json={"email": EMAIL}, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


@pytest.mark.parametrize(("kwargs", "status", "message"), [
    ({"data": "{not json", "content_type": "application/json"}, 400, "invalid request body"),
    ({"data": {"email": EMAIL}}, 400, "invalid request body"),
    ({"json": [EMAIL]}, 400, "invalid request body"),
    ({"json": EMAIL}, 400, "invalid request body"),
    ({"json": None}, 400, "invalid request body"),
    ({"json": {}}, 400, "email is required"),
    ({"json": {"email": "   "}}, 400, "email is required"),
    ({"json": {"email": None}}, 400, "email is required"),
    ({"json": {"email": 42}}, 400, "invalid email"),
    ({"json": {"email": ["a@b.c"]}}, 400, "invalid email"),
    ({"json": {"email": "a\x00@b.c"}}, 400, "invalid email"),
    ({"json": {"email": "a\r\nBcc: x@y.z"}}, 400, "invalid email"),
    ({"json": {"email": "a" * 100_000 + "@b.c"}}, 400, "invalid request body"),
    ({"json": {"email": "a" * 300 + "@b.c"}}, 400, "email is too long"),
    ({"data": b"x" * (2 * 1024 * 1024), "content_type": "application/json"}, 413, "request body too large"),
])
def test_bad_bodies_are_4xx_json_and_store_and_emit_nothing(app, client, sink, owner, workspace, kwargs, status, message):
    response = client.post(f"/api/workspaces/{workspace['id']}/members", headers=owner.headers, **kwargs)
    assert response.status_code == status
    assert response.json == {"error": message}
    assert invitation_rows(app, workspace) == []
    assert events(app, sink) == []


def test_invitation_email_names_workspace_and_inviter_and_links_the_invite(app, client, owner, workspace):
    response = invite(client, owner, workspace, EMAIL)
    [message] = app.extensions["mailer"].outbox
    assert message["To"] == EMAIL
    assert message["Subject"] == "Olivia Owner invited you to Acme on Multica"
    text = message.get_content()
    assert "Olivia Owner" in text and "Acme" in text
    assert f"http://localhost/invite/{response.json['id']}" in text


def test_invitation_link_uses_the_public_app_url(app, client, owner, workspace, monkeypatch):
    monkeypatch.setenv("MULTICA_APP_URL", "https://teams.example.org/")
    response = invite(client, owner, workspace, EMAIL)
    assert f"https://teams.example.org/invite/{response.json['id']}\n" in app.extensions["mailer"].outbox[0].get_content()


def test_no_smtp_prints_the_dev_line(make_app, capfd):
    app = make_app()
    owner = create_user(app)
    workspace = create_workspace(app, owner, name="Acme")
    response = invite(app.test_client(), owner, workspace, EMAIL)
    assert response.status_code == 201
    assert f"[DEV] Invitation for {EMAIL} to Acme: http://localhost/invite/{response.json['id']}" in capfd.readouterr().out


# ---- list / get ---------------------------------------------------------------------------------

def test_workspace_list_is_pending_unexpired_newest_first_for_any_member(app, client, owner, workspace):
    first = invite(client, owner, workspace, "a@example.com").json
    second = invite(client, owner, workspace, "b@example.com").json
    third = invite(client, owner, workspace, "c@example.com").json
    age_invitation(app, first["id"], created=timedelta(hours=-2))
    age_invitation(app, second["id"], created=timedelta(hours=-1))
    age_invitation(app, third["id"], created=timedelta(days=-8), expires=timedelta(days=-1))
    declined = create_user(app, "d@example.com")
    gone = invite(client, owner, workspace, declined.email).json
    assert client.post(f"/api/invitations/{gone['id']}/decline", headers=declined.headers).status_code == 204
    member = create_user(app)
    add_member(app, member, workspace)
    response = client.get(f"/api/workspaces/{workspace['id']}/invitations", headers=member.headers)
    assert response.status_code == 200
    assert [item["id"] for item in response.json] == [second["id"], first["id"]]
    assert response.json[0]["inviter_name"] == "Olivia Owner" and response.json[0]["inviter_email"] == owner.email
    stranger = create_user(app)
    response = client.get(f"/api/workspaces/{workspace['id']}/invitations", headers=stranger.headers)
    assert response.status_code == 404 and response.json == {"error": "workspace not found"}


def test_my_list_matches_by_email_or_user_and_skips_expired(app, client, owner, workspace):
    other = create_workspace(app, owner, name="Beta")
    bob = create_user(app, "bob@example.com")
    by_email = invite(client, owner, workspace, "bob@example.com").json
    old = invite(client, owner, other, "bob@example.com").json
    age_invitation(app, old["id"], expires=timedelta(seconds=-1))
    invite(client, owner, other, "carol@example.com")
    response = client.get("/api/invitations", headers=bob.headers)
    assert response.status_code == 200
    assert [item["id"] for item in response.json] == [by_email["id"]]
    item = response.json[0]
    assert item["workspace_name"] == "Acme" and item["inviter_name"] == "Olivia Owner" and item["inviter_email"] == owner.email
    assert client.get("/api/invitations").status_code == 401


def test_get_one_invitation(app, client, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(client, owner, workspace, bob.email).json
    response = client.get(f"/api/invitations/{invitation['id']}", headers=bob.headers)
    assert response.status_code == 200
    assert response.json["id"] == invitation["id"] and response.json["workspace_name"] == "Acme"
    assert response.json["inviter_name"] == "Olivia Owner"
    assert client.get("/api/invitations/nope", headers=bob.headers).json == {"error": "invalid invitation id"}
    assert client.get("/api/invitations/nope", headers=bob.headers).status_code == 400
    unknown = client.get(f"/api/invitations/{uuid.uuid4()}", headers=bob.headers)
    assert unknown.status_code == 404 and unknown.json == {"error": "invitation not found"}
    carol = create_user(app, "carol@example.com")
    foreign = client.get(f"/api/invitations/{invitation['id']}", headers=carol.headers)
    assert foreign.status_code == 403 and foreign.json == {"error": "invitation does not belong to you"}
    # Any status: a declined invitation is still readable by its invitee.
    client.post(f"/api/invitations/{invitation['id']}/decline", headers=bob.headers)
    assert client.get(f"/api/invitations/{invitation['id']}", headers=bob.headers).json["status"] == "declined"


# ---- accept -------------------------------------------------------------------------------------

def test_accept_by_un_onboarded_invitee_joins_completes_onboarding_and_emits_both(app, client, sink, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(client, owner, workspace, bob.email, "admin").json
    response = client.post(f"/api/invitations/{invitation['id']}/accept", headers=bob.headers)
    assert response.status_code == 200
    member = response.json
    assert set(member) == {"id", "workspace_id", "user_id", "role", "created_at", "name", "email", "avatar_url"}
    assert member["workspace_id"] == workspace["id"] and member["user_id"] == bob.id and member["role"] == "admin"
    assert member["email"] == bob.email
    assert members_of(app, workspace)[bob.id] == "admin"
    assert [row.status for row in invitation_rows(app, workspace)] == ["accepted"]
    with app.app_context():
        onboarded_at = db.session.get(User, uuid.UUID(bob.id)).onboarded_at
    assert onboarded_at is not None
    flush(app)
    names = [e["event"] for e in sink.events() if e["distinct_id"] == bob.id]
    assert names == ["team_invite_accepted", "onboarding_completed"]
    [accepted] = sink.events("team_invite_accepted")
    assert accepted["properties"]["days_since_invite"] == 0
    assert accepted["properties"]["workspace_id"] == workspace["id"]
    [completed] = sink.events("onboarding_completed")
    assert completed["distinct_id"] == bob.id
    assert completed["properties"]["completion_path"] == "invite_accept"
    assert completed["properties"]["workspace_id"] == workspace["id"]
    assert completed["properties"]["joined_cloud_waitlist"] is False
    assert completed["properties"]["$set_once"]["onboarded_at"] == onboarded_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_no_full_email(sink, bob.email, owner.email)

    # A second workspace later: only team_invite_accepted, onboarded_at untouched.
    other = create_workspace(app, owner, name="Beta")
    second = invite(client, owner, other, bob.email).json
    assert client.post(f"/api/invitations/{second['id']}/accept", headers=bob.headers).status_code == 200
    flush(app)
    names = [e["event"] for e in sink.events() if e["distinct_id"] == bob.id]
    assert names == ["team_invite_accepted", "onboarding_completed", "team_invite_accepted"]
    with app.app_context():
        assert db.session.get(User, uuid.UUID(bob.id)).onboarded_at == onboarded_at


def test_accept_by_an_onboarded_invitee_emits_only_the_acceptance(app, client, sink, owner, workspace):
    from multica.db_utils import utcnow

    bob = create_user(app, "bob@example.com", onboarded_at=utcnow() - timedelta(days=3))
    invitation = invite(client, owner, workspace, bob.email).json
    assert client.post(f"/api/invitations/{invitation['id']}/accept", headers=bob.headers).status_code == 200
    flush(app)
    assert [e["event"] for e in sink.events() if e["distinct_id"] == bob.id] == ["team_invite_accepted"]


@pytest.mark.parametrize(("age", "days"), [(timedelta(hours=-49), 2), (timedelta(hours=-1), 0), (timedelta(hours=-23, minutes=-59), 0), (timedelta(days=-6, hours=-1), 6)])
def test_days_since_invite_truncates(app, client, sink, owner, workspace, age, days):
    bob = create_user(app, "bob@example.com")
    invitation = invite(client, owner, workspace, bob.email).json
    age_invitation(app, invitation["id"], created=age)
    assert client.post(f"/api/invitations/{invitation['id']}/accept", headers=bob.headers).status_code == 200
    [accepted] = events(app, sink, "team_invite_accepted")
    assert accepted["properties"]["days_since_invite"] == days


def test_accept_by_another_user_is_403(app, client, sink, owner, workspace):
    create_user(app, "bob@example.com")
    invitation = invite(client, owner, workspace, "bob@example.com").json
    carol = create_user(app, "carol@example.com")
    response = client.post(f"/api/invitations/{invitation['id']}/accept", headers=carol.headers)
    assert response.status_code == 403 and response.json == {"error": "invitation does not belong to you"}
    assert carol.id not in members_of(app, workspace)
    assert [row.status for row in invitation_rows(app, workspace)] == ["pending"]
    assert events(app, sink, "team_invite_accepted") == []


def test_accept_expired_is_410_leaves_status_and_emits_nothing(app, client, sink, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(client, owner, workspace, bob.email).json
    age_invitation(app, invitation["id"], created=timedelta(days=-7, seconds=-5), expires=timedelta(seconds=-5))
    response = client.post(f"/api/invitations/{invitation['id']}/accept", headers=bob.headers)
    assert response.status_code == 410 and response.json == {"error": "invitation has expired"}
    assert [row.status for row in invitation_rows(app, workspace)] == ["pending"]
    assert bob.id not in members_of(app, workspace)
    with app.app_context():
        assert db.session.get(User, uuid.UUID(bob.id)).onboarded_at is None
    assert [e["event"] for e in events(app, sink)] == ["team_invite_sent"]


def test_accept_twice_second_is_400(app, client, sink, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(client, owner, workspace, bob.email).json
    assert client.post(f"/api/invitations/{invitation['id']}/accept", headers=bob.headers).status_code == 200
    again = client.post(f"/api/invitations/{invitation['id']}/accept", headers=bob.headers)
    assert again.status_code == 400 and again.json == {"error": "invitation is not pending"}
    assert len(events(app, sink, "team_invite_accepted")) == 1


def test_accept_when_already_a_member_is_409_and_rolls_back(app, client, sink, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(client, owner, workspace, bob.email).json
    add_member(app, bob, workspace, "member")
    response = client.post(f"/api/invitations/{invitation['id']}/accept", headers=bob.headers)
    assert response.status_code == 409 and response.json == {"error": "you are already a member of this workspace"}
    assert [row.status for row in invitation_rows(app, workspace)] == ["pending"]
    with app.app_context():
        assert db.session.get(User, uuid.UUID(bob.id)).onboarded_at is None
    assert events(app, sink, "team_invite_accepted") == [] and events(app, sink, "onboarding_completed") == []


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_accept_and_decline_check_the_id(app, client, action):
    bob = create_user(app)
    assert client.post(f"/api/invitations/x/{action}", headers=bob.headers).json == {"error": "invalid invitation id"}
    response = client.post(f"/api/invitations/{uuid.uuid4()}/{action}", headers=bob.headers)
    assert response.status_code == 404 and response.json == {"error": "invitation not found"}
    assert client.post(f"/api/invitations/{uuid.uuid4()}/{action}").status_code == 401


# ---- decline / revoke ---------------------------------------------------------------------------

def test_decline_is_204_marks_declined_and_emits_nothing(app, client, sink, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(client, owner, workspace, bob.email).json
    response = client.post(f"/api/invitations/{invitation['id']}/decline", headers=bob.headers)
    assert response.status_code == 204 and response.data == b""
    assert [row.status for row in invitation_rows(app, workspace)] == ["declined"]
    again = client.post(f"/api/invitations/{invitation['id']}/decline", headers=bob.headers)
    assert again.status_code == 400 and again.json == {"error": "invitation is not pending"}
    carol = create_user(app, "carol@example.com")
    second = invite(client, owner, workspace, bob.email).json
    assert client.post(f"/api/invitations/{second['id']}/decline", headers=carol.headers).status_code == 403
    assert [e["event"] for e in events(app, sink)] == ["team_invite_sent", "team_invite_sent"]


def test_decline_of_an_expired_invitation_is_allowed(app, client, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(client, owner, workspace, bob.email).json
    age_invitation(app, invitation["id"], expires=timedelta(days=-1))
    assert client.post(f"/api/invitations/{invitation['id']}/decline", headers=bob.headers).status_code == 204


def test_revoke_pending_is_204_and_non_pending_is_404(app, client, sink, owner, workspace):
    invitation = invite(client, owner, workspace, EMAIL).json
    member = create_user(app)
    add_member(app, member, workspace)
    url = f"/api/workspaces/{workspace['id']}/invitations/{invitation['id']}"
    assert client.delete(url, headers=member.headers).status_code == 403
    response = client.delete(url, headers=owner.headers)
    assert response.status_code == 204 and response.data == b""
    assert invitation_rows(app, workspace) == []
    again = client.delete(url, headers=owner.headers)
    assert again.status_code == 404 and again.json == {"error": "invitation not found"}
    bob = create_user(app, "bob@example.com")
    accepted = invite(client, owner, workspace, bob.email).json
    client.post(f"/api/invitations/{accepted['id']}/accept", headers=bob.headers)
    gone = client.delete(f"/api/workspaces/{workspace['id']}/invitations/{accepted['id']}", headers=owner.headers)
    assert gone.status_code == 404 and gone.json == {"error": "invitation not found"}
    assert client.delete(f"/api/workspaces/{workspace['id']}/invitations/bogus", headers=owner.headers).status_code == 404
    # An invitation of another workspace cannot be revoked through this one.
    other = create_workspace(app, owner, name="Beta")
    foreign = invite(client, owner, other, EMAIL).json
    assert client.delete(f"/api/workspaces/{workspace['id']}/invitations/{foreign['id']}", headers=owner.headers).status_code == 404
    stranger = create_user(app)
    response = client.delete(f"/api/workspaces/{other['id']}/invitations/{foreign['id']}", headers=stranger.headers)
    assert response.status_code == 404 and response.json == {"error": "workspace not found"}
    assert len(invitation_rows(app, other)) == 1
    assert {e["event"] for e in events(app, sink)} == {"team_invite_sent", "team_invite_accepted", "onboarding_completed"}


def test_an_unreachable_smtp_server_is_logged_and_never_fails_the_invitation(make_app, sink, caplog):
    import logging
    import socket
    import threading

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=dead_port, SMTP_STARTTLS="false")
    owner = create_user(app)
    workspace = create_workspace(app, owner, name="Acme")
    with caplog.at_level(logging.WARNING, logger="multica.mail"):
        response = invite(app.test_client(), owner, workspace, EMAIL)
        assert response.status_code == 201
        for thread in [t for t in threading.enumerate() if t.name == "mail"]:
            thread.join(timeout=15)
    assert any(record.getMessage() == "mail: delivery failed" for record in caplog.records)
    assert [row.status for row in invitation_rows(app, workspace)] == ["pending"]
    flush(app)
    assert len(sink.events("team_invite_sent")) == 1


def test_invitations_are_counted_in_prometheus(app, client, owner, workspace):
    from tests.runtimes.helpers import metric

    before = {name: metric(client, name) for name in (
        "multica_team_invite_sent_total", "multica_team_invite_accepted_total")}
    completed_before = metric(client, "multica_onboarding_completed_total", path="invite_accept")
    bob = create_user(app, "bob@example.com")
    invitation = invite(client, owner, workspace, bob.email).json
    assert invite(client, owner, workspace, bob.email).status_code == 409
    assert client.post(f"/api/invitations/{invitation['id']}/accept", headers=bob.headers).status_code == 200
    assert metric(client, "multica_team_invite_sent_total") == before["multica_team_invite_sent_total"] + 1
    assert metric(client, "multica_team_invite_accepted_total") == before["multica_team_invite_accepted_total"] + 1
    assert metric(client, "multica_onboarding_completed_total", path="invite_accept") == completed_before + 1
