"""The runtimes page: a workspace's runtimes, its daemon tokens and how to run the daemon (D20.2).

Creating a token is POST/redirect/GET: the POST keeps the new token in the signed session cookie
(HttpOnly, this browser only) for the one GET that shows it, so a reload neither mints another nor
shows it again.
"""

from __future__ import annotations

import os
from datetime import datetime

from flask import make_response, redirect, render_template, request, url_for

from multica.auth.identity import current_user, login_required_page
from multica.db_utils import as_utc, utcnow
from multica.runtimes import bp
from multica.runtimes.service import (
    ONLINE,
    create_daemon_token,
    daemon_tokens_of,
    remember_token_once,
    revoke_daemon_token,
    take_token_once,
    workspace_runtimes,
)
from multica.web.public_config import daemon_urls
from multica.workspaces.service import member_workspace_or_404

DEFAULT_DAEMON_PACKAGE = "multica"


def seen_ago(moment: datetime | None, now: datetime | None = None) -> str:
    """`moment` for people: "just now", "42 seconds ago", "5 minutes ago", "3 hours ago", "2 days ago"."""
    if moment is None:
        return "never"
    seconds = max(0, int(((now or utcnow()) - as_utc(moment)).total_seconds()))
    if seconds < 5:
        return "just now"
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def daemon_server_url() -> str:
    """The URL a daemon should reach this site at: the configured public URL, else this request's."""
    return daemon_urls()[0] or request.url_root.rstrip("/")


@bp.get("/<slug>/runtimes")
@login_required_page
def runtimes_page(slug: str):
    """Runtimes with status and last heartbeat, daemon tokens, and the install instructions."""
    workspace = member_workspace_or_404(current_user(), slug)
    response = make_response(render_template(
        "runtimes/runtimes.html", workspace=workspace, runtimes=workspace_runtimes(workspace), online=ONLINE,
        tokens=daemon_tokens_of(workspace), new_token=take_token_once(workspace), seen_ago=seen_ago,
        server_url=daemon_server_url(), package=os.environ.get("MULTICA_DAEMON_PACKAGE", "").strip() or DEFAULT_DAEMON_PACKAGE,
    ))
    response.headers["Cache-Control"] = "no-store"  # the page may hold a token
    return response


@bp.post("/<slug>/runtimes/tokens")
@login_required_page
def create_token_page(slug: str):
    """Mint a daemon token, then redirect to the page that shows it once."""
    user = current_user()
    workspace = member_workspace_or_404(user, slug)
    _, token = create_daemon_token(user, workspace, "runtimes page")
    remember_token_once(workspace, token)
    return redirect(url_for("runtimes.runtimes_page", slug=workspace.slug) + "#install", 303)


@bp.post("/<slug>/runtimes/tokens/<token_id>/revoke")
@login_required_page
def revoke_token_page(slug: str, token_id: str):
    """Revoke a daemon token (its daemons get 401 from now on) and show the list again."""
    workspace = member_workspace_or_404(current_user(), slug)
    revoke_daemon_token(workspace, token_id)
    return redirect(url_for("runtimes.runtimes_page", slug=workspace.slug) + "#tokens", 303)
