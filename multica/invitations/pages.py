"""Invitation pages (D10): the workspace's members settings, my invitations and one invitation's page.

Every form is a plain CSRF-protected POST answered by a redirect (POST/redirect/GET); a refusal
re-renders the page with the message and the SPEC's 4xx status.
"""

from __future__ import annotations

from flask import abort, flash, get_flashed_messages, make_response, redirect, render_template, request, url_for

from multica.auth.identity import current_user, login_required_page
from multica.db_utils import parse_uuid
from multica.errors import ApiError
from multica.extensions import db
from multica.invitations import bp
from multica.invitations.service import (
    accept_invitation, can_manage, create_invitation, decline_invitation, describe_invitation, is_expired,
    my_invitation, my_invitations, parse_invitation_input, revoke_invitation, workspace_invitations, workspace_members,
)
from multica.workspaces.models import Workspace
from multica.workspaces.service import member_workspace_or_404, membership, workspaces_of


# ---- /<slug>/settings/members ----------------------------------------------------------------------

def _members_response(workspace: Workspace, status: int = 200, *, error: str | None = None, form: dict | None = None):
    """The members settings page: members with roles; owners and admins also get the invite form."""
    manager = can_manage(membership(current_user(), workspace.id))
    return make_response(render_template(
        "invitations/members.html", workspace=workspace, workspaces=workspaces_of(current_user()),
        members=workspace_members(workspace), invitations=workspace_invitations(workspace) if manager else [],
        can_manage=manager, error=error, form=form or {}, notices=get_flashed_messages(),
    ), status)


def _managed_or_403(slug: str) -> Workspace:
    """The member's workspace for a change only owners and admins may make (403 page for the rest)."""
    workspace = member_workspace_or_404(current_user(), slug)
    if not can_manage(membership(current_user(), workspace.id)):
        abort(403)
    return workspace


@bp.get("/<slug>/settings/members")
@login_required_page
def members_page(slug: str):
    """The workspace's members, and for owners and admins the invite form and pending invitations."""
    return _members_response(member_workspace_or_404(current_user(), slug))


@bp.post("/<slug>/settings/members")
@login_required_page
def invite_from_page(slug: str):
    """The invite form: create the invitation, then show the page again with a notice."""
    workspace = _managed_or_403(slug)
    form = {"email": request.form.get("email", ""), "role": request.form.get("role", "")}
    try:
        email, role = parse_invitation_input(form)
        create_invitation(current_user(), workspace, email, role)
    except ApiError as error:
        return _members_response(workspace, error.status, error=error.message, form=form)
    flash(f"Invitation sent to {email}.")
    return redirect(url_for("invitations.members_page", slug=workspace.slug))


@bp.post("/<slug>/settings/members/invitations/<invitation_id>/revoke")
@login_required_page
def revoke_from_page(slug: str, invitation_id: str):
    """The revoke button: withdraw the pending invitation and show the page again."""
    workspace = _managed_or_403(slug)
    try:
        revoke_invitation(workspace, invitation_id)
    except ApiError as error:
        return _members_response(workspace, error.status, error=error.message)
    flash("Invitation revoked.")
    return redirect(url_for("invitations.members_page", slug=workspace.slug))


# ---- /invitations and /invite/<id> ------------------------------------------------------------------

@bp.get("/invitations")
@login_required_page
def invitations_page():
    """My pending invitations, each with accept and decline buttons."""
    return render_template("invitations/invitations.html", invitations=my_invitations(current_user()), notices=get_flashed_messages())


def _invite_response(invitation_id: str, status: int = 200, *, error: str | None = None):
    """One invitation's page, or a page that says why it cannot be answered, with its status code."""
    try:
        invitation = my_invitation(current_user(), invitation_id)
    except ApiError as refusal:
        state = "foreign" if refusal.status == 403 else "missing"
        return make_response(render_template("invitations/invite.html", state=state, invitation=None), 403 if state == "foreign" else 404)
    described = describe_invitation(invitation)
    workspace = db.session.get(Workspace, invitation.workspace_id)
    member = membership(current_user(), invitation.workspace_id) is not None
    if invitation.status == "pending" and is_expired(invitation) or invitation.status == "expired":
        state, status = "expired", 410
    elif invitation.status in ("accepted", "declined"):
        state, status = invitation.status, 409
    else:
        state = "pending"
    return make_response(render_template(
        "invitations/invite.html", state=state, invitation=described, target_workspace=workspace, is_member=member, error=error,
    ), status)


@bp.get("/invite/<invitation_id>")
@login_required_page
def invite_page(invitation_id: str):
    """The invitation's workspace and inviter with accept and decline (signed-out visitors sign in first)."""
    return _invite_response(invitation_id)


@bp.post("/invitations/<invitation_id>/accept")
@login_required_page
def accept_from_page(invitation_id: str):
    """Accept and land in the workspace."""
    try:
        member = accept_invitation(current_user(), invitation_id)
    except ApiError as error:
        return _invite_response(invitation_id, error.status, error=error.message)
    workspace = db.session.get(Workspace, parse_uuid(member["workspace_id"]))
    return redirect(url_for("issues.issues_page", slug=workspace.slug))


@bp.post("/invitations/<invitation_id>/decline")
@login_required_page
def decline_from_page(invitation_id: str):
    """Decline and go back to my invitations."""
    try:
        invitation = decline_invitation(current_user(), invitation_id)
    except ApiError as error:
        return _invite_response(invitation_id, error.status, error=error.message)
    workspace = db.session.get(Workspace, invitation.workspace_id)
    flash(f"You declined the invitation to {workspace.name}.")
    return redirect(url_for("invitations.invitations_page"))
