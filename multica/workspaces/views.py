"""Workspace API (D14.1)."""

from __future__ import annotations

from flask import jsonify

from multica.auth.identity import require_user
from multica.inputs import json_object
from multica.workspaces import bp
from multica.workspaces.service import create_workspace, workspaces_of

MAX_BODY = 16 * 1024


@bp.post("/api/workspaces")
def create_workspace_api():
    """Create a workspace; the caller becomes its owner."""
    user = require_user()
    body = json_object(MAX_BODY)
    workspace = create_workspace(user, body.get("name"), body.get("slug"))
    return jsonify(workspace.to_dict()), 201


@bp.get("/api/workspaces")
def list_workspaces_api():
    """The caller's workspaces."""
    user = require_user()
    return jsonify([w.to_dict() for w in workspaces_of(user)])
