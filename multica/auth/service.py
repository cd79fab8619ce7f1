"""Sign-up and login rules, testable without HTTP (SPEC §8.2–§8.7, D13 (13))."""

from __future__ import annotations

import hmac
import math
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote_plus

import sqlalchemy as sa
from flask import current_app

from multica.auth.models import User, VerificationCode
from multica.db_utils import advisory_lock, as_utc, insert_ignoring_conflicts, utcnow
from multica.emails import MAX_EMAIL_BYTES, has_dotted_domain
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import has_control_characters, utf8_length

CODE_TTL = timedelta(minutes=10)
RESEND_INTERVAL = timedelta(seconds=60)
MAX_ATTEMPTS = 5
CLEANUP_AFTER = timedelta(hours=1)
MAX_SIGNUP_SOURCE_BYTES = 512
REGISTRATION_DISABLED = "user registration is disabled on this self-hosted instance"
_MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SIX_DIGITS = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class Restrictions:
    """Who may create an account (SPEC §8.6)."""

    allow_signup: bool = True
    allowed_emails: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config) -> "Restrictions":
        """Read `ALLOW_SIGNUP`, `ALLOWED_EMAILS` and `ALLOWED_EMAIL_DOMAINS`."""
        def items(raw: str) -> tuple[str, ...]:
            return tuple(item.strip().lower() for item in (raw or "").split(",") if item.strip())

        return cls(
            allow_signup=config.get("ALLOW_SIGNUP", "") != "false",
            allowed_emails=items(config.get("ALLOWED_EMAILS", "")),
            allowed_domains=items(config.get("ALLOWED_EMAIL_DOMAINS", "")),
        )

    def allows(self, email: str) -> bool:
        """Whether a *new* account may be created for `email`."""
        email = email.lower()
        at = email.find("@")
        domain = email[at + 1:] if at > 0 else ""
        if self.allowed_emails and email in self.allowed_emails:
            return True
        if self.allowed_domains and domain and domain in self.allowed_domains:
            return True
        if not self.allow_signup:
            return False
        return not (self.allowed_emails or self.allowed_domains)


def normalize_email(value: object) -> str:
    """Trimmed and lowercased; non-strings become `""`."""
    return value.strip().lower() if isinstance(value, str) else ""


def sign_in_email(value: object) -> str:
    """`normalize_email(value)`, refused with 400 when no column could hold it.

    The address format is not checked (§8.2), but an address over 254 bytes (`email is too long`),
    or one with a control character or a lone surrogate (`invalid email`), cannot be stored or
    looked up: PostgreSQL refuses such values, and no mailbox has such a name.
    """
    email = normalize_email(value)
    size = utf8_length(email)
    if size is None or has_control_characters(email):
        raise ApiError(400, "invalid email")
    if size > MAX_EMAIL_BYTES:
        raise ApiError(400, "email is too long")
    return email


def default_name(email: str) -> str:
    """Text before the first `@` (the whole email when `@` is first or absent)."""
    at = email.find("@")
    return email[:at] if at > 0 else email


def signup_source_from_cookie(raw: str | None) -> str:
    """Decode `multica_signup_source` with strict query-unescape; `""` when absent, malformed or too long."""
    if not raw:
        return ""
    if _MALFORMED_ESCAPE.search(raw):
        return ""
    try:
        decoded = unquote_plus(raw, errors="strict")
    except UnicodeDecodeError:
        return ""
    if len(decoded.encode("utf-8")) > MAX_SIGNUP_SOURCE_BYTES:
        return ""
    return decoded


def dev_code(config) -> str | None:
    """The development code, honoured only when it is 6 digits and `APP_ENV` is not production."""
    code = (config.get("MULTICA_DEV_VERIFICATION_CODE") or "").strip()
    if not _SIX_DIGITS.fullmatch(code):
        return None
    if str(config.get("APP_ENV", "")).strip().lower() == "production":
        return None
    return code


def mark_onboarded(user: User, now) -> sa.Row | None:
    """Set `onboarded_at` if it is still empty, in the caller's transaction (not committed).

    One conditional UPDATE, so of concurrent callers exactly one gets the row back
    (`onboarded_at`, `cloud_waitlist_email`) and emits `onboarding_completed`; the others get None.
    """
    return db.session.execute(
        sa.update(User)
        .where(User.id == user.id, User.onboarded_at.is_(None))
        .values(onboarded_at=now, updated_at=now)
        .returning(User.onboarded_at, User.cloud_waitlist_email)
    ).first()


def find_or_create_user(email: str, restrictions: Restrictions) -> tuple[User, bool]:
    """The user for `email`, creating it when allowed; `(user, is_new)`. Raises ApiError 403 when blocked.

    Creation is one `INSERT ... ON CONFLICT DO NOTHING`, so concurrent callers create one row and
    exactly one of them sees `is_new`.
    """
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is not None:
        return user, False
    if not restrictions.allows(email):
        raise ApiError(403, REGISTRATION_DISABLED)
    now = utcnow()
    row = insert_ignoring_conflicts(
        db.session,
        User.__table__,
        {"id": uuid.uuid4(), "name": default_name(email), "email": email, "created_at": now, "updated_at": now,
         "onboarding_questionnaire": {}},
        ["email"],
        [User.__table__.c.id],
    )
    db.session.commit()
    user = db.session.scalar(sa.select(User).where(User.email == email))
    return user, row is not None


def send_code(email_input: object, restrictions: Restrictions) -> tuple[str, str]:
    """Create and store a code for the email; returns `(email, code)` for the mailer.

    Raises ApiError for an empty email (400), a blocked signup (403) or a resend within 60 s (429).
    """
    email = sign_in_email(email_input)
    if not email:
        raise ApiError(400, "email is required")
    if not has_dotted_domain(email) or any(char.isspace() for char in email):
        raise ApiError(400, "email is invalid")
    exists = db.session.scalar(sa.select(User.id).where(User.email == email))
    if exists is None and not restrictions.allows(email):
        raise ApiError(403, REGISTRATION_DISABLED)
    now = utcnow()
    # One request per email at a time, so two concurrent sends cannot both pass the throttle.
    advisory_lock(db.session, f"send-code:{email}")
    latest = db.session.scalar(
        sa.select(VerificationCode.created_at).where(VerificationCode.email == email).order_by(VerificationCode.created_at.desc()).limit(1)
    )
    if latest is not None and now - as_utc(latest) < RESEND_INTERVAL:
        db.session.rollback()
        wait = math.ceil((RESEND_INTERVAL - (now - as_utc(latest))).total_seconds())
        raise ApiError(429, "please wait before requesting another code", {"Retry-After": str(max(1, wait))})
    code = f"{secrets.randbelow(1_000_000):06d}"
    db.session.add(VerificationCode(email=email, code=code, expires_at=now + CODE_TTL, created_at=now))
    db.session.commit()
    return email, code


def discard_code(email: str, code: str) -> None:
    """Forget a code that could not be delivered, so the person may ask again at once."""
    db.session.execute(sa.delete(VerificationCode).where(VerificationCode.email == email, VerificationCode.code == code, VerificationCode.used.is_(False)))
    db.session.commit()


def delete_expired_codes() -> None:
    """Best-effort clean-up of codes that expired more than an hour ago."""
    try:
        db.session.execute(sa.delete(VerificationCode).where(VerificationCode.expires_at < utcnow() - CLEANUP_AFTER))
        db.session.commit()
    except Exception:  # noqa: BLE001 - clean-up must never fail a request
        db.session.rollback()


def _locked_code_exists(email: str, now) -> bool:
    """Whether the email's live code was locked by too many wrong tries (rather than used or expired)."""
    return db.session.scalar(
        sa.select(VerificationCode.id).where(
            VerificationCode.email == email, VerificationCode.used.is_(False), VerificationCode.expires_at > now,
            VerificationCode.attempts >= MAX_ATTEMPTS,
        ).limit(1)
    ) is not None


def verify_code(email_input: object, code_input: object) -> str:
    """Consume a valid code for the email and return the email; ApiError 400 otherwise.

    A wrong code costs the newest code an attempt; the fifth wrong attempt invalidates every
    outstanding code for the email. Marking the code used is atomic, so a code signs in once.
    """
    email = sign_in_email(email_input)
    code = code_input.strip() if isinstance(code_input, str) else ""
    if not email or not code:
        raise ApiError(400, "email and code are required")
    now = utcnow()
    row = db.session.scalar(
        sa.select(VerificationCode)
        .where(
            VerificationCode.email == email,
            VerificationCode.used.is_(False),
            VerificationCode.expires_at > now,
            VerificationCode.attempts < MAX_ATTEMPTS,
        )
        .order_by(VerificationCode.created_at.desc())
        .limit(1)
    )
    if row is None:
        raise ApiError(400, "invalid or expired code", reason="locked" if _locked_code_exists(email, now) else "expired")
    matches = hmac.compare_digest(code.encode(), row.code.encode())
    development = dev_code(current_app.config)
    if not matches and not (development and hmac.compare_digest(code.encode(), development.encode())):
        attempts = db.session.execute(
            sa.update(VerificationCode)
            .where(VerificationCode.id == row.id)
            .values(attempts=VerificationCode.attempts + 1)
            .returning(VerificationCode.attempts)
        ).scalar_one()
        if attempts >= MAX_ATTEMPTS:
            db.session.execute(
                sa.update(VerificationCode)
                .where(VerificationCode.email == email, VerificationCode.used.is_(False), VerificationCode.attempts < MAX_ATTEMPTS)
                .values(attempts=MAX_ATTEMPTS)
            )
        db.session.commit()
        raise ApiError(400, "invalid or expired code", reason="locked" if attempts >= MAX_ATTEMPTS else "wrong")
    claimed = db.session.execute(
        sa.update(VerificationCode)
        .where(VerificationCode.id == row.id, VerificationCode.used.is_(False))
        .values(used=True)
        .returning(VerificationCode.id)
    ).first()
    db.session.commit()
    if claimed is None:  # a concurrent request used it first
        raise ApiError(400, "invalid or expired code")
    return email
