"""Workspace pages: the workspace home with its issues, creating a workspace, and invitations (D10).

Pages answer 404 for a workspace the visitor is not a member of, so slugs of other teams' workspaces
cannot be probed.
"""

from __future__ import annotations

from flask import abort, make_response, redirect, render_template, request, url_for

from multica.agents.service import agents_of
from multica.auth.identity import current_user, login_required_page
from multica.errors import ApiError
from multica.issues.service import create_issue, issues_of
from multica.workspaces import bp
from multica.workspaces.service import create_workspace, workspace_by_slug_for, workspaces_of


def _member_workspace(slug: str):
    """The signed-in member's workspace with `slug`, or 404."""
    workspace = workspace_by_slug_for(current_user(), slug)
    if workspace is None:
        abort(404)
    return workspace


def _issues_response(workspace, status: int = 200, *, title: str = "", error: str | None = None):
    """The workspace home: issues newest first, each with its assignee's name."""
    agents = agents_of(workspace)
    names = {agent.id: agent.name for agent in agents}
    return make_response(render_template(
        "workspaces/issues.html", workspace=workspace, issues=issues_of(workspace), agent_names=names,
        agents=agents, workspaces=workspaces_of(current_user()), title=title, error=error,
    ), status)


@bp.get("/<slug>/issues")
@login_required_page
def issues_page(slug: str):
    """The workspace home: its issues and a form for a new one."""
    return _issues_response(_member_workspace(slug))


@bp.post("/<slug>/issues")
@login_required_page
def create_issue_page(slug: str):
    """Create an issue from the page form, then show the list again (errors inline, 4xx)."""
    workspace = _member_workspace(slug)
    title = request.form.get("title", "")
    try:
        create_issue(
            current_user(), workspace, title=title, assignee_agent_id=request.form.get("assignee") or None, platform="web",
        )
    except ApiError as error:
        return _issues_response(workspace, error.status, title=title, error=error.message)
    return redirect(url_for("workspaces.issues_page", slug=workspace.slug))


@bp.get("/workspaces/new")
@login_required_page
def new_workspace_page():
    """The create-a-workspace form (where onboarded people without a workspace land, §8.9)."""
    return render_template("workspaces/new.html", form={}, error=None)


@bp.post("/workspaces/new")
@login_required_page
def create_workspace_page():
    """Create the workspace (the creator becomes its owner) and open it."""
    try:
        workspace = create_workspace(current_user(), request.form.get("name", ""), request.form.get("slug", ""))
    except ApiError as error:
        return make_response(render_template("workspaces/new.html", form=request.form, error=error.message), error.status)
    return redirect(url_for("workspaces.issues_page", slug=workspace.slug))


@bp.get("/invitations")
@login_required_page
def invitations_page():
    """Pending invitations (a placeholder until invitations are built: there are none to list)."""
    return render_template("workspaces/invitations.html", invitations=[])
