"""The task queue's rules: queueing, the daemon's claim/start/complete/fail, cancel, rerun and the sweeper (D15.1–D15.4).

Every status change is one conditional `UPDATE ... WHERE status IN (...) RETURNING`, so a duplicate,
late or out-of-order report changes nothing, answers 409 and records nothing; whoever's statement
matched the row is the only one that records the transition's §6.3 metric. `issue_executed` is
decided the same way, by the update that sets `issue.first_executed_at` where it is still NULL.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from blinker import Namespace
from flask import Flask, current_app, has_app_context

from multica.agents.models import Agent
from multica.analytics import events
from multica.analytics.record import record_event
from multica.db_utils import advisory_lock, as_utc, parse_uuid, utcnow
from multica.errors import ApiError
from multica.extensions import db
from multica.issues.models import Issue
from multica.issues.service import issue_assigned, set_task_status_lookup
from multica.metrics.labels import CANONICAL_FAILURE_REASONS, normalize_failure_reason
from multica.runtimes.models import DaemonToken, Runtime
from multica.tasks.models import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    DISPATCHED,
    FAILED,
    QUEUED,
    RUNNING,
    AgentTask,
)
from multica.workspaces.models import Workspace

logger = logging.getLogger("multica.tasks")

DEFAULT_STALE_AFTER_SECONDS = 1800
OFFLINE = "offline"

_signals = Namespace()
# Sent (sender: the app) after a task's terminal status has committed, with `task`. Areas that queue
# tasks (chat, autopilots) listen to store the outcome; the queue knows nothing of them.
task_finished = _signals.signal("task-finished")


def _announce_finished(task: AgentTask) -> None:
    """Tell listeners that `task` reached its terminal status."""
    if not has_app_context():
        return
    try:
        task_finished.send(current_app._get_current_object(), task=task)
    except Exception:  # noqa: BLE001 - the transition committed; a listener's failure must not undo the report
        db.session.rollback()
        logger.exception("tasks: a task_finished listener failed", extra={"task_id": str(task.id)})


@dataclass(frozen=True)
class Labels:
    """The metric labels of a task: its source, and its runtime's mode and provider."""

    source: str
    runtime_mode: str
    provider: str


def task_source(*, issue_id=None, chat_session_id=None, autopilot_run_id=None) -> str:
    """The §6.3 task-source label: chat, autopilot_issue or issue for an issue task, autopilot, else other."""
    if chat_session_id:
        return "chat"
    if issue_id:
        return "autopilot_issue" if autopilot_run_id else "issue"
    if autopilot_run_id:
        return "autopilot"
    return "other"


def _labels_of(source: str, runtime_mode: str | None, provider: str | None) -> Labels:
    """A task's labels from its runtime's mode and provider (a deleted runtime reads as unknown)."""
    if not runtime_mode:
        return Labels(source, "unknown", "")
    return Labels(source, runtime_mode, provider)


def _labels(task: AgentTask) -> Labels:
    """The task's labels, read from its runtime now."""
    runtime = db.session.get(Runtime, task.runtime_id) if task.runtime_id else None
    return _labels_of(task.source, runtime.runtime_mode if runtime else None, runtime.provider if runtime else None)


def _task_metrics():
    """The app's `AgentTaskMetrics`, or None outside an app."""
    if not has_app_context():
        return None
    metrics = current_app.extensions.get("metrics")
    return metrics.tasks if metrics is not None else None


def _record(method: str, *args, **kwargs) -> None:
    """Call one typed recorder; metrics never break a request."""
    recorder = _task_metrics()
    if recorder is None:
        return
    try:
        getattr(recorder, method)(*args, **kwargs)
    except Exception:  # noqa: BLE001 - a metrics failure must not fail the transition that already committed
        logger.exception("tasks: could not record %s", method)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    """`end - start` in seconds, or None when either is missing."""
    start, end = as_utc(start), as_utc(end)
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


# ---- queueing -----------------------------------------------------------------------------------

def enqueue_task(
    workspace_id: uuid.UUID, agent: Agent, *, prompt: str, issue_id: uuid.UUID | None = None,
    chat_session_id: uuid.UUID | None = None, autopilot_run_id: uuid.UUID | None = None, attempt: int = 1,
    task_id: uuid.UUID | None = None,
) -> AgentTask:
    """Queue a task for the agent's runtime, commit (with whatever the caller added), and count it as enqueued."""
    task = AgentTask(
        id=task_id or uuid.uuid4(), workspace_id=workspace_id, agent_id=agent.id, runtime_id=agent.runtime_id, issue_id=issue_id,
        chat_session_id=chat_session_id, autopilot_run_id=autopilot_run_id, prompt=prompt, attempt=max(1, attempt),
        source=task_source(issue_id=issue_id, chat_session_id=chat_session_id, autopilot_run_id=autopilot_run_id),
        status=QUEUED, created_at=utcnow(),
    )
    db.session.add(task)
    db.session.commit()
    labels = _labels(task)
    _record("record_enqueued", labels.source, labels.runtime_mode)
    return task


def issue_prompt(issue: Issue) -> str:
    """What the agent is asked to do: the issue's title, then its description."""
    return f"{issue.title}\n\n{issue.description}".strip() if issue.description else issue.title


def queue_issue_task(issue: Issue, agent: Agent) -> AgentTask:
    """Queue the agent's task for an issue; the attempt follows the issue's latest one.

    An issue an autopilot run created keeps that run's id on its tasks (source `autopilot_issue`).
    """
    previous = db.session.scalar(sa.select(sa.func.max(AgentTask.attempt)).where(AgentTask.issue_id == issue.id)) or 0
    return enqueue_task(
        issue.workspace_id, agent, prompt=issue_prompt(issue), issue_id=issue.id, autopilot_run_id=issue.autopilot_run_id,
        attempt=previous + 1,
    )


def rerun_issue(workspace: Workspace, issue: Issue) -> AgentTask:
    """Ask the issue's agent again (attempt + 1), whatever state the earlier tasks are in."""
    agent = db.session.get(Agent, issue.assignee_agent_id) if issue.assignee_agent_id else None
    if agent is None or agent.workspace_id != workspace.id:
        raise ApiError(409, "issue has no agent assignee")
    return queue_issue_task(issue, agent)


def _on_issue_assigned(sender, issue: Issue, agent: Agent, **_) -> None:
    """An issue got an agent assignee: queue that agent's task."""
    queue_issue_task(issue, agent)


def latest_task_statuses(issue_ids: list) -> dict:
    """issue id -> the status of its newest task, for the issue list."""
    if not issue_ids:
        return {}
    ranked = (
        sa.select(
            AgentTask.issue_id, AgentTask.status,
            sa.func.row_number().over(partition_by=AgentTask.issue_id, order_by=(AgentTask.created_at.desc(), AgentTask.attempt.desc())).label("rank"),
        )
        .where(AgentTask.issue_id.in_(issue_ids))
        .subquery()
    )
    rows = db.session.execute(sa.select(ranked.c.issue_id, ranked.c.status).where(ranked.c.rank == 1))
    return {row.issue_id: row.status for row in rows}


def connect_issue_hooks(app: Flask) -> None:
    """Queue a task whenever one of `app`'s issues gets an agent, and show task status on the issue list."""
    issue_assigned.connect(_on_issue_assigned, sender=app)
    set_task_status_lookup(app, latest_task_statuses)


# ---- reading ------------------------------------------------------------------------------------

def tasks_of(workspace: Workspace, issue_id: uuid.UUID | None = None) -> list[AgentTask]:
    """The workspace's tasks (or one issue's), newest first."""
    query = sa.select(AgentTask).where(AgentTask.workspace_id == workspace.id)
    if issue_id is not None:
        query = query.where(AgentTask.issue_id == issue_id)
    return list(db.session.scalars(query.order_by(AgentTask.created_at.desc(), AgentTask.attempt.desc())))


def task_in_workspace(workspace_id: uuid.UUID, raw_id: object) -> AgentTask:
    """The task with id `raw_id` in the workspace, or 404 `task not found` (malformed ids included)."""
    task_id = parse_uuid(raw_id)
    task = db.session.get(AgentTask, task_id) if task_id else None
    if task is None or task.workspace_id != workspace_id:
        raise ApiError(404, "task not found")
    return task


# ---- transitions --------------------------------------------------------------------------------

def _writer_turn_on_sqlite() -> None:
    """On SQLite, take the write lock before a transition's first statement.

    Two SQLite transactions that both read and then try to write can fail at once with "database is
    locked" instead of waiting; `BEGIN IMMEDIATE` makes them queue. PostgreSQL needs nothing here:
    its row locks and the conditional updates decide.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        advisory_lock(db.session, "tasks")


_TASKS = AgentTask.__table__
_RUNTIMES = Runtime.__table__


def _of_runtime(column: sa.Column):
    """`column` of the task's runtime, as a correlated subquery for a RETURNING clause."""
    return (
        sa.select(column).where(_RUNTIMES.c.id == _TASKS.c.runtime_id)
        .correlate(_TASKS).scalar_subquery().label(f"labels_{column.name}")
    )


# The metric labels ride on the transition's RETURNING: no second round trip for the runtime.
_RUNTIME_MODE = _of_runtime(_RUNTIMES.c.runtime_mode)
_PROVIDER = _of_runtime(_RUNTIMES.c.provider)

_RUNTIME_OF_WORKSPACE = sa.select(_RUNTIMES.c.id).where(
    _RUNTIMES.c.id == sa.bindparam("runtime_id"), _RUNTIMES.c.workspace_id == sa.bindparam("workspace_id")
)


def _moved(row) -> tuple[AgentTask, Labels]:
    """The task as the transition left it (detached: nothing more is read) and its labels."""
    fields = row._mapping
    task = AgentTask(**{column.name: fields[column.name] for column in _TASKS.c})
    return task, _labels_of(task.source, fields["labels_runtime_mode"], fields["labels_provider"])


@lru_cache(maxsize=32)
def _update_statement(from_statuses: tuple[str, ...], columns: tuple[str, ...], by_workspace: bool, oldest: bool):
    """The conditional UPDATE of one transition, built once per shape; a call only binds values.

    `oldest` targets the runtime's oldest queued task (the claim) instead of a task id.
    """
    if oldest:
        target = (
            sa.select(_TASKS.c.id)
            .where(_TASKS.c.runtime_id == sa.bindparam("b_runtime_id"), _TASKS.c.status == QUEUED)
            .order_by(_TASKS.c.created_at, _TASKS.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    else:
        target = sa.bindparam("b_task_id", type_=_TASKS.c.id.type)
    conditions = [_TASKS.c.id == target, _TASKS.c.status.in_(from_statuses)]
    if by_workspace:
        conditions.append(_TASKS.c.workspace_id == sa.bindparam("b_workspace_id", type_=_TASKS.c.workspace_id.type))
    values = {name: sa.bindparam(f"new_{name}", type_=_TASKS.c[name].type) for name in columns}
    return sa.update(_TASKS).where(*conditions).values(values).returning(*_TASKS.c, _RUNTIME_MODE, _PROVIDER)


def _transition(
    task_id: uuid.UUID | None, from_statuses: tuple[str, ...], *, workspace_id: uuid.UUID | None = None,
    runtime_id: uuid.UUID | None = None, **values
) -> tuple[AgentTask, Labels] | None:
    """Move the task on if it is still in one of `from_statuses` (and in the workspace, when given).

    With `runtime_id` instead of a task id, the runtime's oldest queued task is the one moved. One
    conditional `UPDATE ... RETURNING`: the moved row and its labels if this call did it, else None.
    """
    _writer_turn_on_sqlite()
    columns = tuple(sorted(values))
    statement = _update_statement(from_statuses, columns, workspace_id is not None, runtime_id is not None)
    parameters = {f"new_{name}": values[name] for name in columns}
    if runtime_id is not None:
        parameters["b_runtime_id"] = runtime_id
    else:
        parameters["b_task_id"] = task_id
    if workspace_id is not None:
        parameters["b_workspace_id"] = workspace_id
    row = db.session.execute(statement, parameters).first()
    return _moved(row) if row is not None else None


def _refuse(workspace_id: uuid.UUID, task_id: uuid.UUID | None, message: str):
    """Why a transition matched nothing: 404 for a task that is not the workspace's, else 409 `message`."""
    db.session.rollback()
    task_in_workspace(workspace_id, task_id)
    raise ApiError(409, message)


def claim_task(token: DaemonToken, raw_runtime_id: uuid.UUID) -> AgentTask | None:
    """Dispatch the runtime's oldest queued task to this caller, or None when nothing is queued.

    The oldest row is picked with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent claimers
    take different rows instead of queueing on one; SQLite serialises writers, and the outer
    `status = 'queued'` condition makes the update a no-op for anyone who lost the race.
    """
    runtime = db.session.execute(_RUNTIME_OF_WORKSPACE, {"runtime_id": raw_runtime_id, "workspace_id": token.workspace_id}).first()
    if runtime is None:
        raise ApiError(404, "runtime not found")
    moved = _transition(None, (QUEUED,), runtime_id=runtime.id, status=DISPATCHED, dispatched_at=utcnow())
    db.session.commit()
    if moved is None:
        return None
    task, labels = moved
    _record("record_dispatched", str(task.id), labels.source, labels.runtime_mode, once=True)
    return task


def start_task(token: DaemonToken, raw_task_id: object) -> AgentTask:
    """dispatched → running; the issue moves to `in_progress`."""
    task_id = parse_uuid(raw_task_id)
    moved = task_id and _transition(task_id, (DISPATCHED,), workspace_id=token.workspace_id, status=RUNNING, started_at=utcnow())
    if not moved:
        _refuse(token.workspace_id, task_id, "task is not dispatched")
    task, labels = moved
    if task.issue_id:
        db.session.execute(
            sa.update(Issue).where(Issue.id == task.issue_id, Issue.status != "in_progress")
            .values(status="in_progress", updated_at=utcnow()).execution_options(synchronize_session=False)
        )
    db.session.commit()
    _record("record_started", labels.source, labels.runtime_mode, labels.provider)
    return task


def _record_terminal(task: AgentTask, labels: Labels) -> None:
    """The terminal counter, the three histograms (spans that exist) and the in-progress gauge."""
    dispatched = task.dispatched_at is not None
    _record(
        "record_terminal", str(task.id), labels.source, labels.runtime_mode, task.status,
        queue_wait_seconds=_seconds(task.created_at, task.dispatched_at),
        run_seconds=_seconds(task.started_at, task.completed_at),
        # A queued task that was cancelled never waited for anything: only its terminal count moves.
        total_seconds=_seconds(task.created_at, task.completed_at) if dispatched or task.status != CANCELLED else None,
        attempt=task.attempt, dispatched=dispatched,
    )
    if task.status == FAILED:
        _record("record_failed", labels.source, labels.runtime_mode, task.failure_reason)


def _settle_issue_after_failure(issue_id: uuid.UUID | None, task_id: uuid.UUID) -> None:
    """An issue whose running task ended without success goes back to `todo`, unless another task still runs."""
    if not issue_id:
        return
    others_running = sa.exists().where(AgentTask.issue_id == issue_id, AgentTask.id != task_id, AgentTask.status == RUNNING)
    db.session.execute(
        sa.update(Issue).where(Issue.id == issue_id, Issue.status == "in_progress", ~others_running)
        .values(status="todo", updated_at=utcnow()).execution_options(synchronize_session=False)
    )


def complete_task(token: DaemonToken, raw_task_id: object, result: str) -> AgentTask:
    """running → completed with the agent's output; the issue is `done` and, the first time, executed."""
    task_id = parse_uuid(raw_task_id)
    now = utcnow()
    moved = task_id and _transition(
        task_id, (RUNNING,), workspace_id=token.workspace_id, status=COMPLETED, result=result, completed_at=now
    )
    if not moved:
        _refuse(token.workspace_id, task_id, "task is not running")
    task, labels = moved
    first = None
    if task.issue_id:
        # The once-only decision (D2, §5.3): only the completion that finds first_executed_at NULL emits.
        first = db.session.execute(
            sa.update(Issue).where(Issue.id == task.issue_id, Issue.first_executed_at.is_(None))
            .values(first_executed_at=now)
            .returning(Issue.creator_id, Issue.workspace_id)
            .execution_options(synchronize_session=False)
        ).first()
        db.session.execute(
            sa.update(Issue).where(Issue.id == task.issue_id).values(status="done", updated_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    _record_terminal(task, labels)
    if first is not None:
        _emit_issue_executed(task, labels, creator_id=first.creator_id, workspace_id=first.workspace_id)
    _announce_finished(task)
    return task


def _emit_issue_executed(task: AgentTask, labels: Labels, *, creator_id, workspace_id) -> None:
    """`issue_executed` (§5.3) for the task that executed its issue first."""
    if task.agent_id is None:
        logger.warning("tasks: issue executed by a deleted agent; issue_executed not emitted", extra={"task_id": str(task.id)})
        return
    run = _seconds(task.started_at, task.completed_at)
    duration_ms = int(run * 1000) if run is not None and run > 0 else 0
    if task.source == "chat":
        source = "chat"
    elif task.source in ("autopilot", "autopilot_issue"):
        source = "autopilot"
    else:
        source = "manual"
    distinct_id = str(creator_id) if creator_id else f"agent:{task.agent_id}"
    record_event(events.issue_executed(
        distinct_id, str(workspace_id), issue_id=str(task.issue_id), task_id=str(task.id), agent_id=str(task.agent_id),
        source=source, runtime_mode=labels.runtime_mode if labels.runtime_mode in ("local", "cloud") else "local",
        provider=labels.provider[:64] or "unknown", task_duration_ms=duration_ms,
    ))


def failure_reason_for(error: str, failure_reason: str) -> str:
    """The stored reason: a canonical Appendix A value when given, else the classifier's verdict on `error`."""
    if failure_reason:
        if failure_reason not in CANONICAL_FAILURE_REASONS:
            raise ApiError(400, "invalid failure_reason")
        return failure_reason
    return normalize_failure_reason(error)


def _fail(
    task_id: uuid.UUID, error: str, reason: str, from_statuses: tuple[str, ...], *, workspace_id: uuid.UUID | None = None
) -> AgentTask | None:
    """Fail the task if it is still in `from_statuses`; commit and record when this call did it."""
    moved = _transition(
        task_id, from_statuses, workspace_id=workspace_id, status=FAILED, error=error, failure_reason=reason,
        completed_at=utcnow(),
    )
    if moved is None:
        db.session.rollback()
        return None
    task, labels = moved
    _settle_issue_after_failure(task.issue_id, task.id)
    db.session.commit()
    _record_terminal(task, labels)
    _announce_finished(task)
    return task


def fail_task(token: DaemonToken, raw_task_id: object, error: str, failure_reason: str = "") -> AgentTask:
    """dispatched or running → failed, with the error text whole and a coarse reason."""
    task_id = parse_uuid(raw_task_id)
    reason = failure_reason_for(error, failure_reason)
    task = task_id and _fail(task_id, error, reason, (DISPATCHED, RUNNING), workspace_id=token.workspace_id)
    if not task:
        _refuse(token.workspace_id, task_id, "task is not dispatched or running")
    return task


def cancel_task(workspace: Workspace, raw_task_id: object) -> AgentTask:
    """A member stops a task that has not finished: any active status → cancelled."""
    task_id = parse_uuid(raw_task_id)
    moved = task_id and _transition(task_id, ACTIVE, workspace_id=workspace.id, status=CANCELLED, completed_at=utcnow())
    if not moved:
        _refuse(workspace.id, task_id, "task is not queued, dispatched or running")
    task, labels = moved
    _settle_issue_after_failure(task.issue_id, task.id)
    db.session.commit()
    _record_terminal(task, labels)
    _announce_finished(task)
    return task


# ---- the sweeper --------------------------------------------------------------------------------

def sweep_tasks(stale_after_seconds: float = DEFAULT_STALE_AFTER_SECONDS, *, now: datetime | None = None) -> dict[str, int]:
    """Fail active tasks whose runtime is offline (`runtime_offline`) and dispatches older than the limit (`timeout`).

    Each task is failed by the same conditional update as a daemon's report, so a sweep racing a
    daemon (or another sweep) fails a task at most once.
    """
    cutoff = (now or utcnow()) - timedelta(seconds=stale_after_seconds)
    offline = list(db.session.scalars(
        sa.select(AgentTask.id).join(Runtime, Runtime.id == AgentTask.runtime_id)
        .where(AgentTask.status.in_(ACTIVE), Runtime.status == OFFLINE)
        .order_by(AgentTask.created_at)
    ))
    counts = {"runtime_offline": 0, "timeout": 0}
    for task_id in offline:
        if _fail(task_id, "the runtime went offline", "runtime_offline", ACTIVE):
            counts["runtime_offline"] += 1
    stale = list(db.session.scalars(
        sa.select(AgentTask.id)
        .where(AgentTask.status.in_((DISPATCHED, RUNNING)), AgentTask.dispatched_at < cutoff)
        .order_by(AgentTask.created_at)
    ))
    for task_id in stale:
        if _fail(task_id, f"no result {int(stale_after_seconds)}s after dispatch", "timeout", (DISPATCHED, RUNNING)):
            counts["timeout"] += 1
    return counts
