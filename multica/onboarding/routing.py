"""Where a person lands after signing in (SPEC §8.9): invitations, onboarding or their workspace.

Registered with auth through `set_post_auth_destination` by the app factory.
"""

from __future__ import annotations

import logging

from flask import url_for

from multica.auth.models import User
from multica.auth.routing import safe_next
from multica.extensions import db
from multica.invitations.service import has_pending_invitations
from multica.workspaces.service import first_workspace

logger = logging.getLogger("multica.onboarding")


def post_auth_destination(user: User, next_value: object = None) -> str:
    """A safe `next` wins; else invitations, onboarding, the first workspace, or a new one."""
    target = safe_next(next_value)
    if target:
        return target
    if user.onboarded_at is None:
        try:
            if has_pending_invitations(user):
                return url_for("invitations.invitations_page")
        except Exception:  # noqa: BLE001 - a failed lookup falls through to onboarding
            db.session.rollback()
            logger.warning("auth: invitation lookup failed", exc_info=True)
        return url_for("onboarding.onboarding_page")
    workspace = first_workspace(user)
    if workspace is None:
        return url_for("workspaces.new_workspace_page")
    return url_for("issues.issues_page", slug=workspace.slug)
