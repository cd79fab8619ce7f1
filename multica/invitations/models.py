"""Workspace invitations (SPEC §10.1) and the invitation limiter's hits (Appendix B)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import rfc3339, utcnow
from multica.extensions import db

INVITATION_TTL = timedelta(days=7)
INVITABLE_ROLES = ("admin", "member")
STATUSES = ("pending", "accepted", "declined", "expired")


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

    def to_dict(self, **enriched: str | None) -> dict:
        """The API shape (§10.1), plus the enrichment fields that are not empty."""
        body = {
            "id": str(self.id),
            "workspace_id": str(self.workspace_id),
            "inviter_id": str(self.inviter_id),
            "invitee_email": self.invitee_email,
            "invitee_user_id": str(self.invitee_user_id) if self.invitee_user_id else None,
            "role": self.role,
            "status": self.status,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
            "expires_at": rfc3339(self.expires_at),
        }
        body.update({key: value for key, value in enriched.items() if value})
        return body


class InvitationRateHit(db.Model):
    """One unit consumed in one gate of the invitation limiter; the sliding windows count these rows.

    Kept in the database (not in process memory) so the limits hold across workers and hosts.
    """

    __tablename__ = "invitation_rate_hit"
    __table_args__ = (sa.Index("ix_invitation_rate_hit_gate_key_created_at", "gate", "key", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    gate: Mapped[str] = mapped_column(sa.String(16))
    key: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
