"""Invitation pages (D10)."""

from __future__ import annotations

from flask import render_template

from multica.auth.identity import login_required_page
from multica.invitations import bp


@bp.get("/invitations")
@login_required_page
def invitations_page():
    """Pending invitations (a placeholder until invitations are built: there are none to list)."""
    return render_template("invitations/invitations.html", invitations=[])
