"""The autopilots page: create, list and run autopilots (D15.9), without JavaScript."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from multica.agents.service import agents_of
from multica.auth.identity import current_user, login_required_page
from multica.autopilots import bp
from multica.autopilots.models import ACTIONS, CADENCES
from multica.autopilots.service import autopilot_in_workspace, autopilot_input, autopilots_of, create_autopilot, runs_of, start_run
from multica.errors import ApiError
from multica.workspaces.service import member_workspace_or_404, workspaces_of


def _autopilots_response(workspace, status: int = 200, *, error: str | None = None, form=None, secret=None, created=None):
    agents = agents_of(workspace)
    autopilots = autopilots_of(workspace)
    return make_response(render_template(
        "autopilots/autopilots.html", workspace=workspace, workspaces=workspaces_of(current_user()), agents=agents,
        agent_names={agent.id: agent.name for agent in agents}, autopilots=[(a, runs_of(a)[:5]) for a in autopilots],
        actions=ACTIONS, cadences=CADENCES, error=error, form=form or {}, secret=secret, created=created,
    ), status)


@bp.get("/<slug>/autopilots")
@login_required_page
def autopilots_page(slug: str):
    """The workspace's autopilots and a form for a new one."""
    return _autopilots_response(member_workspace_or_404(current_user(), slug))


@bp.post("/<slug>/autopilots")
@login_required_page
def create_autopilot_page(slug: str):
    """Create an autopilot; a webhook one's secret is shown on this answer, once."""
    workspace = member_workspace_or_404(current_user(), slug)
    try:
        autopilot, secret = create_autopilot(current_user(), workspace, autopilot_input(workspace, request.form.to_dict()))
    except ApiError as error:
        return _autopilots_response(workspace, error.status, error=error.message, form=request.form)
    if secret:
        return _autopilots_response(workspace, 201, secret=secret, created=autopilot)
    return redirect(url_for("autopilots.autopilots_page", slug=workspace.slug))


@bp.post("/<slug>/autopilots/<autopilot_id>/runs")
@login_required_page
def run_autopilot_page(slug: str, autopilot_id: str):
    """Run an autopilot now."""
    workspace = member_workspace_or_404(current_user(), slug)
    try:
        start_run(autopilot_in_workspace(workspace, autopilot_id), "manual")
    except ApiError as error:
        return _autopilots_response(workspace, error.status, error=error.message)
    return redirect(url_for("autopilots.autopilots_page", slug=workspace.slug))
