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
from multica.issues.service import create_issue, issues_of, latest_task_statuses
from multica.workspaces.service import member_workspace_or_404, workspaces_of


def _issues_response(workspace, status: int = 200, *, title: str = "", error: str | None = None):
    """The workspace home: issues newest first, each with its assignee's name and latest task status."""
    agents = agents_of(workspace)
    names = {agent.id: agent.name for agent in agents}
    issues = issues_of(workspace)
    return make_response(render_template(
        "issues/issues.html", workspace=workspace, issues=issues, agent_names=names,
        task_statuses=latest_task_statuses(issues),
        agents=agents, workspaces=workspaces_of(current_user()), title=title, error=error,
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
