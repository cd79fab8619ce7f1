"""Agent API."""

from __future__ import annotations

from flask import jsonify

from multica.agents import bp
from multica.agents.service import agents_of, create_agent
from multica.auth.identity import require_user
from multica.inputs import json_object
from multica.workspaces.service import require_member_workspace

MAX_BODY = 16 * 1024


@bp.post("/api/workspaces/<workspace_id>/agents")
def create_agent_api(workspace_id: str):
    """Create an agent from a template on one of the workspace's runtimes."""
    user = require_user()
    workspace = require_member_workspace(user, workspace_id)
    body = json_object(MAX_BODY)
    agent = create_agent(user, workspace, runtime_id=body.get("runtime_id"), template=body.get("template"), name=body.get("name"))
    return jsonify(agent.to_dict()), 201


@bp.get("/api/workspaces/<workspace_id>/agents")
def list_agents_api(workspace_id: str):
    """The workspace's agents."""
    user = require_user()
    workspace = require_member_workspace(user, workspace_id)
    return jsonify([a.to_dict() for a in agents_of(workspace)])
