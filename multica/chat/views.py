"""Chat API: sessions with an agent and their messages (D15.5). Member-only; non-members get 404."""

from __future__ import annotations

from flask import jsonify

from multica.auth.identity import require_user
from multica.chat import bp
from multica.chat.service import message_content, messages_of, send_message, session_in_workspace, sessions_of, start_session
from multica.inputs import client_platform, json_object
from multica.workspaces.service import member_workspace_or_api_404

MAX_BODY = 64 * 1024


@bp.post("/api/workspaces/<workspace_id>/chat-sessions")
def create_session_api(workspace_id: str):
    """Start a conversation: `{"agent_id"}` → 201 `{id, agent_id, created_at}`."""
    user = require_user()
    workspace = member_workspace_or_api_404(user, workspace_id)
    body = json_object(MAX_BODY)
    return jsonify(start_session(user, workspace, body.get("agent_id")).to_dict()), 201


@bp.get("/api/workspaces/<workspace_id>/chat-sessions")
def list_sessions_api(workspace_id: str):
    """The workspace's chat sessions, newest first."""
    workspace = member_workspace_or_api_404(require_user(), workspace_id)
    return jsonify([session.to_dict() for session in sessions_of(workspace)])


@bp.post("/api/workspaces/<workspace_id>/chat-sessions/<session_id>/messages")
def send_message_api(workspace_id: str, session_id: str):
    """Send `{"content"}`: the message is stored and the agent's task queued → 201 `{"message", "task"}`."""
    user = require_user()
    workspace = member_workspace_or_api_404(user, workspace_id)
    session = session_in_workspace(workspace, session_id)
    content = message_content(json_object(MAX_BODY))
    message, task = send_message(user, session, content, platform=client_platform())
    return jsonify(message=message.to_dict(), task=task.to_dict()), 201


@bp.get("/api/workspaces/<workspace_id>/chat-sessions/<session_id>/messages")
def list_messages_api(workspace_id: str, session_id: str):
    """The conversation in order, the agent's replies included."""
    workspace = member_workspace_or_api_404(require_user(), workspace_id)
    session = session_in_workspace(workspace, session_id)
    return jsonify([message.to_dict() for message in messages_of(session)])
