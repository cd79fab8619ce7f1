"""Squads and their member agents (D15.6)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import rfc3339, utcnow
from multica.extensions import db


class Squad(db.Model):
    """A named group of agents in a workspace."""

    __tablename__ = "squad"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    creator_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    def to_dict(self, agent_ids: list) -> dict:
        """The API shape of a squad with its members' ids."""
        return {
            "id": str(self.id),
            "workspace_id": str(self.workspace_id),
            "name": self.name,
            "agent_ids": [str(agent_id) for agent_id in agent_ids],
            "created_at": rfc3339(self.created_at),
        }


class SquadMember(db.Model):
    """One agent in one squad."""

    __tablename__ = "squad_member"

    squad_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("squad.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("agent.id", ondelete="CASCADE"), primary_key=True)
