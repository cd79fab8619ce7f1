"""Chat rules: sessions, messages that queue the agent's task, and replies stored from task results (D15.5, §5.3)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Flask

from multica.agents.models import Agent
from multica.analytics import events
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.chat.models import AGENT, USER, ChatMessage, ChatSession
from multica.db_utils import insert_ignoring_conflicts, parse_uuid, utcnow
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import row_in_workspace, text_field
from multica.runtimes.models import Runtime
from multica.tasks.models import COMPLETED, AgentTask
from multica.tasks.service import enqueue_task, task_finished
from multica.workspaces.models import Workspace

MAX_CONTENT_BYTES = 10_000


def start_session(user: User, workspace: Workspace, agent_id: object) -> ChatSession:
    """Open a conversation with one of the workspace's agents."""
    if agent_id in (None, ""):
        raise ApiError(400, "agent_id is required")
    agent = row_in_workspace(Agent, workspace, agent_id, noun="agent")
    session = ChatSession(workspace_id=workspace.id, agent_id=agent.id, creator_id=user.id)
    db.session.add(session)
    db.session.commit()
    return session


def sessions_of(workspace: Workspace) -> list[ChatSession]:
    """The workspace's chat sessions, newest first."""
    return list(db.session.scalars(
        sa.select(ChatSession).where(ChatSession.workspace_id == workspace.id).order_by(ChatSession.created_at.desc())
    ))


def session_in_workspace(workspace: Workspace, raw_id: object) -> ChatSession:
    """The workspace's session `raw_id`, or 404 `chat session not found`."""
    session_id = parse_uuid(raw_id)
    session = db.session.get(ChatSession, session_id) if session_id else None
    if session is None or session.workspace_id != workspace.id:
        raise ApiError(404, "chat session not found")
    return session


def message_content(body: dict) -> str:
    """The trimmed message text, 1–10 000 UTF-8 bytes."""
    return text_field(body, "content", MAX_CONTENT_BYTES, required=True, multiline=True)


def send_message(user: User, session: ChatSession, content: str, *, platform: str = "") -> tuple[ChatMessage, AgentTask]:
    """Store the member's message and queue the agent's task in one commit, then emit `chat_message_sent`.

    The event carries ids only, never the content (§5.3).
    """
    agent = db.session.get(Agent, session.agent_id) if session.agent_id else None
    if agent is None:
        raise ApiError(409, "the agent of this chat session no longer exists")
    task_id = uuid.uuid4()
    message = ChatMessage(session_id=session.id, role=USER, content=content, task_id=task_id, author_id=user.id, created_at=utcnow())
    db.session.add(message)
    task = enqueue_task(session.workspace_id, agent, prompt=content, chat_session_id=session.id, task_id=task_id)
    runtime = db.session.get(Runtime, agent.runtime_id) if agent.runtime_id else None
    record_event(events.chat_message_sent(
        str(user.id), str(session.workspace_id), chat_session_id=str(session.id), task_id=str(task.id), agent_id=str(agent.id),
        runtime_mode=runtime.runtime_mode if runtime else "", provider=runtime.provider if runtime else "", platform=platform,
    ))
    return message, task


def messages_of(session: ChatSession) -> list[ChatMessage]:
    """The conversation in order: each message, then the agent's reply to it."""
    return list(db.session.scalars(
        sa.select(ChatMessage).where(ChatMessage.session_id == session.id)
        .order_by(ChatMessage.created_at, sa.case((ChatMessage.role == USER, 0), else_=1))
    ))


def pending_task_ids(session: ChatSession) -> set:
    """Tasks of this session that have not finished yet (a reply may still come)."""
    return set(db.session.scalars(
        sa.select(AgentTask.id).where(AgentTask.chat_session_id == session.id, AgentTask.status.in_(("queued", "dispatched", "running")))
    ))


def _store_reply(sender, task: AgentTask, **_) -> None:
    """A chat task completed: its result becomes the agent's reply (once, whatever reports repeat)."""
    if task.chat_session_id is None or task.status != COMPLETED:
        return
    insert_ignoring_conflicts(
        db.session, ChatMessage.__table__,
        {"id": uuid.uuid4(), "session_id": task.chat_session_id, "role": AGENT, "content": task.result or "",
         "task_id": task.id, "created_at": utcnow()},
        ["task_id", "role"], [ChatMessage.id],
    )
    db.session.commit()


def connect_task_hooks(app: Flask) -> None:
    """Store replies when `app`'s chat tasks complete."""
    task_finished.connect(_store_reply, sender=app)
