"""The invitation limiter (SPEC Appendix B, D21): three sliding windows counted in the database.

Gates: per inviter (10 in 10 minutes), per workspace (50 in 24 hours) and per recipient (6 in 24
hours, keyed by the SHA-256 of the address so no address is stored twice). Every gate is checked
before any is consumed, so a refusal by one gate costs no other gate anything. Consuming happens in
the caller's transaction (a rolled-back invitation gives its units back); a failure at that point
still admits the request, as the SPEC asks.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from multica.db_utils import as_utc, utcnow
from multica.errors import ApiError
from multica.extensions import db
from multica.invitations.models import InvitationRateHit

logger = logging.getLogger("multica.invitations")


@dataclass(frozen=True)
class Gate:
    """A sliding window: at most `limit` units per `window` for one key."""

    name: str
    limit: int
    window: timedelta


INVITER = Gate("inviter", 10, timedelta(minutes=10))
WORKSPACE = Gate("workspace", 50, timedelta(hours=24))
RECIPIENT = Gate("recipient", 6, timedelta(hours=24))


class InvitationRateLimited(ApiError):
    """429: a gate is full; `retry_after` seconds until it admits one more."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "too many invitation requests", {"Retry-After": str(retry_after), "Cache-Control": "no-store"})
        self.retry_after = retry_after
        self.body = {"error": self.message, "code": "invitation_rate_limited", "retry_after_seconds": retry_after}


class InvitationLimiterUnavailable(ApiError):
    """503: the limiter's store could not be read."""

    def __init__(self) -> None:
        super().__init__(503, "invitation service temporarily unavailable", {"Retry-After": "5"})
        self.body = {"error": self.message, "code": "invitation_rate_limiter_unavailable"}


def recipient_key(email: str) -> str:
    """The recipient gate's key: SHA-256 hex of the lowercased, trimmed address."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def enabled() -> bool:
    """On by default; off, like the per-IP throttles, with `RATELIMIT_ENABLED=false` (D21)."""
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _retry_after(gate: Gate, key: str, now: datetime) -> int | None:
    """Seconds until `gate` admits one more unit for `key`, or None when it admits one now."""
    recent = db.session.scalars(
        sa.select(InvitationRateHit.created_at)
        .where(InvitationRateHit.gate == gate.name, InvitationRateHit.key == key, InvitationRateHit.created_at > now - gate.window)
        .order_by(InvitationRateHit.created_at.desc())
        .limit(gate.limit)
    ).all()
    if len(recent) < gate.limit:
        return None
    # The oldest of the last `limit` units leaves the window first and frees one unit.
    frees_at = as_utc(recent[-1]) + gate.window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def check_and_consume(inviter_id: str, workspace_id: str, email: str) -> None:
    """Raise 429 when any gate is full (consuming nothing), else take one unit from every gate."""
    if not enabled():
        return
    now = utcnow()
    keyed = ((INVITER, inviter_id), (WORKSPACE, workspace_id), (RECIPIENT, recipient_key(email)))
    try:
        waits = [wait for gate, key in keyed if (wait := _retry_after(gate, key, now)) is not None]
    except SQLAlchemyError:
        db.session.rollback()
        logger.warning("invitations: limiter unavailable", exc_info=True)
        raise InvitationLimiterUnavailable() from None
    if waits:
        raise InvitationRateLimited(max(waits))
    try:
        with db.session.begin_nested():
            db.session.add_all(InvitationRateHit(gate=gate.name, key=key, created_at=now) for gate, key in keyed)
    except SQLAlchemyError:
        logger.warning("invitations: limiter could not record a hit; admitting the request", exc_info=True)
