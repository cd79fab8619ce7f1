"""Creating issues with per-workspace keys (`ACME-1`) (SPEC §5.3, D12)."""

from __future__ import annotations

import sqlalchemy as sa

from multica.agents.models import Agent
from multica.analytics import events
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.db_utils import parse_uuid
from multica.errors import ApiError
from multica.extensions import db
from multica.issues.models import Issue
from multica.workspaces.models import Workspace

MAX_TITLE_BYTES = 500
MAX_DESCRIPTION_BYTES = 20_000


def create_issue(
    user: User, workspace: Workspace, *, title: object, description: object = None, assignee_agent_id: object = None,
    source: str = "manual", platform: str = "",
) -> Issue:
    """Create an issue numbered atomically within its workspace, then emit `issue_created`."""
    if not isinstance(title, str) or not title.strip():
        raise ApiError(400, "title is required")
    title = title.strip()
    if len(title.encode("utf-8")) > MAX_TITLE_BYTES:
        raise ApiError(400, "title is too long")
    if description is not None and not isinstance(description, str):
        raise ApiError(400, "invalid description")
    description = (description or "").strip()
    if len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
        raise ApiError(400, "description is too long")
    agent = None
    if assignee_agent_id not in (None, ""):
        agent_id = parse_uuid(assignee_agent_id)
        if agent_id is None:
            raise ApiError(400, "invalid assignee_agent_id")
        agent = db.session.get(Agent, agent_id)
        if agent is None or agent.workspace_id != workspace.id:
            raise ApiError(404, "agent not found")
    # The counter bump is one statement, so concurrent creations get distinct numbers.
    number, prefix = db.session.execute(
        sa.update(Workspace)
        .where(Workspace.id == workspace.id)
        .values(issue_counter=Workspace.issue_counter + 1)
        .returning(Workspace.issue_counter, Workspace.issue_prefix)
    ).one()
    issue = Issue(
        workspace_id=workspace.id, number=number, key=f"{prefix}-{number}", title=title, description=description,
        assignee_agent_id=agent.id if agent else None, creator_id=user.id,
    )
    db.session.add(issue)
    db.session.commit()
    record_event(events.issue_created(
        str(user.id), str(workspace.id), issue_id=str(issue.id), source=source,
        agent_id=str(agent.id) if agent else "", platform=platform,
    ))
    return issue


def issues_of(workspace: Workspace) -> list[Issue]:
    """The workspace's issues, newest first."""
    return list(db.session.scalars(sa.select(Issue).where(Issue.workspace_id == workspace.id).order_by(Issue.number.desc())))
