"""Chat sessions with an agent and their messages (D15.5)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import rfc3339, utcnow
from multica.extensions import db

USER = "user"
AGENT = "agent"


class ChatSession(db.Model):
    """A conversation between a member and one agent of the workspace."""

    __tablename__ = "chat_session"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("agent.id", ondelete="SET NULL"))
    creator_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict:
        """The API shape of a session."""
        return {
            "id": str(self.id),
            "workspace_id": str(self.workspace_id),
            "agent_id": str(self.agent_id) if self.agent_id else None,
            "created_at": rfc3339(self.created_at),
        }


class ChatMessage(db.Model):
    """A member's message (`user`) or the agent's reply (`agent`, one per task)."""

    __tablename__ = "chat_message"
    __table_args__ = (sa.UniqueConstraint("task_id", "role", name="uq_chat_message_task_id_role"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("chat_session.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    content: Mapped[str] = mapped_column(sa.Text)
    task_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    author_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict:
        """The API shape of a message."""
        return {
            "id": str(self.id),
            "chat_session_id": str(self.session_id),
            "role": self.role,
            "content": self.content,
            "task_id": str(self.task_id) if self.task_id else None,
            "created_at": rfc3339(self.created_at),
        }
