"""Feedback rows (SPEC §11.1, §18)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import JSONType, rfc3339, utcnow
from multica.extensions import db


class Feedback(db.Model):
    """One message sent from the Help menu, with where it was sent from (url and client headers)."""

    __tablename__ = "feedback"
    # The hourly limit counts one user's recent rows: newest first per user.
    __table_args__ = (sa.Index("ix_feedback_user_id_created_at", "user_id", sa.text("created_at DESC")),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("workspace.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(sa.Text)
    # `metadata` is taken on declarative classes; the column keeps the SPEC's name (D14.17).
    details: Mapped[dict] = mapped_column("metadata", JSONType, default=dict, server_default=sa.text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict:
        """The API answer to a submission (SPEC §11.1)."""
        return {"id": str(self.id), "created_at": rfc3339(self.created_at)}
