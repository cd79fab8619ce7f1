"""Onboarding pages: the server-rendered steps of SPEC §9.5 (D10, D20.4).

The step lives in the URL (`/onboarding?step=runtime&workspace=<id>`); an entry without a step
starts at Welcome for a new run and otherwise resumes at the first unfinished step
(`flow.resume_point`). The flow's choices ride along as query or form fields (`workspace`,
`runtime`, `agent`, and the sticky `waitlist=1` latch), read and checked by `onboarding/flow.py`.
GETs only read; every state change is a POST to `/onboarding` naming its `intent`, which redirects
(POST/redirect/GET) or re-renders the step with an inline error and a 4xx, so the whole flow works
without JavaScript. `static/js/onboarding.js` only enhances it: button states, the live runtime
list and the frontend-only events of §9.6.
"""

from __future__ import annotations

import logging

from flask import make_response, redirect, render_template, request, url_for

from sqlalchemy.exc import SQLAlchemyError

from multica.agents.service import TEMPLATE_CHOICES, create_agent
from multica.auth.identity import current_user, login_required_page
from multica.errors import ApiError
from multica.extensions import db
from multica.issues.service import create_issue
from multica.onboarding import bp
from multica.onboarding.flow import (
    STEPS,
    Flow,
    first_issue_key,
    missing_step,
    questionnaire_from_form,
    read_flow,
    resume_point,
)
from multica.onboarding.service import (
    complete_onboarding,
    join_cloud_waitlist,
    recommend_template,
    update_questionnaire,
)
from multica.runtimes.service import ONLINE, create_daemon_token, remember_token_once, take_token_once, workspace_runtimes
from multica.web.public_config import daemon_urls
from multica.workspaces.service import SlugTaken, create_workspace_from_form, workspaces_of

logger = logging.getLogger("multica.onboarding")

STEP_LABELS = {"questionnaire": "About you", "workspace": "Workspace", "runtime": "Runtime", "agent": "Agent", "first_issue": "First issue"}
PANELS = ("cli", "waitlist")
NO_RUNTIME = (
    "Choose a runtime to continue. Start the daemon with the command above, refresh the list and pick its "
    "runtime, or skip for now."
)
# The three single-choice questions (§9.1 values), in the order they are asked.
QUESTIONS = (
    ("team_size", "Who will be using Multica?", (("solo", "Just me"), ("team", "My team"), ("other", "Other"))),
    ("role", "What best describes your role?", (
        ("developer", "Developer"), ("product_lead", "Product lead"), ("writer", "Writer"), ("founder", "Founder"), ("other", "Other"),
    )),
    ("use_case", "What would you like agents to help with first?", (
        ("coding", "Coding"), ("planning", "Planning"), ("writing_research", "Writing and research"), ("explore", "Just exploring"),
        ("other", "Other"),
    )),
)


def _flow(user, *, strict: bool) -> Flow:
    """The flow carried by this request's query or form."""
    return read_flow(user, request.values, strict=strict)


def step_url(step: str | None, flow: Flow = Flow(), **extra) -> str:
    """The URL of an onboarding step with the flow's choices carried along."""
    return url_for("onboarding.onboarding_page", **flow.params(step=step, **extra))


def _render(step: str, flow: Flow, status: int = 200, **context):
    """Render a step inside the onboarding shell."""
    user = current_user()
    workspaces = workspaces_of(user)
    # `onboarding_started` names the workspace chosen in this flow, else the first listed (§9.6).
    started = flow.workspace or (workspaces[0] if workspaces else None)
    response = make_response(render_template(
        f"onboarding/{step}.html", step=step, steps=STEPS, step_labels=STEP_LABELS, flow=flow, user=user,
        workspaces=workspaces, started_workspace_id=str(started.id) if started else "", step_url=step_url,
        **context,
    ), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _runtime_step(flow: Flow, status: int = 200, **context):
    """The runtime step with its live list and the daemon command for this server."""
    server_url = daemon_urls()[0] or request.url_root.rstrip("/")
    panel = context.pop("panel", request.values.get("panel"))
    token = take_token_once(flow.workspace)
    if token:
        panel = "cli"
    return _render(
        "runtime", flow, status, runtimes=workspace_runtimes(flow.workspace), server_url=server_url,
        panel=panel if panel in PANELS else None, token=token, **context,
    )


def _agent_step(flow: Flow, status: int = 200, *, selected: str | None = None, name: str = "", error: str | None = None):
    """The template picker, pre-selected by the questionnaire's recommendation (§9.5)."""
    questionnaire = current_user().onboarding_questionnaire
    questionnaire = questionnaire if isinstance(questionnaire, dict) else {}
    recommended = recommend_template(questionnaire.get("role"), questionnaire.get("use_case"))
    return _render(
        "agent", flow, status, templates=TEMPLATE_CHOICES, recommended=recommended, selected=selected or recommended,
        name=name, error=error,
    )


# ---- pages: one GET renders a step, one POST runs a form's intent ----------------------------------

@bp.get("/onboarding")
@login_required_page
def onboarding_page():
    """Render the step named in the URL; without one, Welcome or the first unfinished step."""
    user = current_user()
    step = request.args.get("step", "")
    flow = _flow(user, strict=False)
    if step == "questionnaire":
        answers = user.onboarding_questionnaire if isinstance(user.onboarding_questionnaire, dict) else {}
        return _render("questionnaire", flow, questions=QUESTIONS, answers=answers, problems={})
    if step == "workspace":
        return _render("workspace", flow, form={}, error=None)
    earlier = missing_step(step, flow)
    if earlier == "runtime":
        # "Connect & continue" without a runtime (or with one that went away) stays on the step and says why.
        return _runtime_step(Flow(flow.workspace, waitlist=flow.waitlist), 400, panel="cli", runtime_problem=NO_RUNTIME)
    if earlier is not None:
        return redirect(_back_to(earlier, flow))
    if step == "agent" and flow.runtime.status != ONLINE:
        return _offline_runtime(flow)
    if step == "runtime":
        return _runtime_step(flow)
    if step == "agent":
        return _agent_step(flow)
    if step == "first_issue":
        return _render("first_issue", flow, title="", error=None)
    if step:
        return redirect(step_url(None))
    return _resume(user)


def _resume(user):
    """`/onboarding` with no step: Welcome for a new run, else the first unfinished step (D20.4)."""
    resumed, flow = resume_point(user, workspaces_of(user))
    if resumed is None:
        return _render("welcome", Flow())
    if resumed == "done":
        return redirect(url_for("issues.issues_page", slug=flow.workspace.slug))
    return redirect(step_url(resumed, flow))


def _offline_runtime(flow: Flow):
    """The runtime step again, saying the chosen runtime is offline (it could not run an agent)."""
    name = flow.runtime.name or flow.runtime.daemon_id
    problem = (
        f"The runtime “{name}” is offline, so an agent could not run on it. Start its daemon again, "
        "refresh the list and choose it once it is online, or skip for now."
    )
    return _runtime_step(Flow(flow.workspace, waitlist=flow.waitlist), 409, panel="cli", runtime_problem=problem)


def _back_to(step: str, flow: Flow) -> str:
    """The URL of the earlier step a request lacked (the runtime step opens its CLI panel)."""
    return step_url(step, flow, panel="cli") if step == "runtime" else step_url(step, flow)


def _complete(user, flow: Flow) -> None:
    """Complete onboarding (once, server-side) with the flow's path; a failure leaves step 5 offering Retry."""
    try:
        complete_onboarding(user, flow.completion_path, str(flow.workspace.id))
    except SQLAlchemyError:
        db.session.rollback()
        logger.exception("onboarding: completion failed")


def _skip_existing(user):
    """"I've done this before": complete with `skip_existing` and land in the first workspace."""
    workspaces = workspaces_of(user)
    if not workspaces:
        return redirect(step_url(None))
    complete_onboarding(user, "skip_existing", str(workspaces[0].id))
    return redirect(url_for("issues.issues_page", slug=workspaces[0].slug))


def _submit_questionnaire(user):
    """Store the full answers (PATCH semantics) and move on to the workspace step."""
    flow = _flow(user, strict=False)
    answers, problems = questionnaire_from_form(request.form)
    if problems:
        return _render("questionnaire", flow, 400, questions=QUESTIONS, answers=answers, problems=problems)
    update_questionnaire(user, answers, platform="web")
    return redirect(step_url("workspace", flow))


def _submit_workspace(user):
    """Create a workspace (the creator becomes its owner) and go on to the runtime step with it."""
    flow = _flow(user, strict=False)
    form = request.form.to_dict()
    try:
        workspace = create_workspace_from_form(user, form.get("name", ""), form.get("slug", ""))
    except SlugTaken as error:
        form["slug"] = error.suggestion
        return _render("workspace", flow, error.status, form=form, error=error.sentence)
    except ApiError as error:
        return _render("workspace", flow, error.status, form=form, error=error.message)
    return redirect(step_url("runtime", Flow(workspace, waitlist=flow.waitlist)))


def _create_token(user):
    """Mint a daemon token for the next page to show once (it is never in a URL or shown again)."""
    flow = _flow(user, strict=True)
    if missing_step("runtime", flow):
        return redirect(step_url("workspace", flow))
    _, token = create_daemon_token(user, flow.workspace, "onboarding")
    remember_token_once(flow.workspace, token)
    # POST/redirect/GET: a reload of the page that shows the token mints nothing.
    return redirect(step_url("runtime", flow, panel="cli") + "#cli", 303)


def _submit_waitlist(user):
    """Join the cloud waitlist; this does not advance, it only sets the flow's waitlist latch."""
    flow = _flow(user, strict=True)
    if missing_step("runtime", flow):
        return redirect(step_url("workspace", flow))
    try:
        join_cloud_waitlist(user, request.form.get("email", ""), request.form.get("reason", ""))
    except ApiError as error:
        return _runtime_step(flow, error.status, panel="waitlist", waitlist_error=error.message, waitlist_form=request.form)
    latched = Flow(flow.workspace, flow.runtime, flow.agent, waitlist=True)
    return redirect(step_url("runtime", latched, panel="waitlist") + "#waitlist")


def _finish(user):
    """Skip at the runtime step (or Retry at the last one): complete once with the flow's path."""
    flow = _flow(user, strict=True)
    if missing_step("first_issue", flow):
        return redirect(step_url("workspace", flow))
    _complete(user, flow)
    return redirect(step_url("first_issue", flow))


def _submit_agent(user):
    """Create the agent on the chosen runtime, complete onboarding as `full`, then offer a first issue."""
    flow = _flow(user, strict=True)
    earlier = missing_step("agent", flow)
    if earlier is not None:
        return redirect(_back_to(earlier, flow))
    if flow.runtime.status != ONLINE:
        return _offline_runtime(flow)
    template = request.form.get("template", "")
    try:
        agent = create_agent(user, flow.workspace, runtime_id=str(flow.runtime.id), template=template, name=request.form.get("name"))
    except ApiError as error:
        return _agent_step(flow, error.status, selected=template, name=request.form.get("name", ""), error=error.message)
    done = Flow(flow.workspace, flow.runtime, agent, flow.waitlist)
    _complete(user, done)
    return redirect(step_url("first_issue", done))


def _submit_first_issue(user):
    """Create the first issue (assigned to the new agent, when there is one) and open the workspace.

    The issue is keyed by the user, so Back and resubmit, a replayed POST or a double click count once.
    """
    flow = _flow(user, strict=True)
    if missing_step("first_issue", flow):
        return redirect(step_url("workspace", flow))
    try:
        create_issue(
            user, flow.workspace, title=request.form.get("title", ""), assignee_agent_id=str(flow.agent.id) if flow.agent else None,
            platform="web", idempotency_key=first_issue_key(user),
        )
    except ApiError as error:
        return _render("first_issue", flow, error.status, title=request.form.get("title", ""), error=error.message)
    return redirect(url_for("issues.issues_page", slug=flow.workspace.slug))


# Every onboarding form posts to `/onboarding` with an `intent`, so the whole flow stays one pathname
# (one `$pageview`, as in a single-page shell) even when a POST renders a page, like the daemon token.
INTENTS = {
    "skip_existing": _skip_existing,
    "questionnaire": _submit_questionnaire,
    "workspace": _submit_workspace,
    "daemon_token": _create_token,
    "waitlist": _submit_waitlist,
    "finish": _finish,
    "agent": _submit_agent,
    "first_issue": _submit_first_issue,
}


@bp.post("/onboarding")
@login_required_page
def onboarding_action():
    """Run the posted form's intent (400 for an unknown one)."""
    handler = INTENTS.get(request.form.get("intent", ""))
    if handler is None:
        raise ApiError(400, "unknown onboarding action")
    return handler(current_user())
