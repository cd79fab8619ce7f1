"""Autopilots and their runs (D15.7)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import rfc3339, utcnow
from multica.extensions import db
from multica.metrics.labels import AUTOPILOT_CADENCES

ACTIONS = ("create_issue", "run_agent")
# The calendar cadences and how far apart their due periods are.
SCHEDULES = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1), "monthly": timedelta(days=30)}
# Every cadence the metric label knows, except its fallback.
CADENCES = tuple(cadence for cadence in AUTOPILOT_CADENCES if cadence != "unknown")
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"


def trigger_kind_for(cadence: str) -> str:
    """`schedule` for the calendar cadences, else the cadence itself (`manual`, `webhook`)."""
    return "schedule" if cadence in SCHEDULES else cadence


class Autopilot(db.Model):
    """What an agent does on its own: create an issue for itself, or run a prompt."""

    __tablename__ = "autopilot"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("agent.id", ondelete="SET NULL"))
    creator_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(16))
    prompt: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    cadence: Mapped[str] = mapped_column(sa.String(16))
    trigger_kind: Mapped[str] = mapped_column(sa.String(16))
    # SHA-256 of the webhook secret; the secret itself is shown once, at creation.
    webhook_secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # When the schedule last started a run: the next due period is counted from it (or from created_at).
    last_run_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def to_dict(self) -> dict:
        """The API shape of an autopilot (never the webhook secret)."""
        return {
            "id": str(self.id),
            "workspace_id": str(self.workspace_id),
            "agent_id": str(self.agent_id) if self.agent_id else None,
            "name": self.name,
            "action": self.action,
            "prompt": self.prompt,
            "cadence": self.cadence,
            "trigger_kind": self.trigger_kind,
            "created_at": rfc3339(self.created_at),
            "last_run_at": rfc3339(self.last_run_at),
        }


class AutopilotRun(db.Model):
    """One run of an autopilot: running, then completed or failed."""

    __tablename__ = "autopilot_run"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    autopilot_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("autopilot.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=RUNNING, server_default=RUNNING)
    trigger_source: Mapped[str] = mapped_column(sa.String(16))
    issue_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("issue.id", ondelete="SET NULL"))
    task_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    failure_reason: Mapped[str | None] = mapped_column(sa.String(64))
    error_type: Mapped[str | None] = mapped_column(sa.String(32))

    def to_dict(self) -> dict:
        """The API shape of a run."""
        return {
            "id": str(self.id),
            "autopilot_id": str(self.autopilot_id),
            "status": self.status,
            "trigger_source": self.trigger_source,
            "issue_id": str(self.issue_id) if self.issue_id else None,
            "task_id": str(self.task_id) if self.task_id else None,
            "started_at": rfc3339(self.started_at),
            "completed_at": rfc3339(self.completed_at),
            "failure_reason": self.failure_reason,
            "error_type": self.error_type,
        }
