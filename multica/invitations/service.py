"""Invitation queries (SPEC §10)."""

from __future__ import annotations

import sqlalchemy as sa

from multica.auth.models import User
from multica.db_utils import utcnow
from multica.extensions import db
from multica.invitations.models import WorkspaceInvitation


def has_pending_invitations(user: User) -> bool:
    """The user has a pending, unexpired invitation (by id or by email)."""
    query = sa.select(WorkspaceInvitation.id).where(
        WorkspaceInvitation.status == "pending",
        WorkspaceInvitation.expires_at > utcnow(),
        sa.or_(WorkspaceInvitation.invitee_user_id == user.id, WorkspaceInvitation.invitee_email == user.email),
    ).limit(1)
    return db.session.scalar(query) is not None
