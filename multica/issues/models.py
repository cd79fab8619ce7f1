"""Issues: the unit of work in a workspace, keyed like `ACME-1` (SPEC §5.3, D12)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import rfc3339, utcnow
from multica.extensions import db


class Issue(db.Model):
    """An issue; `number` is per workspace and `key` is `<PREFIX>-<number>`."""

    __tablename__ = "issue"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "number", name="uq_issue_workspace_id_number"),
        # A form that must count once (the onboarding first issue) names its submission; NULLs never collide.
        sa.UniqueConstraint("workspace_id", "idempotency_key", name="uq_issue_workspace_id_idempotency_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    key: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="todo", server_default="todo")
    assignee_agent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("agent.id", ondelete="SET NULL"))
    creator_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(100))
    first_executed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The autopilot run that created the issue, if one did (its tasks are `autopilot_issue` tasks).
    autopilot_run_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        """The API shape of an issue."""
        return {
            "id": str(self.id),
            "workspace_id": str(self.workspace_id),
            "key": self.key,
            "number": self.number,
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "assignee_agent_id": str(self.assignee_agent_id) if self.assignee_agent_id else None,
            "created_at": rfc3339(self.created_at),
        }
