"""The expansion journey in headless Chromium, with and without JavaScript (SPEC §10, D10).

An owner signs up and invites a teammate from the members settings page; the invitee, a new user,
follows the link in the invitation email that a real SMTP server (aiosmtpd on loopback) captured,
is sent through `/login?next=/invite/<id>`, signs up with the code from the next captured message,
comes back to the invitation, accepts it and lands in the workspace. The sink must hold `signup`,
`team_invite_sent`, `signup`, `team_invite_accepted` and `onboarding_completed{invite_accept}` in
that order, with the right distinct ids and no email address outside `signup.$set_once.email`.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from email import message_from_bytes
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from multica.auth.models import User
from multica.extensions import db
from multica.workspaces.models import Member, Workspace
from tests.conftest import flush

pytestmark = pytest.mark.browser

TIMEOUT = 15.0
CODE = re.compile(r"\b(\d{6})\b")
LINK = re.compile(r"(http://\S+/invite/[0-9a-f-]{36})")
JOURNEY = ("signup", "team_invite_sent", "team_invite_accepted", "onboarding_completed")


class Inbox:
    """Every message the SMTP server accepts, with a way to wait for the next one to an address."""

    def __init__(self):
        self.messages = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        with self._arrived:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, recipient: str, subject_part: str):
        """The first message to `recipient` whose subject holds `subject_part` (fails after TIMEOUT)."""
        def found():
            for recipients, message in self.messages:
                if recipient in recipients and subject_part in message["Subject"]:
                    return message
            return None

        with self._arrived:
            assert self._arrived.wait_for(found, timeout=TIMEOUT), f"no '{subject_part}' mail for {recipient}"
            return found()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def inbox():
    mailbox = Inbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


@pytest.fixture
def app(make_app, inbox):
    """Mail goes over real SMTP to the captured inbox."""
    return make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=inbox.port, SMTP_STARTTLS="false", SMTP_FROM="Multica <team@multica.test>")


def body_of(message) -> str:
    return message.get_payload(decode=True).decode()


def sign_in_by_email(page, inbox, email: str) -> None:
    """On the login page: ask for a code, read it from the captured mail, enter it."""
    page.fill("#email", email)
    page.get_by_role("button", name="Email me a sign-in code").click()
    page.wait_for_selector('form[data-login-step="code"]')
    code = CODE.search(body_of(inbox.wait_for(email, "verification code"))).group(1)
    page.fill("#code", code)
    page.get_by_role("button", name="Sign in").click()


def path_is(expected: str):
    return lambda url: urlsplit(url).path == expected


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_owner_invites_and_a_new_user_accepts_from_the_emailed_link(app, live_server, browser, inbox, sink, javascript):
    site = live_server.url
    owner_email, invitee_email = "olivia@acme.test", "bob@example.com"

    owner = browser.new_context(java_script_enabled=javascript)
    page = owner.new_page()
    page.goto(f"{site}/login")
    sign_in_by_email(page, inbox, owner_email)
    page.wait_for_url(path_is("/onboarding"))
    page.goto(f"{site}/workspaces/new")
    page.fill("#workspace-name", "Acme Rockets")
    page.fill("#workspace-slug", "acme-rockets")
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(path_is("/acme-rockets/issues"))
    page.get_by_role("link", name="Members").click()
    page.wait_for_url(path_is("/acme-rockets/settings/members"))
    page.fill("#invite-email", invitee_email)
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_url(path_is("/acme-rockets/settings/members"))
    assert page.get_by_role("status").inner_text() == f"Invitation sent to {invitee_email}."
    assert page.locator("table.invitations").get_by_text(invitee_email).count() == 1
    owner.close()

    invitation = inbox.wait_for(invitee_email, "invited you to Acme Rockets")
    assert invitation["Subject"] == "olivia invited you to Acme Rockets on Multica"
    link = LINK.search(body_of(invitation)).group(1)
    invitation_id = link.rsplit("/", 1)[1]
    assert link == f"{site}/invite/{invitation_id}"

    invitee = browser.new_context(java_script_enabled=javascript)
    page = invitee.new_page()
    page.goto(link)
    page.wait_for_url(path_is("/login"))
    assert parse_qs(urlsplit(page.url).query) == {"next": [f"/invite/{invitation_id}"]}
    sign_in_by_email(page, inbox, invitee_email)
    page.wait_for_url(path_is(f"/invite/{invitation_id}"))
    assert page.get_by_role("heading", level=1).inner_text() == "Join Acme Rockets"
    assert "olivia" in page.locator("main").inner_text()
    page.get_by_role("button", name="Accept invitation").click()
    page.wait_for_url(path_is("/acme-rockets/issues"))
    assert page.get_by_role("heading", name="Issues").is_visible()
    invitee.close()

    with app.app_context():
        owner_id = str(db.session.scalar(sa.select(User.id).where(User.email == owner_email)))
        invitee_row = db.session.scalar(sa.select(User).where(User.email == invitee_email))
        invitee_id = str(invitee_row.id)
        assert invitee_row.onboarded_at is not None
        workspace = db.session.scalar(sa.select(Workspace).where(Workspace.slug == "acme-rockets"))
        role = db.session.scalar(sa.select(Member.role).where(Member.workspace_id == workspace.id, Member.user_id == invitee_row.id))
        assert role == "member"
        workspace_id = str(workspace.id)

    flush(app)
    journey = [(e["event"], e["distinct_id"]) for e in sink.events() if e["event"] in JOURNEY]
    assert journey == [
        ("signup", owner_id),
        ("team_invite_sent", owner_id),
        ("signup", invitee_id),
        ("team_invite_accepted", invitee_id),
        ("onboarding_completed", invitee_id),
    ]
    [sent] = sink.events("team_invite_sent")
    assert sent["properties"]["invited_email_domain"] == "example.com" and sent["properties"]["invite_method"] == "email"
    assert sent["properties"]["workspace_id"] == workspace_id
    [accepted] = sink.events("team_invite_accepted")
    assert accepted["properties"]["days_since_invite"] == 0 and accepted["properties"]["workspace_id"] == workspace_id
    [completed] = sink.events("onboarding_completed")
    assert completed["properties"]["completion_path"] == "invite_accept"
    assert completed["properties"]["workspace_id"] == workspace_id
    for event in sink.events():
        props = {k: v for k, v in event["properties"].items() if not (event["event"] == "signup" and k == "$set_once")}
        text = json.dumps({**event, "properties": props}).lower()
        assert owner_email not in text and invitee_email not in text, event["event"]
    assert uuid.UUID(invitation_id)
