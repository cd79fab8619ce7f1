"""Verification codes over real SMTP (aiosmtpd on loopback), and SMTP failure answers 500 (SPEC §8.2)."""

from __future__ import annotations

import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """Collects every message the SMTP server accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_code_is_mailed_over_smtp(make_app, smtp_server, capfd):
    controller, inbox = smtp_server
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS="false", SMTP_FROM="Multica <login@multica.test>")
    response = app.test_client().post("/auth/send-code", json={"email": "Ada@Example.com"})
    assert response.status_code == 200
    assert len(inbox.messages) == 1
    sender, recipients, message = inbox.messages[0]
    assert sender == "login@multica.test" and recipients == ["ada@example.com"]
    assert message["Subject"] == "Your Multica verification code"
    body = message.get_payload(decode=True).decode()
    assert "expires in 10 minutes" in body
    assert "[DEV]" not in capfd.readouterr().out


def test_smtp_failure_is_500_and_keeps_no_code(make_app, smtp_server):
    controller, inbox = smtp_server
    down = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS="false")
    response = down.test_client().post("/auth/send-code", json={"email": "ada@example.com"})
    assert response.status_code == 500
    assert response.json == {"error": "failed to send verification code"}
    # Nothing undeliverable was kept, so the resend throttle does not punish the retry.
    up = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS="false")
    assert up.test_client().post("/auth/send-code", json={"email": "ada@example.com"}).status_code == 200
    assert len(inbox.messages) == 1
