"""Autopilot rules: creation, runs (manual, webhook, schedule) and how a run ends (D15.7, §6.2).

A run starts `running` and ends once, by one conditional update on its status: a `create_issue`
run ends as soon as its issue exists (the issue's own task then runs like any other), a
`run_agent` run ends with its task. `autopilot_run_*` are Prometheus-only events. The schedule
claims each due period with one conditional update of `autopilot.last_run_at`, so overlapping ticks
start at most one run per period.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa
from flask import Flask

from multica.agents.models import Agent
from multica.analytics import events
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.autopilots.models import (
    ACTIONS,
    CADENCES,
    COMPLETED,
    FAILED,
    RUNNING,
    SCHEDULES,
    Autopilot,
    AutopilotRun,
    trigger_kind_for,
)
from multica.db_utils import as_utc, parse_uuid, utcnow
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import choice_field, text_field
from multica.issues.service import create_issue
from multica.tasks.models import COMPLETED as TASK_COMPLETED
from multica.tasks.models import AgentTask
from multica.tasks.service import enqueue_task, task_finished
from multica.workspaces.models import Workspace

logger = logging.getLogger("multica.autopilots")

MAX_NAME_BYTES = 100
MAX_PROMPT_BYTES = 20_000
MAX_SECRET_BYTES = 200


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def autopilot_input(workspace: Workspace, body: dict) -> dict:
    """A validated create body; every refusal is 400, an agent of another workspace included (D19.7)."""
    fields = {
        "name": text_field(body, "name", MAX_NAME_BYTES, required=True),
        "action": choice_field(body, "action", ACTIONS, required=True),
        "cadence": choice_field(body, "cadence", CADENCES, required=True),
        "prompt": text_field(body, "prompt", MAX_PROMPT_BYTES, multiline=True),
    }
    raw_agent = body.get("agent_id")
    if raw_agent in (None, ""):
        raise ApiError(400, "agent_id is required")
    agent_id = parse_uuid(raw_agent)
    agent = db.session.get(Agent, agent_id) if agent_id else None
    if agent_id is None:
        raise ApiError(400, "invalid agent_id")
    if agent is None or agent.workspace_id != workspace.id:
        raise ApiError(400, "agent not found")
    fields["agent"] = agent
    return fields


def create_autopilot(user: User, workspace: Workspace, fields: dict) -> tuple[Autopilot, str | None]:
    """Create the autopilot (a webhook one gets a secret, returned once), then emit `autopilot_created`."""
    secret = secrets.token_urlsafe(32) if fields["cadence"] == "webhook" else None
    autopilot = Autopilot(
        workspace_id=workspace.id, agent_id=fields["agent"].id, creator_id=user.id, name=fields["name"], action=fields["action"],
        prompt=fields["prompt"], cadence=fields["cadence"], trigger_kind=trigger_kind_for(fields["cadence"]),
        webhook_secret_hash=_hash(secret) if secret else None, created_at=utcnow(),
    )
    db.session.add(autopilot)
    db.session.commit()
    record_event(events.autopilot_created(
        str(user.id), str(workspace.id), autopilot_id=str(autopilot.id), cadence=autopilot.cadence, trigger_kind=autopilot.trigger_kind,
    ))
    return autopilot, secret


def autopilots_of(workspace: Workspace) -> list[Autopilot]:
    """The workspace's autopilots, newest first."""
    return list(db.session.scalars(sa.select(Autopilot).where(Autopilot.workspace_id == workspace.id).order_by(Autopilot.created_at.desc())))


def autopilot_in_workspace(workspace: Workspace, raw_id: object) -> Autopilot:
    """The workspace's autopilot `raw_id`, or 404."""
    autopilot_id = parse_uuid(raw_id)
    autopilot = db.session.get(Autopilot, autopilot_id) if autopilot_id else None
    if autopilot is None or autopilot.workspace_id != workspace.id:
        raise ApiError(404, "autopilot not found")
    return autopilot


def runs_of(autopilot: Autopilot) -> list[AutopilotRun]:
    """The autopilot's runs, newest first."""
    return list(db.session.scalars(
        sa.select(AutopilotRun).where(AutopilotRun.autopilot_id == autopilot.id).order_by(AutopilotRun.started_at.desc())
    ))


# ---- runs ---------------------------------------------------------------------------------------

def _distinct_id(autopilot: Autopilot) -> str:
    """The autopilot's creator; an autopilot without one speaks for its agent."""
    return str(autopilot.creator_id) if autopilot.creator_id else f"agent:{autopilot.agent_id}"


def _run_labels(autopilot: Autopilot, run: AutopilotRun) -> dict:
    return {
        "autopilot_id": str(autopilot.id), "autopilot_run_id": str(run.id), "agent_id": str(autopilot.agent_id or uuid.UUID(int=0)),
        "trigger_source": run.trigger_source, "cadence": autopilot.cadence, "trigger_kind": autopilot.trigger_kind,
    }


def _finish_run(run_id: uuid.UUID, status: str, *, failure_reason: str | None = None, error_type: str | None = None) -> bool:
    """End a running run once; the transition that matched records the terminal event."""
    now = utcnow()
    row = db.session.execute(
        sa.update(AutopilotRun).where(AutopilotRun.id == run_id, AutopilotRun.status == RUNNING)
        .values(status=status, completed_at=now, failure_reason=failure_reason, error_type=error_type)
        .returning(AutopilotRun.id).execution_options(synchronize_session=False)
    ).first()
    db.session.commit()
    if row is None:
        return False
    run = db.session.get(AutopilotRun, run_id, populate_existing=True)
    autopilot = db.session.get(Autopilot, run.autopilot_id)
    started = as_utc(run.started_at)
    duration_ms = max(0, int((as_utc(run.completed_at) - started).total_seconds() * 1000)) if started else 0
    labels = _run_labels(autopilot, run)
    if status == COMPLETED:
        record_event(events.autopilot_run_completed(_distinct_id(autopilot), str(autopilot.workspace_id), duration_ms=duration_ms, **labels))
    else:
        record_event(events.autopilot_run_failed(
            _distinct_id(autopilot), str(autopilot.workspace_id), duration_ms=duration_ms,
            failure_reason=(failure_reason or "unknown")[:64], error_type=error_type or "autopilot_error", **labels,
        ))
    return True


def start_run(autopilot: Autopilot, trigger_source: str) -> AutopilotRun:
    """Start a run and carry out the autopilot's action; returns the run as it stands."""
    run = AutopilotRun(autopilot_id=autopilot.id, trigger_source=trigger_source, status=RUNNING, started_at=utcnow())
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    record_event(events.autopilot_run_started(_distinct_id(autopilot), str(autopilot.workspace_id), **_run_labels(autopilot, run)))
    agent = db.session.get(Agent, autopilot.agent_id) if autopilot.agent_id else None
    creator = db.session.get(User, autopilot.creator_id) if autopilot.creator_id else None
    if agent is None or creator is None:
        _finish_run(run_id, FAILED, failure_reason="agent_missing" if agent is None else "creator_missing", error_type="configuration")
    elif autopilot.action == "create_issue":
        _create_issue(autopilot, run_id, creator, agent)
    else:
        task = enqueue_task(autopilot.workspace_id, agent, prompt=autopilot.prompt or autopilot.name, autopilot_run_id=run_id)
        db.session.execute(sa.update(AutopilotRun).where(AutopilotRun.id == run_id).values(task_id=task.id))
        db.session.commit()
    return db.session.get(AutopilotRun, run_id, populate_existing=True)


def _create_issue(autopilot: Autopilot, run_id: uuid.UUID, creator: User, agent: Agent) -> None:
    """The `create_issue` action: an issue assigned to the agent (its task is queued), and the run completes."""
    workspace = db.session.get(Workspace, autopilot.workspace_id)
    try:
        issue = create_issue(
            creator, workspace, title=autopilot.name, description=autopilot.prompt, assignee_agent_id=str(agent.id),
            source="autopilot", platform="server", autopilot_run_id=run_id,
        )
    except ApiError as error:
        db.session.rollback()
        _finish_run(run_id, FAILED, failure_reason="issue_create_failed", error_type="autopilot_error")
        logger.warning("autopilots: could not create the issue (%s)", error.message)
        return
    db.session.execute(sa.update(AutopilotRun).where(AutopilotRun.id == run_id).values(issue_id=issue.id))
    db.session.commit()
    _finish_run(run_id, COMPLETED)


def _end_run_with_task(sender, task: AgentTask, **_) -> None:
    """A `run_agent` run ends with its task: completed, or failed with the task's reason."""
    if task.autopilot_run_id is None or task.issue_id is not None:
        return
    if task.status == TASK_COMPLETED:
        _finish_run(task.autopilot_run_id, COMPLETED)
    else:
        _finish_run(task.autopilot_run_id, FAILED, failure_reason=task.failure_reason or task.status, error_type="task_error")


def connect_task_hooks(app: Flask) -> None:
    """End `app`'s `run_agent` runs when their tasks finish."""
    task_finished.connect(_end_run_with_task, sender=app)


def run_from_webhook(raw_id: object, secret: str | None) -> AutopilotRun:
    """A webhook call: the autopilot's secret (compared by hash) starts a run."""
    autopilot_id = parse_uuid(raw_id)
    autopilot = db.session.get(Autopilot, autopilot_id) if autopilot_id else None
    if autopilot is None or autopilot.cadence != "webhook" or not autopilot.webhook_secret_hash:
        raise ApiError(404, "autopilot not found")
    if not secret:
        raise ApiError(401, "missing X-Autopilot-Secret")
    if len(secret.encode("utf-8", "replace")) > MAX_SECRET_BYTES or not hmac.compare_digest(_hash(secret), autopilot.webhook_secret_hash):
        raise ApiError(403, "invalid webhook secret")
    return start_run(autopilot, "webhook")


# ---- the schedule -------------------------------------------------------------------------------

def tick(now: datetime | None = None) -> int:
    """Start one run for every scheduled autopilot with a due period; returns how many started.

    A period is due when the last scheduled run (or the creation) is at least one cadence old. The
    claim is one conditional update of `last_run_at`, so a tick that overlaps another finds the
    period taken and starts nothing.
    """
    now = now or utcnow()
    started = 0
    for cadence, interval in SCHEDULES.items():
        due_before = now - interval
        candidates = list(db.session.scalars(
            sa.select(Autopilot.id).where(
                Autopilot.cadence == cadence, sa.func.coalesce(Autopilot.last_run_at, Autopilot.created_at) <= due_before,
            )
        ))
        for autopilot_id in candidates:
            claimed = db.session.execute(
                sa.update(Autopilot)
                .where(Autopilot.id == autopilot_id, sa.func.coalesce(Autopilot.last_run_at, Autopilot.created_at) <= due_before)
                .values(last_run_at=now)
                .returning(Autopilot.id)
                .execution_options(synchronize_session=False)
            ).first()
            db.session.commit()
            if claimed is None:
                continue
            start_run(db.session.get(Autopilot, autopilot_id, populate_existing=True), "schedule")
            started += 1
    return started
