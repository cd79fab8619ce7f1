"""The onboarding flow's state (SPEC §9.5): what a run has chosen so far and where it goes next.

The pages carry the flow in the URL or the posted form (`workspace`, `runtime`, `agent` and the
sticky `waitlist=1` latch); these functions read it, decide the completion path and turn a posted
questionnaire form into the answers `validate_questionnaire` accepts. No HTTP in here: the pages
pass in the request's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from multica.agents.models import Agent
from multica.agents.service import agents_of
from multica.db_utils import parse_uuid
from multica.errors import ApiError
from multica.inputs import row_in_workspace
from multica.issues.service import issue_created_under
from multica.onboarding.service import MAX_OTHER_BYTES, SLOTS, is_complete, validate_questionnaire
from multica.runtimes.models import Runtime
from multica.workspaces.models import Workspace
from multica.workspaces.service import require_member_workspace

# Progress order (§9.5); Welcome comes before it and is not part of the indicator.
STEPS = ("questionnaire", "workspace", "runtime", "agent", "first_issue")


@dataclass(frozen=True)
class Flow:
    """What this onboarding run has chosen so far, as carried in the URL or the posted form."""

    workspace: Workspace | None = None
    runtime: Runtime | None = None
    agent: Agent | None = None
    waitlist: bool = False

    def params(self, **extra) -> dict:
        """Query parameters that carry the flow to the next URL (empty values left out)."""
        values = {
            "workspace": str(self.workspace.id) if self.workspace else None,
            "runtime": str(self.runtime.id) if self.runtime else None,
            "agent": str(self.agent.id) if self.agent else None,
            "waitlist": "1" if self.waitlist else None,
        }
        values.update(extra)
        return {key: value for key, value in values.items() if value}

    @property
    def completion_path(self) -> str:
        """§9.5: `full` with a runtime, else `cloud_waitlist` when the form was sent in this flow, else skipped."""
        if self.runtime is not None or self.agent is not None:
            return "full"
        return "cloud_waitlist" if self.waitlist else "runtime_skipped"


def read_flow(user, values: Mapping[str, str], *, strict: bool) -> Flow:
    """The flow named by `values`; `strict` (POSTs) turns a foreign or malformed workspace into 400/403.

    Leniently (GETs), a workspace the user is not a member of, and a runtime or agent outside the
    flow's workspace, count as no choice at all.
    """
    raw_workspace = values.get("workspace", "")
    workspace = None
    if raw_workspace:
        try:
            workspace = require_member_workspace(user, raw_workspace, field="workspace")
        except ApiError:
            if strict:
                raise
    runtime = _choice(Runtime, workspace, values.get("runtime", ""), noun="runtime")
    agent = _choice(Agent, workspace, values.get("agent", ""), noun="agent")
    return Flow(workspace, runtime, agent, values.get("waitlist") == "1")


def _choice(model, workspace: Workspace | None, raw_id: str, *, noun: str):
    """The `model` row with `raw_id` when it belongs to `workspace`; anything else counts as no choice."""
    if workspace is None or parse_uuid(raw_id) is None:
        return None
    try:
        return row_in_workspace(model, workspace, raw_id, noun=noun)
    except ApiError:
        return None


def questionnaire_from_form(form: Mapping[str, str]) -> tuple[dict, dict]:
    """The full questionnaire a form submits, and the per-question problems (§9.5 Continue rules).

    Each answer goes through `validate_questionnaire`, the rule the JSON API applies, so the form
    cannot store what the API would refuse; on top of it a form must answer every question and say
    something in the box of an "Other".
    """
    answers: dict = {}
    problems: dict = {}
    for slot, allowed in SLOTS.items():
        value = form.get(slot) or None
        other = (form.get(f"{slot}_other") or "").strip()
        # Choosing a concrete option resets that question's free text (§9.5).
        answer = {slot: value, f"{slot}_other": other if value == "other" and other else None}
        try:
            answers.update(validate_questionnaire(answer))
        except ApiError:
            answers.update({slot: value if value in allowed else None, f"{slot}_other": other or None})
            problems[slot] = f"Please keep it under {MAX_OTHER_BYTES} characters." if value in allowed else "Please pick one."
            continue
        if value is None:
            problems[slot] = "Please pick one."
        elif value == "other" and not other:
            problems[slot] = "Tell us a little more in the box."
    return answers, problems


def missing_step(step: str, flow: Flow) -> str | None:
    """The earlier step that a request for `step` must go back to, or None when `step` can be shown.

    The runtime, agent and first-issue steps need the flow's workspace; the agent step also needs
    its runtime (§9.5: it is only reached with one).
    """
    if step in ("runtime", "agent", "first_issue") and flow.workspace is None:
        return "workspace"
    if step == "agent" and flow.runtime is None:
        return "runtime"
    return None


def first_issue_key(user) -> str:
    """The idempotency key of a user's onboarding first issue: however often the form is sent, one issue."""
    return f"onboarding-first-issue:{user.id}"


def resume_point(user, workspaces: list[Workspace]) -> tuple[str | None, Flow]:
    """Where `/onboarding` without a step picks up: the first unfinished step (D20.4).

    Welcome (None) until the questionnaire is answered; then the workspace step until there is a
    workspace; then the runtime step of the first one until onboarding is complete; then the first
    issue, unless it was created already, which is `done` (the workspace itself).
    """
    if not is_complete(user.onboarding_questionnaire):
        return None, Flow()
    if not workspaces:
        return "workspace", Flow()
    if user.onboarded_at is None:
        return "runtime", Flow(workspaces[0])
    workspace = workspaces[0]
    if issue_created_under(first_issue_key(user)) is not None:
        return "done", Flow(workspace)
    # A run that created an agent gives the first issue to it, as it would have before leaving.
    agent = next((agent for agent in agents_of(workspace) if agent.owner_id == user.id), None)
    return "first_issue", Flow(workspace, agent=agent)
