"""Feedback rules: validating a submission, the hourly limit and storing it (SPEC §11, D9, D13 (3)).

`read_submission` turns a request body into a `Submission` or refuses it with a 4xx before anything
is stored; `submit_feedback` applies the database-backed limit, the workspace check, stores the row
and only then emits `feedback_submitted`. The JSON API and the no-JS page share both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from multica.analytics import events
from multica.analytics.catalog import FEEDBACK_KINDS
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.db_utils import advisory_lock, parse_uuid, utcnow
from multica.errors import ApiError
from multica.extensions import db
from multica.feedback.models import Feedback
from multica.inputs import INVALID_BODY, text_field
from multica.workspaces.service import require_member_workspace

MAX_BODY_BYTES = 64 * 1024
MAX_MESSAGE_BYTES = 10_000
MAX_URL_BYTES = 4096
# Client headers are stored and sent as the event's `platform`/`app_version` (catalog: 64 bytes).
MAX_HEADER_CHARS = 64
HOURLY_LIMIT = 10
WINDOW = timedelta(hours=1)
DEFAULT_KIND = "general"
RATE_LIMITED = "too many feedback submissions, please try again later"

logger = logging.getLogger("multica.feedback")


@dataclass(frozen=True)
class Client:
    """What the submitting client says about itself (raw `X-Client-*` headers and the user agent)."""

    platform: str = ""
    version: str = ""
    os: str = ""
    user_agent: str = ""

    @classmethod
    def from_headers(cls, headers, *, platform: str | None = None) -> "Client":
        """Read the headers; `platform` stands in for an absent `X-Client-Platform` (the app's own pages)."""
        def header(name: str, limit: int = MAX_HEADER_CHARS) -> str:
            return (headers.get(name) or "").strip()[:limit]

        return cls(
            platform=header("X-Client-Platform") or (platform or ""),
            version=header("X-Client-Version"),
            os=header("X-Client-OS"),
            user_agent=header("User-Agent", 512),
        )


@dataclass(frozen=True)
class Submission:
    """A validated feedback body: the trimmed message and its optional url, kind and workspace id."""

    message: str
    url: str = ""
    kind: str = DEFAULT_KIND
    workspace_id: str = ""  # as sent; checked after the hourly limit, in the SPEC's order
    client: Client = field(default_factory=Client)


def read_submission(body: dict, client: Client) -> Submission:
    """Validate a feedback body, or ApiError 400 naming what is wrong (SPEC §11.1, D14.9).

    A field of the wrong JSON type is refused like an undecodable body; `kind` must be one of the
    catalog's kinds, so no free text can reach the event through it.
    """
    for key in ("message", "url", "kind", "workspace_id"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ApiError(400, INVALID_BODY)
    message = text_field(
        body, "message", MAX_MESSAGE_BYTES, required=True, multiline=True,
        invalid="invalid message", too_long="message too long", missing="message is required",
    )
    url = text_field(body, "url", MAX_URL_BYTES, invalid="invalid url", too_long="url is too long")
    kind = (body.get("kind") or "").strip() or DEFAULT_KIND
    if kind not in FEEDBACK_KINDS:
        raise ApiError(400, "invalid kind")
    workspace_id = (body.get("workspace_id") or "").strip()
    return Submission(message=message, url=url, kind=kind, workspace_id=workspace_id, client=client)


def recent_count(user: User) -> int:
    """How many feedback rows the user stored in the last hour (rolling window)."""
    since = utcnow() - WINDOW
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Feedback).where(Feedback.user_id == user.id, Feedback.created_at > since)
    )


def submit_feedback(user: User, submission: Submission) -> Feedback:
    """Store the feedback unless the user already sent 10 this hour (429), then emit `feedback_submitted`.

    One user's submissions take turns (an advisory lock held until commit), so concurrent posts at
    the edge of the limit cannot both pass the count: never more than 10 rows an hour, and a refused
    submission stores and emits nothing.
    """
    try:
        advisory_lock(db.session, f"feedback:{user.id}")
        count = recent_count(user)
    except SQLAlchemyError:
        db.session.rollback()
        logger.exception("feedback: could not count recent submissions")
        raise ApiError(500, "failed to check rate limit") from None
    if count >= HOURLY_LIMIT:
        db.session.rollback()
        raise ApiError(429, RATE_LIMITED)
    workspace_id = None
    try:
        if submission.workspace_id:
            workspace_id = require_member_workspace(user, submission.workspace_id).id
    except ApiError:
        db.session.rollback()
        raise
    client = submission.client
    row = Feedback(
        user_id=user.id,
        workspace_id=workspace_id,
        message=submission.message,
        details={
            "url": submission.url,
            "platform": client.platform,
            "version": client.version,
            "os": client.os,
            "user_agent": client.user_agent,
        },
    )
    try:
        db.session.add(row)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        logger.exception("feedback: could not store a submission")
        raise ApiError(500, "failed to submit feedback") from None
    record_event(events.feedback_submitted(
        str(user.id), submission.message, workspace_id=str(workspace_id) if workspace_id else "",
        platform=client.platform, app_version=client.version, kind=submission.kind,
    ))
    return row


def feedback_workspace(user: User, raw_id: object):
    """The workspace a feedback page was opened from, when the user is a member of it (else None)."""
    workspace_id = parse_uuid(raw_id)
    if workspace_id is None:
        return None
    try:
        return require_member_workspace(user, workspace_id)
    except ApiError:
        return None
