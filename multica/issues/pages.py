"""The workspace home: its issues and a form for a new one (D10).

Pages answer 404 for a workspace the visitor is not a member of, so slugs of other teams' workspaces
cannot be probed.
"""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from multica.agents.service import agents_of
from multica.auth.identity import current_user, login_required_page
from multica.errors import ApiError
from multica.issues import bp
from multica.issues.service import assign_issue, create_issue, issue_by_key, issues_of, latest_task_statuses
from multica.runtimes.service import workspace_runtimes
from multica.workspaces.service import member_workspace_or_404


# How each issue status reads on the list.
ISSUE_STATUS_LABELS = {"todo": "To do", "in_progress": "In progress", "done": "Done", "cancelled": "Cancelled"}


def _issues_response(workspace, status: int = 200, *, title: str = "", error: str | None = None):
    """The workspace home: issues newest first, each with its assignee's name and latest task status."""
    agents = agents_of(workspace)
    names = {agent.id: agent.name for agent in agents}
    issues = issues_of(workspace)
    return make_response(render_template(
        "issues/issues.html", workspace=workspace, issues=issues, agent_names=names,
        task_statuses=latest_task_statuses(issues),
        agents=agents, has_runtime=bool(agents) or bool(workspace_runtimes(workspace)), title=title, error=error,
        issue_status_labels=ISSUE_STATUS_LABELS,
    ), status)


@bp.get("/<slug>/issues")
@login_required_page
def issues_page(slug: str):
    """The workspace home: its issues and a form for a new one."""
    return _issues_response(member_workspace_or_404(current_user(), slug))


@bp.post("/<slug>/issues")
@login_required_page
def create_issue_page(slug: str):
    """Create an issue from the page form, then show the list again (errors inline, 4xx)."""
    workspace = member_workspace_or_404(current_user(), slug)
    title = request.form.get("title", "")
    try:
        create_issue(
            current_user(), workspace, title=title, assignee_agent_id=request.form.get("assignee") or None, platform="web",
        )
    except ApiError as error:
        return _issues_response(workspace, error.status, title=title, error=error.message)
    return redirect(url_for("issues.issues_page", slug=workspace.slug))


@bp.post("/<slug>/issues/<key>/assignee")
@login_required_page
def assign_issue_page(slug: str, key: str):
    """Assign an issue from the list (or unassign it), then show the list again."""
    workspace = member_workspace_or_404(current_user(), slug)
    issue = issue_by_key(workspace, key)
    if issue is None:
        raise ApiError(404, "issue not found")
    try:
        assign_issue(workspace, issue, request.form.get("assignee") or None)
    except ApiError as error:
        return _issues_response(workspace, error.status, error=error.message)
    return redirect(url_for("issues.issues_page", slug=workspace.slug), 303)
