"""The workspace shell's navigation: one registry of areas, shown only when the area is installed (D20.1).

Each entry names the page endpoint of an area (taking the workspace `slug`). An area whose blueprint
is not registered in this app has no endpoint in `current_app.view_functions`, and its link is
left out, so adding an area to the shell is one line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

# (label, endpoint), in the order the shell shows them.
AREAS = (
    ("Issues", "issues.issues_page"),
    ("Agents", "agents.agents_page"),
    ("Runtimes", "runtimes.runtimes_page"),
    ("Chat", "chat.chat_page"),
    ("Autopilots", "autopilots.autopilots_page"),
    ("Squads", "squads.squads_page"),
    ("Members", "invitations.members_page"),
    ("Settings", "workspaces.settings_page"),
)


@dataclass(frozen=True)
class NavItem:
    """One link of the workspace navigation."""

    label: str
    url: str
    current: bool


def workspace_nav(workspace) -> list[NavItem]:
    """The navigation links of `workspace` for the areas this app serves; the page being viewed is current."""
    installed = current_app.view_functions
    items = []
    for label, endpoint in AREAS:
        if endpoint not in installed:
            continue
        area = endpoint.split(".", 1)[0]
        current = bool(request.endpoint) and request.endpoint.split(".", 1)[0] == area
        items.append(NavItem(label, url_for(endpoint, slug=workspace.slug), current))
    return items
