"""Outgoing mail: SMTP when `SMTP_HOST` is configured, otherwise the `[DEV]` line on stdout."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage

from flask import Flask

logger = logging.getLogger("multica.mail")


class Mailer:
    """Sends verification codes and notices; `MAIL_BACKEND=memory` keeps them in `outbox` (tests)."""

    def __init__(self, app: Flask | None = None) -> None:
        self.outbox: list[EmailMessage] = []
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Read the SMTP settings and register as `app.extensions["mailer"]`."""
        config = app.config
        self.host = config.get("SMTP_HOST", "")
        self.port = int(config.get("SMTP_PORT") or 587)
        self.username = config.get("SMTP_USERNAME", "")
        self.password = config.get("SMTP_PASSWORD", "")
        self.sender = config.get("SMTP_FROM", "") or "Multica <no-reply@localhost>"
        self.starttls = str(config.get("SMTP_STARTTLS", "true")).lower() != "false"
        self.backend = config.get("MAIL_BACKEND") or ("smtp" if self.host else "console")
        app.extensions["mailer"] = self

    def send_verification_code(self, email: str, code: str) -> None:
        """Mail the code (raises on an SMTP failure so the caller can answer 500)."""
        if self.backend == "console":
            print(f"[DEV] Verification code for {email}: {code}", flush=True)
            return
        message = EmailMessage()
        message["Subject"] = "Your Multica verification code"
        message["From"] = self.sender
        message["To"] = email
        message.set_content(
            f"Your Multica verification code is {code}.\n\nIt expires in 10 minutes. "
            "If you did not ask for it, you can ignore this email.\n"
        )
        self._deliver(message)

    def send_notice(self, email: str, subject: str, body: str, *, dev_line: str) -> None:
        """Mail a notice without ever raising or delaying the caller.

        The console backend prints `dev_line`; SMTP delivery runs on a short-lived thread (so a slow
        or unreachable server never holds up the request) and a failure is only logged.
        """
        if self.backend == "console":
            print(dev_line, flush=True)
            return
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = email
        message.set_content(body)
        if self.backend == "memory":
            self.outbox.append(message)
            return
        threading.Thread(target=self._deliver_logged, args=(message, subject), name="mail", daemon=True).start()

    def _deliver_logged(self, message: EmailMessage, subject: str) -> None:
        try:
            self._deliver(message)
        except Exception:  # noqa: BLE001 - a lost notice must not take anything else down
            logger.warning("mail: delivery failed", extra={"subject": subject}, exc_info=True)

    def _deliver(self, message: EmailMessage) -> None:
        """Keep the message (memory backend) or hand it to the SMTP server (raises on failure)."""
        if self.backend == "memory":
            self.outbox.append(message)
            return
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)
