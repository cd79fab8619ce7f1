"""Creating and listing squads, with `squad_created` (D15.6, §5.3)."""

from __future__ import annotations

import sqlalchemy as sa

from multica.agents.models import Agent
from multica.analytics import events
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.db_utils import parse_uuid
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import text_field
from multica.squads.models import Squad, SquadMember
from multica.workspaces.models import Workspace

MAX_NAME_BYTES = 100
MAX_MEMBERS = 100


def squad_input(body: dict) -> tuple[str, list]:
    """A squad's `name` (required) and `agent_ids` (a list of agent ids, duplicates folded), or 400."""
    name = text_field(body, "name", MAX_NAME_BYTES, required=True)
    raw_ids = body.get("agent_ids", [])
    if raw_ids is None:
        raw_ids = []
    if not isinstance(raw_ids, list) or len(raw_ids) > MAX_MEMBERS:
        raise ApiError(400, "invalid agent_ids")
    agent_ids = []
    for raw in raw_ids:
        agent_id = parse_uuid(raw)
        if agent_id is None:
            raise ApiError(400, "invalid agent_ids")
        if agent_id not in agent_ids:
            agent_ids.append(agent_id)
    return name, agent_ids


def create_squad(user: User, workspace: Workspace, name: str, agent_ids: list) -> tuple[Squad, list]:
    """Create the squad with agents of this workspace (any other id is 404), then emit `squad_created`."""
    if agent_ids:
        found = set(db.session.scalars(sa.select(Agent.id).where(Agent.id.in_(agent_ids), Agent.workspace_id == workspace.id)))
        if found != set(agent_ids):
            raise ApiError(404, "agent not found")
    squad = Squad(workspace_id=workspace.id, name=name, creator_id=user.id)
    db.session.add(squad)
    db.session.flush()
    db.session.add_all(SquadMember(squad_id=squad.id, agent_id=agent_id) for agent_id in agent_ids)
    db.session.commit()
    record_event(events.squad_created(str(user.id), str(workspace.id), squad_id=str(squad.id), member_count=len(agent_ids)))
    return squad, agent_ids


def squads_of(workspace: Workspace) -> list[tuple[Squad, list]]:
    """The workspace's squads, newest first, each with its member agent ids."""
    squads = list(db.session.scalars(sa.select(Squad).where(Squad.workspace_id == workspace.id).order_by(Squad.created_at.desc())))
    members: dict = {}
    if squads:
        rows = db.session.execute(sa.select(SquadMember.squad_id, SquadMember.agent_id).where(SquadMember.squad_id.in_([s.id for s in squads])))
        for squad_id, agent_id in rows:
            members.setdefault(squad_id, []).append(agent_id)
    return [(squad, members.get(squad.id, [])) for squad in squads]
