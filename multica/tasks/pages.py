"""The issue page: the issue, its tasks with results and failure reasons, an assign control and a rerun button (D15.9).

Every control is a plain form (POST, then a redirect back), so the page works without JavaScript;
`static/js/issue.js` only refreshes the task list in place while a task is still active. Visitors
who are not members get 404, like every workspace page.
"""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from multica.agents.service import agents_of
from multica.auth.identity import current_user, login_required_page
from multica.errors import ApiError
from multica.issues.service import assign_issue, issue_in_workspace
from multica.tasks import bp
from multica.tasks.models import ACTIVE
from multica.tasks.service import cancel_task, rerun_issue, task_in_workspace, tasks_of
from multica.workspaces.service import member_workspace_or_404, workspaces_of


def _workspace_and_issue(slug: str, key: str):
    """The member's workspace and its issue `key` (or id), else 404."""
    workspace = member_workspace_or_404(current_user(), slug)
    try:
        return workspace, issue_in_workspace(workspace, key)
    except ApiError:
        raise NotFound() from None


def _issue_response(workspace, issue, status: int = 200, *, error: str | None = None):
    """Render the issue page."""
    agents = agents_of(workspace)
    tasks = tasks_of(workspace, issue.id)
    return make_response(render_template(
        "tasks/issue.html", workspace=workspace, issue=issue, tasks=tasks, agents=agents,
        agent_names={agent.id: agent.name for agent in agents}, workspaces=workspaces_of(current_user()),
        active=any(task.status in ACTIVE for task in tasks), active_statuses=ACTIVE, error=error,
    ), status)


def _back(workspace, issue):
    return redirect(url_for("tasks.issue_page", slug=workspace.slug, key=issue.key))


@bp.get("/<slug>/issues/<key>")
@login_required_page
def issue_page(slug: str, key: str):
    """One issue and everything its agents did on it."""
    workspace, issue = _workspace_and_issue(slug, key)
    return _issue_response(workspace, issue)


@bp.post("/<slug>/issues/<key>/assign")
@login_required_page
def assign_issue_page(slug: str, key: str):
    """Give the issue to an agent (its task is queued) or to nobody."""
    workspace, issue = _workspace_and_issue(slug, key)
    try:
        assign_issue(workspace, issue, request.form.get("assignee") or None)
    except ApiError as error:
        return _issue_response(workspace, issue, error.status, error=error.message)
    return _back(workspace, issue)


@bp.post("/<slug>/issues/<key>/rerun")
@login_required_page
def rerun_issue_page(slug: str, key: str):
    """Ask the issue's agent again."""
    workspace, issue = _workspace_and_issue(slug, key)
    try:
        rerun_issue(workspace, issue)
    except ApiError as error:
        return _issue_response(workspace, issue, error.status, error=error.message)
    return _back(workspace, issue)


@bp.post("/<slug>/issues/<key>/tasks/<task_id>/cancel")
@login_required_page
def cancel_task_page(slug: str, key: str, task_id: str):
    """Stop one of the issue's tasks."""
    workspace, issue = _workspace_and_issue(slug, key)
    try:
        task = task_in_workspace(workspace.id, task_id)
        if task.issue_id != issue.id:
            raise ApiError(404, "task not found")
        cancel_task(workspace, task.id)
    except ApiError as error:
        return _issue_response(workspace, issue, error.status, error=error.message)
    return _back(workspace, issue)
