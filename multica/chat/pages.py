"""The chat page: sessions with agents, the conversation, and a message form (D15.9).

Plain forms (POST, then a redirect back) work without JavaScript; `static/js/chat.js` refreshes
the conversation in place while a reply is pending.
"""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from multica.agents.service import agents_of
from multica.auth.identity import current_user, login_required_page
from multica.chat import bp
from multica.chat.service import message_content, messages_of, pending_task_ids, send_message, session_in_workspace, sessions_of, start_session
from multica.errors import ApiError
from multica.workspaces.service import member_workspace_or_404, workspaces_of


def _chat_response(workspace, session_id=None, status: int = 200, *, error: str | None = None, content: str = ""):
    """Render the chat page, with the chosen session (or the newest) open."""
    agents = agents_of(workspace)
    sessions = sessions_of(workspace)
    current = None
    if session_id:
        try:
            current = session_in_workspace(workspace, session_id)
        except ApiError:
            current = None
    elif sessions:
        current = sessions[0]
    messages = messages_of(current) if current else []
    return make_response(render_template(
        "chat/chat.html", workspace=workspace, workspaces=workspaces_of(current_user()), agents=agents,
        agent_names={agent.id: agent.name for agent in agents}, sessions=sessions, current=current, messages=messages,
        pending=bool(current and pending_task_ids(current)), error=error, content=content,
    ), status)


@bp.get("/<slug>/chat")
@login_required_page
def chat_page(slug: str):
    """Chat sessions and the open conversation."""
    workspace = member_workspace_or_404(current_user(), slug)
    return _chat_response(workspace, request.args.get("session"))


@bp.post("/<slug>/chat")
@login_required_page
def start_chat_page(slug: str):
    """Start a conversation with the chosen agent."""
    workspace = member_workspace_or_404(current_user(), slug)
    try:
        session = start_session(current_user(), workspace, request.form.get("agent_id"))
    except ApiError as error:
        return _chat_response(workspace, status=error.status, error=error.message)
    return redirect(url_for("chat.chat_page", slug=workspace.slug, session=session.id))


@bp.post("/<slug>/chat/<session_id>/messages")
@login_required_page
def send_message_page(slug: str, session_id: str):
    """Send a message; the agent's reply appears when its task completes."""
    workspace = member_workspace_or_404(current_user(), slug)
    content = request.form.get("content", "")
    try:
        session = session_in_workspace(workspace, session_id)
        send_message(current_user(), session, message_content({"content": content}), platform="web")
    except ApiError as error:
        return _chat_response(workspace, session_id, error.status, error=error.message, content=content)
    return redirect(url_for("chat.chat_page", slug=workspace.slug, session=session.id))
