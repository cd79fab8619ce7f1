"""Where a person lands after signing in (SPEC §8.9)."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from multica.auth.models import User
from multica.db_utils import utcnow
from multica.extensions import db
from multica.invitations.models import WorkspaceInvitation
from multica.workspaces.models import Member, Workspace

logger = logging.getLogger("multica.auth")


def safe_next(value: object) -> str | None:
    """`value` when it is a same-site path: starts with `/`, not `//`, no backslash or control characters."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    return value


def has_pending_invitations(user: User) -> bool:
    """The user has a pending, unexpired invitation (by id or by email)."""
    query = sa.select(WorkspaceInvitation.id).where(
        WorkspaceInvitation.status == "pending",
        WorkspaceInvitation.expires_at > utcnow(),
        sa.or_(WorkspaceInvitation.invitee_user_id == user.id, WorkspaceInvitation.invitee_email == user.email),
    ).limit(1)
    return db.session.scalar(query) is not None


def first_workspace(user: User) -> Workspace | None:
    """The user's oldest workspace membership."""
    return db.session.scalar(
        sa.select(Workspace).join(Member, Member.workspace_id == Workspace.id).where(Member.user_id == user.id).order_by(Member.created_at).limit(1)
    )


def post_auth_destination(user: User, next_value: object = None) -> str:
    """A safe `next` wins; else invitations, onboarding, the first workspace, or a new one."""
    target = safe_next(next_value)
    if target:
        return target
    if user.onboarded_at is None:
        try:
            if has_pending_invitations(user):
                return "/invitations"
        except Exception:  # noqa: BLE001 - a failed lookup falls through to onboarding
            db.session.rollback()
            logger.warning("auth: invitation lookup failed", exc_info=True)
        return "/onboarding"
    workspace = first_workspace(user)
    return f"/{workspace.slug}/issues" if workspace else "/workspaces/new"
