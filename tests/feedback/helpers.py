"""Shared helpers for the feedback tests: posting, reading rows, moving them back in time."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import sqlalchemy as sa

from multica.db_utils import utcnow
from multica.extensions import db
from multica.feedback.models import Feedback

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def post_feedback(client, user, body=None, headers=None, **kwargs):
    """`POST /api/feedback` as `user` (Bearer)."""
    return client.post("/api/feedback", json=body, headers={**user.headers, **(headers or {})}, **kwargs)


def rows(app, user=None) -> list[Feedback]:
    """Stored feedback rows (of `user`, when given), oldest first, detached from the session."""
    with app.app_context():
        query = sa.select(Feedback).order_by(Feedback.created_at)
        if user is not None:
            query = query.where(Feedback.user_id == uuid.UUID(user.id))
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found


def age_rows(app, user, minutes: float) -> None:
    """Move every stored feedback row of `user` `minutes` into the past (time travel for the hourly window)."""
    with app.app_context():
        db.session.execute(
            sa.update(Feedback).where(Feedback.user_id == uuid.UUID(user.id))
            .values(created_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def signed_in(app, user):
    """A test client carrying `user`'s session, and the CSRF token of its pages."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user.id
    token = CSRF.search(client.get("/feedback").text).group(1)
    return client, token


def session_cookie(app, user) -> str:
    """The signed session cookie value a completed login leaves for `user`."""
    with app.test_request_context():
        return app.session_interface.get_signing_serializer(app).dumps({"user_id": user.id, "sid": uuid.uuid4().hex})
