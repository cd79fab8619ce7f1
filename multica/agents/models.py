"""Agents: a named worker bound to a runtime, created from a template (SPEC §5.3, D12)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import rfc3339, utcnow
from multica.extensions import db


class Agent(db.Model):
    """An agent in a workspace, running on one runtime."""

    __tablename__ = "agent"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    runtime_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("runtime.id", ondelete="SET NULL"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(sa.String(100))
    template: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict:
        """The API shape of an agent."""
        return {
            "id": str(self.id),
            "workspace_id": str(self.workspace_id),
            "runtime_id": str(self.runtime_id) if self.runtime_id else None,
            "name": self.name,
            "template": self.template,
            "created_at": rfc3339(self.created_at),
        }
