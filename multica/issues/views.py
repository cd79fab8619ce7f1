"""Issue API."""

from __future__ import annotations

from flask import jsonify, request

from multica.auth.identity import bearer_token, require_user
from multica.errors import ApiError
from multica.inputs import json_object
from multica.issues import bp
from multica.issues.service import assign_issue, create_issue, issue_in_workspace, issues_of
from multica.workspaces.service import member_workspace_or_api_404, require_member_workspace

MAX_BODY = 64 * 1024


@bp.post("/api/workspaces/<workspace_id>/issues")
def create_issue_api(workspace_id: str):
    """Create an issue; API (Bearer) clients are counted as `source: api`."""
    user = require_user()
    workspace = require_member_workspace(user, workspace_id)
    body = json_object(MAX_BODY)
    issue = create_issue(
        user, workspace, title=body.get("title"), description=body.get("description"),
        assignee_agent_id=body.get("assignee_agent_id"), source="api" if bearer_token() else "manual",
        platform=request.headers.get("X-Client-Platform", "")[:64],
    )
    return jsonify(issue.to_dict()), 201


@bp.get("/api/workspaces/<workspace_id>/issues")
def list_issues_api(workspace_id: str):
    """The workspace's issues."""
    user = require_user()
    workspace = require_member_workspace(user, workspace_id)
    return jsonify([i.to_dict() for i in issues_of(workspace)])


@bp.patch("/api/workspaces/<workspace_id>/issues/<issue_id>")
def update_issue_api(workspace_id: str, issue_id: str):
    """Reassign an issue: `{"assignee_agent_id": <agent id or null>}`; a new agent assignee gets a task."""
    user = require_user()
    workspace = member_workspace_or_api_404(user, workspace_id)
    issue = issue_in_workspace(workspace, issue_id)
    body = json_object(MAX_BODY)
    if "assignee_agent_id" in body:
        value = body["assignee_agent_id"]
        if value is not None and not isinstance(value, str):
            raise ApiError(400, "invalid assignee_agent_id")
        issue = assign_issue(workspace, issue, value)
    return jsonify(issue.to_dict())
