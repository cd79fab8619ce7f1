"""Workspaces and their members (SPEC §18)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import rfc3339, utcnow
from multica.extensions import db

ROLES = ("owner", "admin", "member")


class Workspace(db.Model):
    """A team's space; its slug is the first path segment of its pages."""

    __tablename__ = "workspace"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(100))
    slug: Mapped[str] = mapped_column(sa.String(48), unique=True)
    issue_prefix: Mapped[str] = mapped_column(sa.String(8), default="ISS", server_default="ISS")
    issue_counter: Mapped[int] = mapped_column(sa.Integer, default=0, server_default=sa.text("0"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        """The API shape of a workspace."""
        return {"id": str(self.id), "name": self.name, "slug": self.slug, "created_at": rfc3339(self.created_at)}


class Member(db.Model):
    """A user's membership of a workspace, with a role."""

    __tablename__ = "member"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "user_id", name="uq_member_workspace_id_user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
