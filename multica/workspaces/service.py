"""Workspace rules: creation, listing and membership checks (D14.1, D14.10)."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from flask import abort, current_app
from sqlalchemy.exc import IntegrityError

from multica.analytics import events
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.db_utils import parse_uuid
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import has_control_characters, utf8_length
from multica.workspaces.models import Member, Workspace

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?")
# First path segments the app itself uses: a workspace may not shadow them.
RESERVED_SLUGS = frozenset({
    "api", "auth", "login", "logout", "onboarding", "download", "downloads", "invite", "invitations", "workspaces",
    "static", "metrics", "healthz", "contact-sales", "settings", "new", "admin", "help", "feedback",
})
MAX_NAME_BYTES = 100


def issue_prefix_for(slug: str) -> str:
    """`acme-corp` → `ACMECORP` (letters only, at most 8), or `ISS`."""
    letters = re.sub(r"[^A-Za-z]", "", slug).upper()[:8]
    return letters or "ISS"


def slug_from_name(name: str) -> str:
    """A slug suggestion from a workspace name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48].strip("-")
    return slug if len(slug) >= 2 and slug not in RESERVED_SLUGS else ""


def validate_workspace_input(name: object, slug: object) -> tuple[str, str]:
    """Trimmed name and lowercased slug, or ApiError 400 with what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "name is required")
    name = name.strip()
    size = utf8_length(name)
    # PostgreSQL cannot store a NUL or a lone surrogate, and no control character belongs in a name.
    if size is None or has_control_characters(name):
        raise ApiError(400, "invalid name")
    if size > MAX_NAME_BYTES:
        raise ApiError(400, "name is too long")
    if slug is None or slug == "":
        slug = slug_from_name(name)
    if not isinstance(slug, str):
        raise ApiError(400, "invalid slug")
    slug = slug.strip().lower()
    if len(slug) < 2 or not SLUG.fullmatch(slug) or slug in RESERVED_SLUGS:
        raise ApiError(400, "invalid slug")
    return name, slug


def create_workspace(user: User, name: object, slug: object) -> Workspace:
    """Create the workspace with `user` as owner (one transaction), then emit `workspace_created`."""
    if current_app.config.get("DISABLE_WORKSPACE_CREATION") == "true":
        raise ApiError(403, "workspace creation is disabled")
    name, slug = validate_workspace_input(name, slug)
    workspace = Workspace(name=name, slug=slug, issue_prefix=issue_prefix_for(slug))
    db.session.add(workspace)
    try:
        db.session.flush()
        db.session.add(Member(workspace_id=workspace.id, user_id=user.id, role="owner"))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, "workspace slug already exists") from None
    record_event(events.workspace_created(str(user.id), str(workspace.id)))
    return workspace


class SlugTaken(ApiError):
    """The URL asked for is in use; `suggestion` is a free one to offer instead."""

    def __init__(self, slug: str, suggestion: str) -> None:
        super().__init__(409, "workspace slug already exists")
        self.slug = slug
        self.suggestion = suggestion
        self.sentence = f"The URL “{slug}” is already taken. “{suggestion}” is free: keep it, or choose another."


# Sentences for people (the forms), for the API's refusals of a workspace's name and URL.
FORM_SENTENCES = {
    "name is required": "Give the workspace a name.",
    "name is too long": f"That name is too long: keep it to {MAX_NAME_BYTES} characters (fewer for accented letters or emoji).",
    "invalid slug": "The URL can use lowercase letters, digits and dashes (2 to 48 of them), and not a word the app itself uses.",
    "workspace creation is disabled": "Creating workspaces is turned off on this server.",
}


def slug_is_free(slug: str) -> bool:
    """No workspace uses `slug` and the app does not reserve it."""
    if slug in RESERVED_SLUGS:
        return False
    return db.session.scalar(sa.select(Workspace.id).where(Workspace.slug == slug)) is None


def free_slug(base: str) -> str:
    """`base` when it is free, else the first free `base-2`, `base-3`, …; `base` is cut to leave room for the suffix."""
    base = base if len(base) >= 2 and SLUG.fullmatch(base) else "workspace"
    if slug_is_free(base):
        return base
    for number in range(2, 10_000):
        suffix = f"-{number}"
        candidate = base[: 48 - len(suffix)].rstrip("-") + suffix
        if slug_is_free(candidate):
            return candidate
    return f"workspace-{uuid.uuid4().hex[:8]}"


def create_workspace_from_form(user: User, name: object, slug: object) -> Workspace:
    """A form's workspace: an empty URL gets a free one made from the name; a taken URL raises SlugTaken.

    Other refusals are ApiErrors whose message is a sentence for the page (FORM_SENTENCES).
    """
    try:
        clean_name, _ = validate_workspace_input(name, "placeholder")
        wanted = slug.strip().lower() if isinstance(slug, str) else ""
        if not wanted:
            wanted = free_slug(slug_from_name(clean_name))
        try:
            return create_workspace(user, clean_name, wanted)
        except ApiError as error:
            if error.status != 409:
                raise
            raise SlugTaken(wanted, free_slug(wanted)) from None
    except SlugTaken:
        raise
    except ApiError as error:
        raise ApiError(error.status, FORM_SENTENCES.get(error.message, error.message)) from None


def workspaces_of(user: User) -> list[Workspace]:
    """The user's workspaces, oldest membership first."""
    return list(db.session.scalars(_member_workspaces(user)))


def _member_workspaces(user: User):
    """The query for the user's workspaces, oldest membership first (the one membership join)."""
    return (
        sa.select(Workspace).join(Member, Member.workspace_id == Workspace.id)
        .where(Member.user_id == user.id).order_by(Member.created_at, Workspace.created_at)
    )


def membership(user: User, workspace_id) -> Member | None:
    """The user's membership of the workspace, if any."""
    return db.session.scalar(sa.select(Member).where(Member.user_id == user.id, Member.workspace_id == workspace_id))


def require_member_workspace(user: User, raw_id: object, *, field: str = "workspace_id") -> Workspace:
    """The workspace named by `raw_id` if the user is a member: 400 for a malformed id, 403 otherwise."""
    workspace_id = parse_uuid(raw_id)
    if workspace_id is None:
        raise ApiError(400, f"invalid {field}")
    if membership(user, workspace_id) is None:
        raise ApiError(403, "you are not a member of this workspace")
    return db.session.get(Workspace, workspace_id)


def first_workspace(user: User) -> Workspace | None:
    """The user's oldest workspace membership."""
    return db.session.scalar(_member_workspaces(user).limit(1))


def workspace_by_slug_for(user: User, slug: str) -> Workspace | None:
    """The workspace with `slug` when the user is a member of it."""
    return db.session.scalar(_member_workspaces(user).where(Workspace.slug == slug))


def member_workspace_or_404(user: User, slug: str) -> Workspace:
    """The signed-in member's workspace with `slug` for a page, or 404 (other teams' slugs cannot be probed)."""
    workspace = workspace_by_slug_for(user, slug)
    if workspace is None:
        abort(404)
    return workspace


def member_workspace_or_api_404(user: User, raw_id: object) -> Workspace:
    """The workspace named by `raw_id` if the user is a member, else 404 `workspace not found` (D19.11).

    A malformed id, an unknown workspace and someone else's all answer alike, before any
    sub-resource is looked at, so the core-loop routes cannot be used to probe other workspaces.
    """
    workspace_id = parse_uuid(raw_id)
    if workspace_id is None or membership(user, workspace_id) is None:
        raise ApiError(404, "workspace not found")
    return db.session.get(Workspace, workspace_id)
