"""The squads page: the workspace's squads and a form for a new one (D15.9), without JavaScript."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from multica.agents.service import agents_of
from multica.auth.identity import current_user, login_required_page
from multica.errors import ApiError
from multica.squads import bp
from multica.squads.service import create_squad, squad_input, squads_of
from multica.workspaces.service import member_workspace_or_404, workspaces_of


def _squads_response(workspace, status: int = 200, *, error: str | None = None, name: str = ""):
    agents = agents_of(workspace)
    return make_response(render_template(
        "squads/squads.html", workspace=workspace, workspaces=workspaces_of(current_user()), agents=agents,
        agent_names={agent.id: agent.name for agent in agents}, squads=squads_of(workspace), error=error, name=name,
    ), status)


@bp.get("/<slug>/squads")
@login_required_page
def squads_page(slug: str):
    """The workspace's squads."""
    return _squads_response(member_workspace_or_404(current_user(), slug))


@bp.post("/<slug>/squads")
@login_required_page
def create_squad_page(slug: str):
    """Create a squad from the form (a name and ticked agents)."""
    workspace = member_workspace_or_404(current_user(), slug)
    name = request.form.get("name", "")
    try:
        parsed_name, agent_ids = squad_input({"name": name, "agent_ids": request.form.getlist("agent_ids")})
        create_squad(current_user(), workspace, parsed_name, agent_ids)
    except ApiError as error:
        return _squads_response(workspace, error.status, error=error.message, name=name)
    return redirect(url_for("squads.squads_page", slug=workspace.slug))
