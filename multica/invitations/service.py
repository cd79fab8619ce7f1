"""Invitation rules (SPEC §10): create, list, revoke, accept and decline, each check in the SPEC's order.

Once-only outcomes are decided by one conditional statement each (D2): the pending partial unique
index admits one pending invitation per address, and `UPDATE ... WHERE status = 'pending'` lets one
accept (or decline) win however many race. Events are recorded after the commit.
"""

from __future__ import annotations

import logging
import os
import uuid

import sqlalchemy as sa
from flask import current_app, request, url_for
from sqlalchemy.exc import IntegrityError

from multica.analytics import events
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.auth.service import mark_onboarded
from multica.db_utils import as_utc, insert_ignoring_conflicts, parse_uuid, rfc3339, utcnow
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import text_field
from multica.invitations import limiter
from multica.invitations.models import INVITABLE_ROLES, WorkspaceInvitation
from multica.workspaces.models import ROLES, Member, Workspace
from multica.workspaces.service import membership

logger = logging.getLogger("multica.invitations")

MAX_EMAIL_BYTES = 254
MANAGER_ROLES = ("owner", "admin")


# ---- workspace side ------------------------------------------------------------------------------

def member_workspace(user: User, raw_id: object) -> tuple[Workspace, Member]:
    """The workspace named by a path id and the caller's membership, or 404 `workspace not found`."""
    workspace_id = parse_uuid(raw_id)
    member = membership(user, workspace_id) if workspace_id else None
    if member is None:
        raise ApiError(404, "workspace not found")
    return db.session.get(Workspace, workspace_id), member


def managed_workspace(user: User, raw_id: object) -> Workspace:
    """The workspace when the caller is its owner or admin: 404 for a non-member, 403 for a plain member."""
    workspace, member = member_workspace(user, raw_id)
    if member.role not in MANAGER_ROLES:
        raise ApiError(403, "insufficient permissions")
    return workspace


def can_manage(member: Member | None) -> bool:
    """Owners and admins invite and revoke."""
    return member is not None and member.role in MANAGER_ROLES


def parse_invitation_input(body: dict) -> tuple[str, str]:
    """`(email, role)` from a create body: lowercased trimmed email, role defaulting to `member`."""
    email = text_field(body, "email", MAX_EMAIL_BYTES, required=True).lower()
    role = body.get("role")
    if role is not None and not isinstance(role, str):
        raise ApiError(400, "invalid member role")
    role = (role or "").strip() or "member"
    if role not in ROLES:
        raise ApiError(400, "invalid member role")
    if role not in INVITABLE_ROLES:
        raise ApiError(400, "cannot invite as owner")
    return email, role


def create_invitation(inviter: User, workspace: Workspace, email: str, role: str) -> WorkspaceInvitation:
    """Write a pending invitation (§10.2), then emit `team_invite_sent` and mail the invitee."""
    invitee = db.session.scalar(sa.select(User).where(User.email == email))
    if invitee is not None and membership(invitee, workspace.id) is not None:
        raise ApiError(409, "user is already a member")
    now = utcnow()
    try:
        db.session.execute(
            sa.update(WorkspaceInvitation)
            .where(
                WorkspaceInvitation.workspace_id == workspace.id, WorkspaceInvitation.invitee_email == email,
                WorkspaceInvitation.status == "pending", WorkspaceInvitation.expires_at <= now,
            )
            .values(status="expired", updated_at=now)
        )
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        logger.warning("invitations: could not expire past-due invitations", exc_info=True)
        raise ApiError(500, "failed to create invitation") from None
    pending = db.session.scalar(sa.select(WorkspaceInvitation.id).where(
        WorkspaceInvitation.workspace_id == workspace.id, WorkspaceInvitation.invitee_email == email,
        WorkspaceInvitation.status == "pending",
    ))
    if pending is not None:
        db.session.rollback()
        raise ApiError(409, "invitation already pending for this email")
    limiter.check_and_consume(str(inviter.id), str(workspace.id), email)
    invitation = WorkspaceInvitation(
        workspace_id=workspace.id, inviter_id=inviter.id, invitee_email=email,
        invitee_user_id=invitee.id if invitee else None, role=role, status="pending", created_at=now, updated_at=now,
    )
    db.session.add(invitation)
    try:
        db.session.commit()
    except IntegrityError:
        # Another request wrote the pending invitation for this address first.
        db.session.rollback()
        raise ApiError(409, "invitation already pending for this email") from None
    record_event(events.team_invite_sent(str(inviter.id), str(workspace.id), email))
    send_invitation_email(invitation, workspace, inviter)
    return invitation


def invitation_link(invitation: WorkspaceInvitation) -> str:
    """The absolute `/invite/<id>` link: on `MULTICA_APP_URL` when set, else on the requested host."""
    path = url_for("invitations.invite_page", invitation_id=invitation.id)
    base = (os.environ.get("MULTICA_APP_URL") or "").strip().rstrip("/") or request.url_root.rstrip("/")
    return base + path


def send_invitation_email(invitation: WorkspaceInvitation, workspace: Workspace, inviter: User) -> None:
    """Mail the invitee (SMTP, or the `[DEV]` line without it); a failure is logged, never raised."""
    if not workspace.name:
        return
    try:
        link = invitation_link(invitation)
        inviter_name = inviter.name or inviter.email
        current_app.extensions["mailer"].send_notice(
            invitation.invitee_email,
            f"{inviter_name} invited you to {workspace.name} on Multica",
            f"{inviter_name} ({inviter.email}) invited you to join the workspace {workspace.name} on Multica "
            f"as {'an admin' if invitation.role == 'admin' else 'a member'}.\n\n"
            f"Accept or decline the invitation here:\n{link}\n\n"
            "The invitation expires in 7 days. If you did not expect it, you can ignore this email.\n",
            dev_line=f"[DEV] Invitation for {invitation.invitee_email} to {workspace.name}: {link}",
        )
    except Exception:  # noqa: BLE001 - the invitation exists; a lost email must not fail the request
        logger.warning("invitations: invitation email failed", exc_info=True)


def workspace_invitations(workspace: Workspace) -> list[dict]:
    """Pending, unexpired invitations of the workspace, newest first, with the inviter's name and email."""
    rows = db.session.execute(
        sa.select(WorkspaceInvitation, User.name, User.email)
        .join(User, User.id == WorkspaceInvitation.inviter_id)
        .where(
            WorkspaceInvitation.workspace_id == workspace.id, WorkspaceInvitation.status == "pending",
            WorkspaceInvitation.expires_at > utcnow(),
        )
        .order_by(WorkspaceInvitation.created_at.desc())
    ).all()
    return [invitation.to_dict(inviter_name=name, inviter_email=email) for invitation, name, email in rows]


def revoke_invitation(workspace: Workspace, raw_id: object) -> None:
    """Delete a pending invitation of the workspace, or 404 `invitation not found` (§10.4)."""
    invitation_id = parse_uuid(raw_id)
    deleted = None
    if invitation_id is not None:
        deleted = db.session.execute(
            sa.delete(WorkspaceInvitation)
            .where(
                WorkspaceInvitation.id == invitation_id, WorkspaceInvitation.workspace_id == workspace.id,
                WorkspaceInvitation.status == "pending",
            )
            .returning(WorkspaceInvitation.id)
        ).first()
    db.session.commit()
    if deleted is None:
        raise ApiError(404, "invitation not found")


def workspace_members(workspace: Workspace) -> list[dict]:
    """The workspace's members with their names, emails and roles, oldest first."""
    rows = db.session.execute(
        sa.select(Member, User).join(User, User.id == Member.user_id)
        .where(Member.workspace_id == workspace.id).order_by(Member.created_at)
    ).all()
    return [member_dict(member, user) for member, user in rows]


def member_dict(member: Member, user: User) -> dict:
    """The member object of §10.5."""
    return {
        "id": str(member.id), "workspace_id": str(member.workspace_id), "user_id": str(member.user_id),
        "role": member.role, "created_at": rfc3339(member.created_at), "name": user.name, "email": user.email,
        "avatar_url": user.avatar_url,
    }


# ---- invitee side --------------------------------------------------------------------------------

def _is_mine(invitation: WorkspaceInvitation, user: User) -> bool:
    return invitation.invitee_email == user.email.lower() or invitation.invitee_user_id == user.id


def _mine_clause(user: User):
    return sa.or_(WorkspaceInvitation.invitee_user_id == user.id, WorkspaceInvitation.invitee_email == user.email.lower())


def has_pending_invitations(user: User) -> bool:
    """The user has a pending, unexpired invitation (by id or by email)."""
    query = sa.select(WorkspaceInvitation.id).where(
        WorkspaceInvitation.status == "pending", WorkspaceInvitation.expires_at > utcnow(), _mine_clause(user),
    ).limit(1)
    return db.session.scalar(query) is not None


def _enriched(invitation: WorkspaceInvitation, workspace: Workspace | None, inviter: User | None) -> dict:
    return invitation.to_dict(
        workspace_name=workspace.name if workspace else None,
        inviter_name=inviter.name if inviter else None,
        inviter_email=inviter.email if inviter else None,
    )


def my_invitations(user: User) -> list[dict]:
    """My pending, unexpired invitations, newest first, with workspace and inviter names (§10.3)."""
    rows = db.session.execute(
        sa.select(WorkspaceInvitation, Workspace, User)
        .join(Workspace, Workspace.id == WorkspaceInvitation.workspace_id)
        .join(User, User.id == WorkspaceInvitation.inviter_id)
        .where(WorkspaceInvitation.status == "pending", WorkspaceInvitation.expires_at > utcnow(), _mine_clause(user))
        .order_by(WorkspaceInvitation.created_at.desc())
    ).all()
    return [_enriched(invitation, workspace, inviter) for invitation, workspace, inviter in rows]


def my_invitation(user: User, raw_id: object) -> WorkspaceInvitation:
    """One invitation addressed to me, any status: 400 invalid id, 404 unknown, 403 someone else's."""
    invitation_id = parse_uuid(raw_id)
    if invitation_id is None:
        raise ApiError(400, "invalid invitation id")
    invitation = db.session.get(WorkspaceInvitation, invitation_id)
    if invitation is None:
        raise ApiError(404, "invitation not found")
    if not _is_mine(invitation, user):
        raise ApiError(403, "invitation does not belong to you")
    return invitation


def describe_invitation(invitation: WorkspaceInvitation) -> dict:
    """The invitation enriched with its workspace's name and its inviter's name and email."""
    return _enriched(invitation, db.session.get(Workspace, invitation.workspace_id), db.session.get(User, invitation.inviter_id))


def is_expired(invitation: WorkspaceInvitation) -> bool:
    """Past its `expires_at` (whatever its stored status)."""
    return as_utc(invitation.expires_at) <= utcnow()


def accept_invitation(user: User, raw_id: object) -> dict:
    """Join the workspace in one transaction (§10.5, D2), then emit; returns the member object.

    The invitation is marked accepted only if it is still pending, so of many concurrent accepts one
    wins and the rest are 400 `invitation is not pending` (D13 (11)). `onboarded_at` is set by a
    conditional UPDATE in the same transaction, which decides `onboarding_completed` once.
    """
    invitation = my_invitation(user, raw_id)
    if invitation.status != "pending":
        raise ApiError(400, "invitation is not pending")
    if is_expired(invitation):
        raise ApiError(410, "invitation has expired")
    invitation_id, workspace_id, role, invited_at = invitation.id, invitation.workspace_id, invitation.role, invitation.created_at
    now = utcnow()
    claimed = db.session.execute(
        sa.update(WorkspaceInvitation)
        .where(WorkspaceInvitation.id == invitation_id, WorkspaceInvitation.status == "pending")
        .values(status="accepted", updated_at=now)
        .returning(WorkspaceInvitation.id)
    ).first()
    if claimed is None:
        db.session.rollback()
        raise ApiError(400, "invitation is not pending")
    member_id = uuid.uuid4()
    inserted = insert_ignoring_conflicts(
        db.session, Member.__table__,
        {"id": member_id, "workspace_id": workspace_id, "user_id": user.id, "role": role, "created_at": now},
        ["workspace_id", "user_id"], [Member.__table__.c.id],
    )
    if inserted is None:
        db.session.rollback()
        raise ApiError(409, "you are already a member of this workspace")
    onboarded = mark_onboarded(user, now)
    db.session.commit()
    db.session.refresh(user)
    record_event(events.team_invite_accepted(str(user.id), str(workspace_id), as_utc(invited_at)))
    if onboarded is not None:
        record_event(events.onboarding_completed(
            str(user.id), "invite_accept", onboarded_at=as_utc(onboarded.onboarded_at),
            joined_cloud_waitlist=onboarded.cloud_waitlist_email is not None, workspace_id=str(workspace_id),
        ))
    return member_dict(db.session.get(Member, member_id), user)


def decline_invitation(user: User, raw_id: object) -> WorkspaceInvitation:
    """Mark my pending invitation declined (§10.6): the accept checks except expiry; no analytics."""
    invitation = my_invitation(user, raw_id)
    if invitation.status != "pending":
        raise ApiError(400, "invitation is not pending")
    declined = db.session.execute(
        sa.update(WorkspaceInvitation)
        .where(WorkspaceInvitation.id == invitation.id, WorkspaceInvitation.status == "pending")
        .values(status="declined", updated_at=utcnow())
        .returning(WorkspaceInvitation.id)
    ).first()
    db.session.commit()
    if declined is None:
        raise ApiError(400, "invitation is not pending")
    db.session.refresh(invitation)
    return invitation
