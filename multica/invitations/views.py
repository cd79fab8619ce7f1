"""Invitation API (SPEC §10.2–§10.6, Appendix B)."""

from __future__ import annotations

from flask import Response, jsonify

from multica.auth.identity import require_user
from multica.inputs import json_object
from multica.invitations import bp
from multica.invitations.limiter import InvitationLimiterUnavailable, InvitationRateLimited
from multica.invitations.service import (
    accept_invitation, create_invitation, decline_invitation, describe_invitation, managed_workspace,
    member_workspace, my_invitation, my_invitations, parse_invitation_input, revoke_invitation, workspace_invitations,
)

MAX_BODY = 16 * 1024


@bp.errorhandler(InvitationRateLimited)
@bp.errorhandler(InvitationLimiterUnavailable)
def limiter_refusal(error):
    """The limiter's answers carry a `code` (and the wait) beside the message."""
    response = jsonify(error.body)
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


@bp.post("/api/workspaces/<workspace_id>/members")
def create_invitation_api(workspace_id: str):
    """Invite someone by email (owner or admin); 201 with the invitation."""
    user = require_user()
    workspace = managed_workspace(user, workspace_id)
    email, role = parse_invitation_input(json_object(MAX_BODY))
    invitation = create_invitation(user, workspace, email, role)
    return jsonify(invitation.to_dict()), 201


@bp.get("/api/workspaces/<workspace_id>/invitations")
def list_workspace_invitations_api(workspace_id: str):
    """The workspace's pending invitations (any member)."""
    user = require_user()
    workspace, _ = member_workspace(user, workspace_id)
    return jsonify(workspace_invitations(workspace))


@bp.delete("/api/workspaces/<workspace_id>/invitations/<invitation_id>")
def revoke_invitation_api(workspace_id: str, invitation_id: str):
    """Withdraw a pending invitation (owner or admin); 204."""
    user = require_user()
    revoke_invitation(managed_workspace(user, workspace_id), invitation_id)
    return Response(status=204)


@bp.get("/api/invitations")
def my_invitations_api():
    """The caller's pending invitations."""
    return jsonify(my_invitations(require_user()))


@bp.get("/api/invitations/<invitation_id>")
def get_invitation_api(invitation_id: str):
    """One of the caller's invitations, in any status."""
    return jsonify(describe_invitation(my_invitation(require_user(), invitation_id)))


@bp.post("/api/invitations/<invitation_id>/accept")
def accept_invitation_api(invitation_id: str):
    """Join the workspace; 200 with the new member."""
    return jsonify(accept_invitation(require_user(), invitation_id))


@bp.post("/api/invitations/<invitation_id>/decline")
def decline_invitation_api(invitation_id: str):
    """Turn the invitation down; 204."""
    decline_invitation(require_user(), invitation_id)
    return Response(status=204)
