"""Fixtures for the runtimes tests: a workspace owner, their workspace and a daemon token for it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import create_user, create_workspace


@pytest.fixture
def owner(app):
    """A signed-in user (Bearer) who owns `workspace`."""
    return create_user(app)


@pytest.fixture
def workspace(app, owner) -> dict:
    """The owner's workspace, as `POST /api/workspaces` answered it."""
    return create_workspace(app, owner)


@pytest.fixture
def daemon(client, owner, workspace):
    """A daemon token for `workspace`, minted through the API: `.token`, `.headers`, `.workspace_id`."""
    response = client.post(f"/api/workspaces/{workspace['id']}/daemon-tokens", headers=owner.headers)
    assert response.status_code == 201, response.json
    token = response.json["token"]
    return SimpleNamespace(
        id=response.json["id"], token=token, headers={"Authorization": f"Bearer {token}"}, workspace_id=workspace["id"],
    )
