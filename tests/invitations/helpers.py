"""Helpers shared by the invitation tests: invite through the API and reach stored rows."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from multica.db_utils import utcnow
from multica.extensions import db
from multica.invitations.models import WorkspaceInvitation
from multica.workspaces.models import Member


def invite(client, owner, workspace: dict, email: str, role: str | None = None):
    """POST an invitation as `owner`."""
    body = {"email": email} if role is None else {"email": email, "role": role}
    return client.post(f"/api/workspaces/{workspace['id']}/members", json=body, headers=owner.headers)


def add_member(app, user, workspace: dict, role: str = "member") -> None:
    """Make `user` a member of the workspace directly."""
    with app.app_context():
        db.session.add(Member(workspace_id=uuid.UUID(workspace["id"]), user_id=uuid.UUID(user.id), role=role))
        db.session.commit()


def invitation_rows(app, workspace: dict, email: str | None = None) -> list[WorkspaceInvitation]:
    """The workspace's invitation rows (optionally for one address), oldest first."""
    with app.app_context():
        query = sa.select(WorkspaceInvitation).where(WorkspaceInvitation.workspace_id == uuid.UUID(workspace["id"]))
        if email is not None:
            query = query.where(WorkspaceInvitation.invitee_email == email)
        rows = list(db.session.scalars(query.order_by(WorkspaceInvitation.created_at)))
        db.session.expunge_all()
        return rows


def age_invitation(app, invitation_id: str, *, created: timedelta | None = None, expires: timedelta | None = None) -> None:
    """Move an invitation's stored times: `created` and `expires` are offsets from now (negative = past)."""
    values = {}
    if created is not None:
        values["created_at"] = utcnow() + created
    if expires is not None:
        values["expires_at"] = utcnow() + expires
    with app.app_context():
        db.session.execute(sa.update(WorkspaceInvitation).where(WorkspaceInvitation.id == uuid.UUID(invitation_id)).values(**values))
        db.session.commit()


def members_of(app, workspace: dict) -> dict[str, str]:
    """`{user_id: role}` for the workspace."""
    with app.app_context():
        rows = db.session.execute(sa.select(Member.user_id, Member.role).where(Member.workspace_id == uuid.UUID(workspace["id"]))).all()
        return {str(user_id): role for user_id, role in rows}
