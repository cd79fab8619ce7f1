"""Workspace pages: creating a workspace (D10). The workspace home belongs to the issues area."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from multica.auth.identity import current_user, login_required_page
from multica.errors import ApiError
from multica.workspaces import bp
from multica.workspaces.service import create_workspace


@bp.get("/workspaces/new")
@login_required_page
def new_workspace_page():
    """The create-a-workspace form (where onboarded people without a workspace land, §8.9)."""
    return render_template("workspaces/new.html", form={}, error=None)


@bp.post("/workspaces/new")
@login_required_page
def create_workspace_page():
    """Create the workspace (the creator becomes its owner) and open it."""
    try:
        workspace = create_workspace(current_user(), request.form.get("name", ""), request.form.get("slug", ""))
    except ApiError as error:
        return make_response(render_template("workspaces/new.html", form=request.form, error=error.message), error.status)
    return redirect(url_for("issues.issues_page", slug=workspace.slug))
