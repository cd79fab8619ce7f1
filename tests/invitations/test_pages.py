"""Invitation pages without JavaScript (D10): plain CSRF-protected forms, POST/redirect/GET, clear refusals."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from tests.conftest import create_user, create_workspace, flush
from tests.invitations.helpers import add_member, age_invitation, invitation_rows, invite, members_of

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def app(make_app):
    return make_app(MAIL_BACKEND="memory")


def signed_in(app, user):
    """A test client carrying `user`'s session, and a CSRF token for its forms."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user.id
    token = CSRF.search(client.get("/invitations").text).group(1)
    return client, token


@pytest.fixture
def owner(app):
    return create_user(app, "owner@acme.test", name="Olivia Owner")


@pytest.fixture
def workspace(app, owner):
    return create_workspace(app, owner, name="Acme", slug="acme")


@pytest.mark.parametrize("path", ["/acme/settings/members", "/invitations", f"/invite/{uuid.UUID(int=7)}"])
def test_pages_send_signed_out_visitors_to_login_and_back(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location == f"/login?next={path}"


def test_members_page_lists_members_and_owner_invites_and_revokes(app, sink, owner, workspace):
    member = create_user(app, "mia@acme.test", name="Mia Member")
    add_member(app, member, workspace)
    client, token = signed_in(app, owner)
    page = client.get("/acme/settings/members")
    assert page.status_code == 200
    assert "Olivia Owner" in page.text and "owner" in page.text
    assert "Mia Member" in page.text and "mia@acme.test" in page.text
    assert 'name="email"' in page.text and "Send invitation" in page.text
    response = client.post("/acme/settings/members", data={"csrf_token": token, "email": " New@Example.com ", "role": "admin"})
    assert response.status_code == 302 and response.location == "/acme/settings/members"
    [row] = invitation_rows(app, workspace)
    assert row.invitee_email == "new@example.com" and row.role == "admin"
    page = client.get("/acme/settings/members")
    assert "Invitation sent to new@example.com." in page.text
    assert f'data-invitation="{row.id}"' in page.text
    flush(app)
    assert len(sink.events("team_invite_sent")) == 1
    # The revoke button.
    response = client.post(f"/acme/settings/members/invitations/{row.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302 and response.location == "/acme/settings/members"
    assert invitation_rows(app, workspace) == []
    assert "Invitation revoked." in client.get("/acme/settings/members").text
    again = client.post(f"/acme/settings/members/invitations/{row.id}/revoke", data={"csrf_token": token})
    assert again.status_code == 404 and "Invitation not found." in again.text


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"email": ""}, 400, "Email is required."),
    ({"email": "x@example.com", "role": "owner"}, 400, "Cannot invite as owner."),
    ({"email": "x@example.com", "role": "boss"}, 400, "Invalid member role."),
    ({"email": "owner@acme.test"}, 409, "User is already a member."),
])
def test_invite_form_refusals_render_the_page_with_the_status(app, sink, owner, workspace, form, status, message):
    client, token = signed_in(app, owner)
    response = client.post("/acme/settings/members", data={"csrf_token": token, **form})
    assert response.status_code == status
    assert message in response.text
    assert 'name="email"' in response.text
    assert invitation_rows(app, workspace) == []
    flush(app)
    assert sink.events("team_invite_sent") == []


def test_invite_form_duplicate_is_409(app, owner, workspace):
    client, token = signed_in(app, owner)
    assert client.post("/acme/settings/members", data={"csrf_token": token, "email": "x@example.com"}).status_code == 302
    response = client.post("/acme/settings/members", data={"csrf_token": token, "email": "x@example.com"})
    assert response.status_code == 409 and "Invitation already pending for this email." in response.text


def test_invite_form_needs_the_csrf_token(app, owner, workspace):
    client, _ = signed_in(app, owner)
    assert client.post("/acme/settings/members", data={"email": "x@example.com"}).status_code == 403
    assert invitation_rows(app, workspace) == []


def test_plain_members_see_members_but_no_invite_form(app, owner, workspace):
    member = create_user(app)
    add_member(app, member, workspace)
    invitation = invite(app.test_client(), owner, workspace, "x@example.com").json
    client, token = signed_in(app, member)
    page = client.get("/acme/settings/members")
    assert page.status_code == 200
    assert "Olivia Owner" in page.text
    assert 'name="email"' not in page.text and invitation["id"] not in page.text
    assert client.post("/acme/settings/members", data={"csrf_token": token, "email": "y@example.com"}).status_code == 403
    revoke = client.post(f"/acme/settings/members/invitations/{invitation['id']}/revoke", data={"csrf_token": token})
    assert revoke.status_code == 403
    assert len(invitation_rows(app, workspace)) == 1


def test_non_members_get_404(app, owner, workspace):
    client, token = signed_in(app, create_user(app))
    assert client.get("/acme/settings/members").status_code == 404
    assert client.post("/acme/settings/members", data={"csrf_token": token, "email": "x@example.com"}).status_code == 404
    assert invitation_rows(app, workspace) == []


def test_invitations_page_accepts_into_the_workspace(app, sink, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(app.test_client(), owner, workspace, bob.email).json
    client, token = signed_in(app, bob)
    page = client.get("/invitations")
    assert "Acme" in page.text and "Olivia Owner" in page.text
    assert f'/invitations/{invitation["id"]}/accept' in page.text
    response = client.post(f"/invitations/{invitation['id']}/accept", data={"csrf_token": token})
    assert response.status_code == 302 and response.location == "/acme/issues"
    assert client.get("/acme/issues").status_code == 200
    assert members_of(app, workspace)[bob.id] == "member"
    flush(app)
    assert [e["event"] for e in sink.events() if e["distinct_id"] == bob.id] == ["team_invite_accepted", "onboarding_completed"]


def test_decline_goes_back_to_invitations(app, sink, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(app.test_client(), owner, workspace, bob.email).json
    client, token = signed_in(app, bob)
    response = client.post(f"/invitations/{invitation['id']}/decline", data={"csrf_token": token})
    assert response.status_code == 302 and response.location == "/invitations"
    page = client.get("/invitations")
    assert "You declined the invitation to Acme." in page.text and "No pending invitations" in page.text
    assert [row.status for row in invitation_rows(app, workspace)] == ["declined"]
    flush(app)
    assert [e["event"] for e in sink.events() if e["distinct_id"] == bob.id] == []


def test_invite_page_shows_workspace_and_inviter(app, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(app.test_client(), owner, workspace, bob.email, "admin").json
    client, _ = signed_in(app, bob)
    page = client.get(f"/invite/{invitation['id']}")
    assert page.status_code == 200
    assert "Join Acme" in page.text and "Olivia Owner" in page.text and "an admin" in page.text
    assert "Accept invitation" in page.text and "Decline" in page.text
    # The layout offers nothing of the workspace the visitor has not joined yet.
    assert "/acme/settings/members" not in page.text


def test_invite_page_refusals(app, owner, workspace):
    bob = create_user(app, "bob@example.com")
    client, token = signed_in(app, bob)
    expired = invite(app.test_client(), owner, workspace, bob.email).json
    age_invitation(app, expired["id"], expires=timedelta(minutes=-1))
    page = client.get(f"/invite/{expired['id']}")
    assert page.status_code == 410 and "This invitation has expired" in page.text
    refused = client.post(f"/invitations/{expired['id']}/accept", data={"csrf_token": token})
    assert refused.status_code == 410 and "This invitation has expired" in refused.text
    assert bob.id not in members_of(app, workspace)

    other = create_workspace(app, owner, name="Beta", slug="beta")
    carol = create_user(app, "carol@example.com")
    foreign = invite(app.test_client(), owner, other, carol.email).json
    page = client.get(f"/invite/{foreign['id']}")
    assert page.status_code == 403 and "This invitation is for someone else" in page.text
    assert carol.email not in page.text
    assert client.post(f"/invitations/{foreign['id']}/accept", data={"csrf_token": token}).status_code == 403

    for missing in (str(uuid.uuid4()), "not-an-id"):
        page = client.get(f"/invite/{missing}")
        assert page.status_code == 404 and "Invitation not found" in page.text

    revoked = invite(app.test_client(), owner, other, bob.email).json
    app.test_client().delete(f"/api/workspaces/{other['id']}/invitations/{revoked['id']}", headers=owner.headers)
    page = client.get(f"/invite/{revoked['id']}")
    assert page.status_code == 404 and "revoked" in page.text

    third = create_workspace(app, owner, name="Gamma", slug="gamma")
    answered = invite(app.test_client(), owner, third, bob.email).json
    assert client.post(f"/invitations/{answered['id']}/accept", data={"csrf_token": token}).status_code == 302
    page = client.get(f"/invite/{answered['id']}")
    assert page.status_code == 409 and "You already accepted this invitation" in page.text and 'href="/gamma/issues"' in page.text
    again = client.post(f"/invitations/{answered['id']}/accept", data={"csrf_token": token})
    assert again.status_code == 409 and "You already accepted this invitation" in again.text

    fourth = create_workspace(app, owner, name="Delta", slug="delta")
    declined = invite(app.test_client(), owner, fourth, bob.email).json
    client.post(f"/invitations/{declined['id']}/decline", data={"csrf_token": token})
    page = client.get(f"/invite/{declined['id']}")
    assert page.status_code == 409 and "You declined this invitation" in page.text


def test_accept_when_already_a_member_shows_the_error(app, owner, workspace):
    bob = create_user(app, "bob@example.com")
    invitation = invite(app.test_client(), owner, workspace, bob.email).json
    add_member(app, bob, workspace)
    client, token = signed_in(app, bob)
    response = client.post(f"/invitations/{invitation['id']}/accept", data={"csrf_token": token})
    assert response.status_code == 409 and "You are already a member of this workspace." in response.text


def test_workspace_pages_link_to_members(app, owner, workspace):
    client, _ = signed_in(app, owner)
    assert 'href="/acme/settings/members"' in client.get("/acme/issues").text


def test_settings_and_invite_slugs_are_reserved(app, owner):
    for slug in ("settings", "invite", "invitations"):
        response = app.test_client().post("/api/workspaces", json={"name": "X", "slug": slug}, headers=owner.headers)
        assert response.status_code == 400 and response.json == {"error": "invalid slug"}


def test_signing_in_with_a_pending_invitation_lands_on_invitations(app, owner, workspace):
    """§8.9: an un-onboarded person with a pending invitation goes to /invitations, not the questionnaire."""
    invite(app.test_client(), owner, workspace, "bob@example.com")
    client = app.test_client()
    token = CSRF.search(client.get("/login").text).group(1)
    assert client.post("/login", data={"csrf_token": token, "email": "bob@example.com"}).status_code == 200
    code = re.search(r"\b(\d{6})\b", app.extensions["mailer"].outbox[-1].get_content()).group(1)
    response = client.post("/login/verify", data={"csrf_token": token, "email": "bob@example.com", "code": code})
    assert response.status_code == 302 and response.location == "/invitations"
    assert "Acme" in client.get("/invitations").text
