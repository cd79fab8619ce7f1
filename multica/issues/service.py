"""Creating issues with per-workspace keys (`ACME-1`) (SPEC §5.3, D12)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from blinker import Namespace
from sqlalchemy.exc import IntegrityError

from multica.agents.models import Agent
from multica.analytics import events
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.db_utils import parse_uuid
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import row_in_workspace, text_field
from multica.issues.models import Issue
from multica.workspaces.models import Workspace

MAX_TITLE_BYTES = 500
MAX_DESCRIPTION_BYTES = 20_000

_signals = Namespace()
# Sent (sender: the app) after an issue gets an agent assignee has committed, on creation or by a
# reassignment, with `issue` and `agent`. The tasks area listens and queues the agent's task; issues
# know nothing of tasks.
issue_assigned = _signals.signal("issue-assigned")


def _announce_assignment(issue: Issue, agent: Agent) -> None:
    """Tell listeners (the task queue) that `agent` now owns `issue`."""
    from flask import current_app

    issue_assigned.send(current_app._get_current_object(), issue=issue, agent=agent)


def create_issue(
    user: User, workspace: Workspace, *, title: object, description: object = None, assignee_agent_id: object = None,
    source: str = "manual", platform: str = "", autopilot_run_id=None, idempotency_key: str | None = None,
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
        assignee_agent_id=agent.id if agent else None, creator_id=user.id, autopilot_run_id=autopilot_run_id,
        idempotency_key=idempotency_key,
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
        autopilot_run_id=str(autopilot_run_id) if autopilot_run_id else "",
    ))
    if agent is not None:
        _announce_assignment(issue, agent)
    return issue


def _issue_with_key(workspace: Workspace, idempotency_key: str) -> Issue | None:
    """The workspace's issue created under `idempotency_key`, if any."""
    return db.session.scalar(
        sa.select(Issue).where(Issue.workspace_id == workspace.id, Issue.idempotency_key == idempotency_key)
    )


def issue_created_under(idempotency_key: str) -> Issue | None:
    """The issue created under `idempotency_key` in any workspace (keys that name their user are unique)."""
    return db.session.scalar(sa.select(Issue).where(Issue.idempotency_key == idempotency_key).limit(1))


def assign_issue(workspace: Workspace, issue: Issue, assignee_agent_id: object) -> Issue:
    """Give the issue to an agent of the workspace (or to nobody with None/"").

    A change to a new agent is announced (the agent's task is queued); assigning the current
    assignee again changes nothing. The swap is one conditional UPDATE, so two concurrent
    reassignments to the same agent announce it once.
    """
    agent = None
    if assignee_agent_id not in (None, ""):
        agent = row_in_workspace(Agent, workspace, assignee_agent_id, noun="agent", field="assignee_agent_id")
    new_id = agent.id if agent else None
    changed = db.session.execute(
        sa.update(Issue)
        .where(Issue.id == issue.id, Issue.assignee_agent_id.is_distinct_from(new_id))
        .values(assignee_agent_id=new_id)
        .returning(Issue.id)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.commit()
    db.session.refresh(issue)
    if changed is not None and agent is not None:
        _announce_assignment(issue, agent)
    return issue


# `<PREFIX>-<number>`: the prefix is at most 8 letters (`issue_prefix_for`). Anything else cannot be a
# key, and is not looked up: a NUL, say, would be refused by PostgreSQL with an error (a 500).
ISSUE_KEY = re.compile(r"[A-Z]{1,8}-[0-9]{1,20}")


def issue_in_workspace(workspace: Workspace, raw_id: object) -> Issue:
    """The workspace's issue by id or by key (`ACME-1`), or ApiError 404 `issue not found`."""
    issue_id = parse_uuid(raw_id)
    if issue_id is not None:
        issue = db.session.get(Issue, issue_id)
    elif isinstance(raw_id, str) and raw_id:
        issue = issue_by_key(workspace, raw_id.strip().upper())
    else:
        issue = None
    if issue is None or issue.workspace_id != workspace.id:
        raise ApiError(404, "issue not found")
    return issue


def issue_by_key(workspace: Workspace, key: str) -> Issue | None:
    """The workspace's issue with `key` (`ACME-1`), if any."""
    if not ISSUE_KEY.fullmatch(key):
        return None
    return db.session.scalar(sa.select(Issue).where(Issue.workspace_id == workspace.id, Issue.key == key))


def issues_of(workspace: Workspace) -> list[Issue]:
    """The workspace's issues, newest first."""
    return list(db.session.scalars(sa.select(Issue).where(Issue.workspace_id == workspace.id).order_by(Issue.number.desc())))


_TASK_STATUS_LOOKUP = "issues.task_status_lookup"


def set_task_status_lookup(app, lookup) -> None:
    """Let the task queue say, for a list of issue ids, each issue's latest task status (`{id: status}`)."""
    app.extensions[_TASK_STATUS_LOOKUP] = lookup


def latest_task_statuses(issues: list[Issue]) -> dict:
    """issue id -> latest task status, from the lookup the tasks area installed (empty without one)."""
    from flask import current_app

    lookup = current_app.extensions.get(_TASK_STATUS_LOOKUP)
    return lookup([issue.id for issue in issues]) if lookup and issues else {}
