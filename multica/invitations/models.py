"""Workspace invitations (SPEC §10.1)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import utcnow
from multica.extensions import db

INVITATION_TTL = timedelta(days=7)


def _expires() -> datetime:
    return utcnow() + INVITATION_TTL


class WorkspaceInvitation(db.Model):
    """An invitation to join a workspace; at most one pending per (workspace, email)."""

    __tablename__ = "workspace_invitation"
    __table_args__ = (
        sa.Index(
            "uq_workspace_invitation_pending",
            "workspace_id",
            "invitee_email",
            unique=True,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    inviter_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    invitee_email: Mapped[str] = mapped_column(sa.String(254), index=True)
    invitee_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(sa.String(16), default="member")
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", server_default="pending")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_expires)
