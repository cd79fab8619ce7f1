"""Squad API (D15.6). Member-only; non-members get 404."""

from __future__ import annotations

from flask import jsonify

from multica.auth.identity import require_user
from multica.inputs import json_object
from multica.squads import bp
from multica.squads.service import create_squad, squad_input, squads_of
from multica.workspaces.service import member_workspace_or_api_404

MAX_BODY = 16 * 1024


@bp.post("/api/workspaces/<workspace_id>/squads")
def create_squad_api(workspace_id: str):
    """Create a squad: `{"name", "agent_ids": [...]}` → 201."""
    user = require_user()
    workspace = member_workspace_or_api_404(user, workspace_id)
    name, agent_ids = squad_input(json_object(MAX_BODY))
    squad, members = create_squad(user, workspace, name, agent_ids)
    return jsonify(squad.to_dict(members)), 201


@bp.get("/api/workspaces/<workspace_id>/squads")
def list_squads_api(workspace_id: str):
    """The workspace's squads, newest first."""
    workspace = member_workspace_or_api_404(require_user(), workspace_id)
    return jsonify([squad.to_dict(members) for squad, members in squads_of(workspace)])
