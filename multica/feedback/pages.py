"""The feedback page: the Help menu's Feedback item without JavaScript (SPEC §16, D10).

`GET /feedback[?workspace=<id>]` shows the form; `POST /feedback` (CSRF-protected) stores it with the
same rules as the API and redirects to `GET /feedback?sent=1` (POST/redirect/GET). Refusals render
the form again with the message inline and the API's status code.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, make_response, redirect, render_template, request, url_for

from multica.auth.identity import current_user, login_required_page
from multica.errors import ApiError
from multica.feedback import bp
from multica.feedback.service import MAX_URL_BYTES, Client, feedback_workspace, read_submission, submit_feedback


def _page(workspace, status: int = 200, *, url: str = "", message: str = "", error: str | None = None, sent: bool = False):
    """Render the feedback page, inside `workspace`'s shell when there is one."""
    back = url_for("issues.issues_page", slug=workspace.slug) if workspace else None
    return make_response(render_template(
        "feedback/feedback.html", workspace=workspace, url=url, message=message, error=error, sent=sent, back=back,
    ), status)


def _came_from() -> str:
    """The page the visitor opened the form from (a same-site referrer), stored as the feedback's url."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc != request.host or len(referrer.encode("utf-8")) > MAX_URL_BYTES:
        return ""
    return referrer


@bp.get("/feedback")
@login_required_page
def feedback_page():
    """The feedback form; `?workspace=<id>` attaches it to a workspace of mine (others are 404)."""
    raw_workspace = request.args.get("workspace", "")
    workspace = feedback_workspace(current_user(), raw_workspace) if raw_workspace else None
    if raw_workspace and workspace is None:
        abort(404)
    return _page(workspace, url=_came_from(), sent=request.args.get("sent") == "1")


@bp.post("/feedback")
@login_required_page
def submit_feedback_page():
    """Store the posted feedback, then redirect to the page with a thank-you (errors inline, 4xx)."""
    user = current_user()
    form = request.form
    body = {"message": form.get("message", ""), "url": form.get("url", ""), "workspace_id": form.get("workspace", "")}
    try:
        submission = read_submission(body, Client.from_headers(request.headers, platform="web"))
        submit_feedback(user, submission)
    except ApiError as error:
        workspace = feedback_workspace(user, body["workspace_id"])
        return _page(workspace, error.status, url=body["url"], message=body["message"], error=error.message)
    workspace_id = submission.workspace_id or None
    return redirect(url_for("feedback.feedback_page", workspace=workspace_id, sent="1"))
