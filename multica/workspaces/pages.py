"""Workspace pages: creating a workspace, the workspace root and settings, and the shell every
`/<slug>/…` page renders in (D10, D20.1). The workspace home belongs to the issues area."""

from __future__ import annotations

import logging

from flask import make_response, redirect, render_template, request, url_for

from multica.auth.identity import current_user, login_required_page
from multica.errors import ApiError
from multica.extensions import db
from multica.workspaces import bp
from multica.workspaces.navigation import workspace_nav
from multica.workspaces.service import (
    SlugTaken,
    create_workspace_from_form,
    first_workspace,
    member_workspace_or_404,
    workspaces_of,
)

logger = logging.getLogger("multica.workspaces")


@bp.app_context_processor
def shell_context() -> dict:
    """What the shell templates need: the nav registry, my workspaces and where the logo leads."""
    return {"workspace_nav": workspace_nav, "shell_workspaces": _my_workspaces, "shell_user": current_user, "home_href": home_href}


def _my_workspaces() -> list:
    """The signed-in user's workspaces, for the switcher."""
    user = current_user()
    return workspaces_of(user) if user is not None else []


def home_href() -> str:
    """The logo's target: a signed-in user's (first) workspace, else the landing page."""
    try:
        user = current_user()
        workspace = first_workspace(user) if user is not None and user.onboarded_at is not None else None
    except Exception:  # noqa: BLE001 - the logo must render even on an error page during an outage
        db.session.rollback()
        logger.warning("workspaces: could not resolve the home link", exc_info=True)
        return "/"
    return url_for("issues.issues_page", slug=workspace.slug) if workspace is not None else "/"


@bp.get("/workspaces/new")
@login_required_page
def new_workspace_page():
    """The create-a-workspace form (where onboarded people without a workspace land, §8.9)."""
    return render_template("workspaces/new.html", form={}, error=None)


@bp.post("/workspaces/new")
@login_required_page
def create_workspace_page():
    """Create the workspace (the creator becomes its owner) and open it; a taken URL comes back with a free one."""
    form = request.form.to_dict()
    try:
        workspace = create_workspace_from_form(current_user(), form.get("name", ""), form.get("slug", ""))
    except SlugTaken as error:
        form["slug"] = error.suggestion
        return make_response(render_template("workspaces/new.html", form=form, error=error.sentence), error.status)
    except ApiError as error:
        return make_response(render_template("workspaces/new.html", form=form, error=error.message), error.status)
    return redirect(url_for("issues.issues_page", slug=workspace.slug))


@bp.get("/<slug>/settings")
@login_required_page
def settings_page(slug: str):
    """The workspace's settings: its name and URL, and where its members and runtimes are managed."""
    workspace = member_workspace_or_404(current_user(), slug)
    return render_template("workspaces/settings.html", workspace=workspace)
