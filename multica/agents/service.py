"""Creating agents from templates on a workspace's runtimes (SPEC §5.3, §9.5)."""

from __future__ import annotations

import sqlalchemy as sa

from multica.agents.models import Agent
from multica.analytics import events
from multica.analytics.catalog import AGENT_TEMPLATES
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.db_utils import advisory_lock
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import row_in_workspace, text_field
from multica.runtimes.models import Runtime
from multica.workspaces.models import Workspace

TEMPLATE_NAMES = {"coding": "Coding agent", "planning": "Planning agent", "writing": "Writing agent", "assistant": "Assistant"}
_TEMPLATE_COPY = {
    "coding": ("Coding", "Writes and reviews code in your repositories."),
    "planning": ("Planning", "Breaks work down into issues and keeps plans current."),
    "writing": ("Writing", "Drafts docs, specs and release notes."),
    "assistant": ("Assistant", "A general helper for whatever comes up."),
}
# How the pages offer the templates, in the models' order: (value, label, what it is good at).
TEMPLATE_CHOICES = tuple((template, *_TEMPLATE_COPY[template]) for template in AGENT_TEMPLATES)
MAX_NAME_BYTES = 100


def create_agent(user: User, workspace: Workspace, *, runtime_id: object, template: object, name: object = None) -> Agent:
    """Create an agent bound to one of the workspace's runtimes, then emit `agent_created`."""
    if template is None:
        template = ""
    if not isinstance(template, str) or (template and template not in AGENT_TEMPLATES):
        raise ApiError(400, "invalid template")
    runtime = row_in_workspace(Runtime, workspace, runtime_id, noun="runtime")
    name = text_field({"name": name}, "name", MAX_NAME_BYTES) or TEMPLATE_NAMES.get(template, "Agent")
    # Creations in one workspace take turns, so two agents made at once cannot both be "first".
    advisory_lock(db.session, f"agents:{workspace.id}")
    try:
        existing = db.session.scalar(sa.select(sa.func.count()).select_from(Agent).where(Agent.workspace_id == workspace.id))
        is_first = existing == 0
    except Exception:  # noqa: BLE001 - SPEC: if the lookup fails, report false
        db.session.rollback()
        is_first = False
    agent = Agent(workspace_id=workspace.id, runtime_id=runtime.id, owner_id=user.id, name=name, template=template)
    db.session.add(agent)
    db.session.commit()
    record_event(events.agent_created(
        str(user.id), str(workspace.id), agent_id=str(agent.id), provider=runtime.provider,
        runtime_mode=runtime.runtime_mode, template=template, is_first_agent_in_workspace=is_first,
    ))
    return agent


def agents_of(workspace: Workspace) -> list[Agent]:
    """The workspace's agents, oldest first."""
    return list(db.session.scalars(sa.select(Agent).where(Agent.workspace_id == workspace.id).order_by(Agent.created_at)))
