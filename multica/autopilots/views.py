"""Autopilot API: create and list (members), manual runs, and the webhook (D15.7)."""

from __future__ import annotations

from flask import jsonify, request

from multica.auth.identity import require_user
from multica.autopilots import bp
from multica.autopilots.service import (
    autopilot_in_workspace,
    autopilot_input,
    autopilots_of,
    create_autopilot,
    run_from_webhook,
    runs_of,
    start_run,
)
from multica.inputs import json_object
from multica.workspaces.service import member_workspace_or_api_404

MAX_BODY = 64 * 1024


@bp.post("/api/workspaces/<workspace_id>/autopilots")
def create_autopilot_api(workspace_id: str):
    """Create an autopilot → 201; a webhook autopilot's `webhook_secret` is in this answer only."""
    user = require_user()
    workspace = member_workspace_or_api_404(user, workspace_id)
    fields = autopilot_input(workspace, json_object(MAX_BODY))
    autopilot, secret = create_autopilot(user, workspace, fields)
    body = autopilot.to_dict()
    if secret:
        body["webhook_secret"] = secret
    return jsonify(body), 201


@bp.get("/api/workspaces/<workspace_id>/autopilots")
def list_autopilots_api(workspace_id: str):
    """The workspace's autopilots, newest first."""
    workspace = member_workspace_or_api_404(require_user(), workspace_id)
    return jsonify([autopilot.to_dict() for autopilot in autopilots_of(workspace)])


@bp.post("/api/workspaces/<workspace_id>/autopilots/<autopilot_id>/runs")
def run_autopilot_api(workspace_id: str, autopilot_id: str):
    """Run the autopilot now, by hand → 201 with the run."""
    workspace = member_workspace_or_api_404(require_user(), workspace_id)
    autopilot = autopilot_in_workspace(workspace, autopilot_id)
    json_object(MAX_BODY, optional=True)
    return jsonify(start_run(autopilot, "manual").to_dict()), 201


@bp.get("/api/workspaces/<workspace_id>/autopilots/<autopilot_id>/runs")
def list_runs_api(workspace_id: str, autopilot_id: str):
    """The autopilot's runs, newest first."""
    workspace = member_workspace_or_api_404(require_user(), workspace_id)
    return jsonify([run.to_dict() for run in runs_of(autopilot_in_workspace(workspace, autopilot_id))])


@bp.post("/api/autopilots/<autopilot_id>/webhook")
def webhook_api(autopilot_id: str):
    """Start a run from outside: `X-Autopilot-Secret` must be the autopilot's secret (403 otherwise)."""
    run = run_from_webhook(autopilot_id, request.headers.get("X-Autopilot-Secret"))
    return jsonify(run.to_dict()), 201
