"""Local agent runtimes reported by daemons, and the workspace tokens daemons use (D12, SPEC §6.1)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import rfc3339, utcnow
from multica.extensions import db


class DaemonToken(db.Model):
    """A workspace-scoped credential for a daemon; only its SHA-256 is stored (shown once)."""

    __tablename__ = "daemon_token"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Runtime(db.Model):
    """One provider (claude, codex, …) on one daemon in one workspace."""

    __tablename__ = "runtime"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "daemon_id", "provider", name="uq_runtime_workspace_id_daemon_id_provider"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    daemon_id: Mapped[str] = mapped_column(sa.String(200))
    provider: Mapped[str] = mapped_column(sa.String(64))
    runtime_mode: Mapped[str] = mapped_column(sa.String(16), default="local", server_default="local")
    status: Mapped[str] = mapped_column(sa.String(16), default="online", server_default="online")
    name: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    runtime_version: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    cli_version: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    registered_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        """The API shape of a runtime."""
        return {
            "id": str(self.id),
            "workspace_id": str(self.workspace_id),
            "daemon_id": self.daemon_id,
            "provider": self.provider,
            "runtime_mode": self.runtime_mode,
            "status": self.status,
            "name": self.name,
            "runtime_version": self.runtime_version,
            "cli_version": self.cli_version,
            "last_heartbeat_at": rfc3339(self.last_heartbeat_at),
            "created_at": rfc3339(self.created_at),
        }
