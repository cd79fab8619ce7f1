"""The agent task queue: one row per run of an agent on an issue, a chat message or an autopilot (D15.1)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import rfc3339, utcnow
from multica.extensions import db

QUEUED = "queued"
DISPATCHED = "dispatched"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (QUEUED, DISPATCHED, RUNNING, COMPLETED, FAILED, CANCELLED)
ACTIVE = (QUEUED, DISPATCHED, RUNNING)
TERMINAL = (COMPLETED, FAILED, CANCELLED)


class AgentTask(db.Model):
    """A task queued for an agent's runtime; its status only moves forward, one conditional UPDATE at a time."""

    __tablename__ = "agent_task_queue"
    __table_args__ = (
        # The claim query: the oldest queued task of one runtime.
        sa.Index("ix_agent_task_queue_runtime_id_status_created_at", "runtime_id", "status", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("agent.id", ondelete="SET NULL"))
    runtime_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("runtime.id", ondelete="SET NULL"))
    issue_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("issue.id", ondelete="CASCADE"), index=True)
    # Chat sessions and autopilot runs are other areas' tables; the ids are kept without a foreign key.
    chat_session_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    autopilot_run_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    source: Mapped[str] = mapped_column(sa.String(32), default="other", server_default="other")
    status: Mapped[str] = mapped_column(sa.String(16), default=QUEUED, server_default=QUEUED)
    attempt: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    prompt: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    result: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    failure_reason: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def to_dict(self) -> dict:
        """The API shape of a task, as members see it."""
        return {
            "id": str(self.id),
            "workspace_id": str(self.workspace_id),
            "agent_id": str(self.agent_id) if self.agent_id else None,
            "runtime_id": str(self.runtime_id) if self.runtime_id else None,
            "issue_id": str(self.issue_id) if self.issue_id else None,
            "chat_session_id": str(self.chat_session_id) if self.chat_session_id else None,
            "autopilot_run_id": str(self.autopilot_run_id) if self.autopilot_run_id else None,
            "source": self.source,
            "status": self.status,
            "attempt": self.attempt,
            "prompt": self.prompt,
            "result": self.result,
            "error": self.error,
            "failure_reason": self.failure_reason,
            "created_at": rfc3339(self.created_at),
            "dispatched_at": rfc3339(self.dispatched_at),
            "started_at": rfc3339(self.started_at),
            "completed_at": rfc3339(self.completed_at),
        }

    def to_claim(self) -> dict:
        """What a daemon needs to run the task (D19.3)."""
        return {
            "id": str(self.id),
            "agent_id": str(self.agent_id) if self.agent_id else None,
            "issue_id": str(self.issue_id) if self.issue_id else None,
            "chat_session_id": str(self.chat_session_id) if self.chat_session_id else None,
            "prompt": self.prompt,
            "attempt": self.attempt,
        }
