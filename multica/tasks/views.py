"""Task API: the daemon's claim/start/complete/fail (daemon token), and members' list, cancel and rerun (D15.1, D15.2).

Daemon calls authenticate with `Authorization: Bearer mdt_...` (no CSRF, like every Bearer `/api/`
call). Bodies are validated completely before the service is called, so a refused body stores and
records nothing (D14.9).
"""

from __future__ import annotations

from flask import jsonify, request

from multica.auth.identity import bearer_token, require_user
from multica.errors import ApiError
from multica.inputs import json_object, text_field, uuid_field
from multica.issues.service import issue_in_workspace
from multica.runtimes.service import daemon_token_for
from multica.tasks import bp
from multica.tasks.service import (
    cancel_task,
    claim_task,
    complete_task,
    fail_task,
    rerun_issue,
    start_task,
    tasks_of,
)
from multica.workspaces.service import member_workspace_or_api_404

MAX_BODY = 16 * 1024
MAX_FAILURE_REASON_BYTES = 64


def _task_response(task) -> dict:
    """A task answer: the task's fields at the top level and, as claim answers, under `task` too."""
    fields = task.to_dict()
    return {**fields, "task": fields}


def _daemon_token():
    """The daemon token of this request, or 401."""
    return daemon_token_for(bearer_token())


def agent_output(body: dict, key: str, *, required: bool = False) -> str:
    """An agent's output (`result`, `error`), stored whole.

    Output is whatever a CLI printed (ANSI colours included), so only what no database can hold is
    changed: NUL characters are dropped and lone surrogates replaced. The app-wide body cap bounds it.
    """
    value = body.get(key)
    if value is None:
        if required:
            raise ApiError(400, f"{key} is required")
        return ""
    if not isinstance(value, str):
        raise ApiError(400, f"invalid {key}")
    value = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if required and not value.strip():
        raise ApiError(400, f"{key} is required")
    return value


# ---- daemons ------------------------------------------------------------------------------------

@bp.post("/api/daemon/tasks/claim")
def claim_api():
    """Hand the runtime's oldest queued task to this daemon: 200 `{"task": ...}`, or 204 when none is queued."""
    token = _daemon_token()
    runtime_id = uuid_field(json_object(MAX_BODY), "runtime_id", required=True)
    task = claim_task(token, runtime_id)
    if task is None:
        return "", 204
    return jsonify(task=task.to_claim())


@bp.post("/api/daemon/tasks/<task_id>/start")
def start_api(task_id: str):
    """The daemon started running the task."""
    token = _daemon_token()
    json_object(MAX_BODY, optional=True)
    return jsonify(_task_response(start_task(token, task_id)))


@bp.post("/api/daemon/tasks/<task_id>/complete")
def complete_api(task_id: str):
    """The agent finished: `{"result": <its output>}` (result may be omitted)."""
    token = _daemon_token()
    body = json_object(None, optional=True)
    result = agent_output(body, "result")
    return jsonify(_task_response(complete_task(token, task_id, result)))


@bp.post("/api/daemon/tasks/<task_id>/fail")
def fail_api(task_id: str):
    """The agent failed: `{"error": <text>, "failure_reason": <canonical reason>?}`."""
    token = _daemon_token()
    body = json_object(None)
    error = agent_output(body, "error", required=True)
    reason = text_field(body, "failure_reason", MAX_FAILURE_REASON_BYTES)
    return jsonify(_task_response(fail_task(token, task_id, error, reason)))


# ---- members ------------------------------------------------------------------------------------

@bp.get("/api/workspaces/<workspace_id>/tasks")
def list_tasks_api(workspace_id: str):
    """The workspace's tasks, newest first; `?issue_id=` keeps one issue's."""
    workspace = member_workspace_or_api_404(require_user(), workspace_id)
    issue_id = None
    if request.args.get("issue_id"):
        issue_id = issue_in_workspace(workspace, request.args["issue_id"]).id
    return jsonify([task.to_dict() for task in tasks_of(workspace, issue_id)])


@bp.post("/api/workspaces/<workspace_id>/tasks/<task_id>/cancel")
def cancel_api(workspace_id: str, task_id: str):
    """Cancel a task that has not finished."""
    workspace = member_workspace_or_api_404(require_user(), workspace_id)
    json_object(MAX_BODY, optional=True)
    return jsonify(_task_response(cancel_task(workspace, task_id)))


@bp.post("/api/workspaces/<workspace_id>/issues/<issue_id>/rerun")
def rerun_api(workspace_id: str, issue_id: str):
    """Queue the issue's agent again (attempt + 1): 201 with the new task."""
    workspace = member_workspace_or_api_404(require_user(), workspace_id)
    issue = issue_in_workspace(workspace, issue_id)
    json_object(MAX_BODY, optional=True)
    return jsonify(_task_response(rerun_issue(workspace, issue))), 201
