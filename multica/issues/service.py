"""Creating issues with per-workspace keys (`ACME-1`) (SPEC §5.3, D12)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from multica.agents.models import Agent
from multica.analytics import events
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.extensions import db
from multica.inputs import row_in_workspace, text_field
from multica.issues.models import Issue
from multica.workspaces.models import Workspace

MAX_TITLE_BYTES = 500
MAX_DESCRIPTION_BYTES = 20_000


def create_issue(
    user: User, workspace: Workspace, *, title: object, description: object = None, assignee_agent_id: object = None,
    source: str = "manual", platform: str = "", idempotency_key: str | None = None,
) -> Issue:
    """Create an issue numbered atomically within its workspace, then emit `issue_created`.

    With an `idempotency_key`, the workspace's issue already created under that key is returned
    instead, and nothing is emitted: the unique (workspace, key) constraint decides between
    concurrent submissions, so a replayed or resubmitted form creates one issue.
    """
    fields = {"title": title, "description": description}
    title = text_field(fields, "title", MAX_TITLE_BYTES, required=True, missing="title is required", invalid="title is required")
    description = text_field(fields, "description", MAX_DESCRIPTION_BYTES, multiline=True)
    agent = None
    if assignee_agent_id not in (None, ""):
        agent = row_in_workspace(Agent, workspace, assignee_agent_id, noun="agent", field="assignee_agent_id")
    if idempotency_key is not None:
        existing = _issue_with_key(workspace, idempotency_key)
        if existing is not None:
            return existing
    # The counter bump is one statement, so concurrent creations get distinct numbers.
    number, prefix = db.session.execute(
        sa.update(Workspace)
        .where(Workspace.id == workspace.id)
        .values(issue_counter=Workspace.issue_counter + 1)
        .returning(Workspace.issue_counter, Workspace.issue_prefix)
    ).one()
    issue = Issue(
        workspace_id=workspace.id, number=number, key=f"{prefix}-{number}", title=title, description=description,
        assignee_agent_id=agent.id if agent else None, creator_id=user.id, idempotency_key=idempotency_key,
    )
    db.session.add(issue)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = _issue_with_key(workspace, idempotency_key) if idempotency_key is not None else None
        if existing is None:
            raise
        return existing  # a concurrent submission with the same key committed first
    record_event(events.issue_created(
        str(user.id), str(workspace.id), issue_id=str(issue.id), source=source,
        agent_id=str(agent.id) if agent else "", platform=platform,
    ))
    return issue


def _issue_with_key(workspace: Workspace, idempotency_key: str) -> Issue | None:
    """The workspace's issue created under `idempotency_key`, if any."""
    return db.session.scalar(
        sa.select(Issue).where(Issue.workspace_id == workspace.id, Issue.idempotency_key == idempotency_key)
    )


def issue_created_under(idempotency_key: str) -> Issue | None:
    """The issue created under `idempotency_key` in any workspace (keys that name their user are unique)."""
    return db.session.scalar(sa.select(Issue).where(Issue.idempotency_key == idempotency_key).limit(1))


def issues_of(workspace: Workspace) -> list[Issue]:
    """The workspace's issues, newest first."""
    return list(db.session.scalars(sa.select(Issue).where(Issue.workspace_id == workspace.id).order_by(Issue.number.desc())))


def issue_by_key(workspace: Workspace, key: str) -> Issue | None:
    """The workspace's issue with `key` (`ACME-1`), if any."""
    return db.session.scalar(sa.select(Issue).where(Issue.workspace_id == workspace.id, Issue.key == key))


def assign_issue(workspace: Workspace, issue: Issue, assignee_agent_id: object) -> Issue:
    """Give the issue to one of the workspace's agents, or to nobody (`None` or `""`)."""
    agent = None
    if assignee_agent_id not in (None, ""):
        agent = row_in_workspace(Agent, workspace, assignee_agent_id, noun="agent", field="assignee_agent_id")
    issue.assignee_agent_id = agent.id if agent else None
    db.session.commit()
    return issue
