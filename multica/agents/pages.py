"""The agents page: a workspace's agents, and a form that creates one from a template on an online
runtime (D20.3). With no runtime yet it points to the runtimes page."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from multica.agents import bp
from multica.agents.service import TEMPLATE_CHOICES, agents_of, create_agent
from multica.auth.identity import current_user, login_required_page
from multica.errors import ApiError
from multica.runtimes.service import ONLINE, online_runtime, workspace_runtimes
from multica.workspaces.service import member_workspace_or_404

DEFAULT_TEMPLATE = "coding"
# Sentences for people, for the refusals a create can meet.
SENTENCES = {
    "runtime is required": "Choose the runtime the agent should run on.",
    "runtime is offline": "That runtime is offline: start its daemon again, or choose an online runtime.",
    "runtime not found": "That runtime is not part of this workspace any more. Choose another one.",
    "invalid runtime_id": "Choose the runtime the agent should run on.",
    "invalid template": "Choose one of the templates.",
    "name is too long": "That name is too long: keep it to 100 characters.",
    "invalid name": "The name cannot hold control characters.",
}


def _agents_response(workspace, status: int = 200, *, form: dict | None = None, error: str | None = None):
    """The agents list and the create form (errors inline, with the form as it was sent)."""
    runtimes = workspace_runtimes(workspace)
    agents = agents_of(workspace)
    return make_response(render_template(
        "agents/agents.html", workspace=workspace, agents=agents, runtimes=runtimes, online=ONLINE,
        runtime_names={runtime.id: runtime.name or runtime.daemon_id for runtime in runtimes},
        templates=TEMPLATE_CHOICES, template_labels={value: label for value, label, _ in TEMPLATE_CHOICES},
        form=form or {"template": DEFAULT_TEMPLATE}, error=error,
    ), status)


@bp.get("/<slug>/agents")
@login_required_page
def agents_page(slug: str):
    """The workspace's agents and the create form."""
    return _agents_response(member_workspace_or_404(current_user(), slug))


@bp.post("/<slug>/agents")
@login_required_page
def create_agent_page(slug: str):
    """Create an agent on an online runtime of this workspace, then show the list (POST/redirect/GET)."""
    user = current_user()
    workspace = member_workspace_or_404(user, slug)
    form = request.form.to_dict()
    try:
        runtime = online_runtime(workspace, form.get("runtime"))
        create_agent(user, workspace, runtime_id=str(runtime.id), template=form.get("template", ""), name=form.get("name"))
    except ApiError as error:
        return _agents_response(workspace, error.status, form=form, error=SENTENCES.get(error.message, error.message))
    return redirect(url_for("agents.agents_page", slug=workspace.slug), 303)
