"""Onboarding API (SPEC §9.2–§9.4)."""

from __future__ import annotations

from flask import jsonify, request

from multica.auth.identity import require_user
from multica.errors import ApiError
from multica.inputs import json_object
from multica.onboarding import bp
from multica.onboarding.service import complete_onboarding, join_cloud_waitlist, update_questionnaire
from multica.workspaces.service import require_member_workspace

MAX_QUESTIONNAIRE_BODY = 16 * 1024
MAX_BODY = 16 * 1024


@bp.patch("/api/me/onboarding")
def patch_onboarding():
    """Replace the questionnaire (first completion emits `onboarding_questionnaire_submitted`)."""
    user = require_user()
    body = json_object(MAX_QUESTIONNAIRE_BODY)
    platform = request.headers.get("X-Client-Platform", "")
    return jsonify(update_questionnaire(user, body.get("questionnaire"), platform=platform).to_dict())


@bp.post("/api/me/onboarding/complete")
def complete():
    """Mark onboarding complete with an allow-listed path (idempotent)."""
    user = require_user()
    body = json_object(MAX_BODY, optional=True)
    path = body.get("completion_path")
    if path is not None and not isinstance(path, str):
        raise ApiError(400, "invalid request body")
    raw_workspace = body.get("workspace_id")
    workspace_id = ""
    if raw_workspace not in (None, ""):
        workspace_id = str(require_member_workspace(user, raw_workspace).id)
    return jsonify(complete_onboarding(user, path, workspace_id).to_dict())


@bp.post("/api/me/onboarding/cloud-waitlist")
def cloud_waitlist():
    """Join (or update) the cloud waitlist."""
    user = require_user()
    body = json_object(MAX_BODY)
    return jsonify(join_cloud_waitlist(user, body.get("email"), body.get("reason")).to_dict())
