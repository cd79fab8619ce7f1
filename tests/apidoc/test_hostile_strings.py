"""Every string field of every described request body, given what no column can hold (D14.9, D18).

The random fuzzer seldom produces a NUL, never a lone surrogate (it generates encodable text), and
rarely a string long enough to matter; PostgreSQL refuses the first two with an error that used to
surface as a 500. This test walks `docs/openapi.yaml`: for each operation with a JSON body, it starts
from the properties' `example` values and replaces one string field at a time (nested objects
included) with a NUL, a lone surrogate, a C0 control character and a 100 KB string. Every answer
must be below 500 with a JSON body, and an error must be `{"error": ...}`. A new route's fields are
covered as soon as it is described.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from multica.apidoc.service import read_description
from tests.conftest import create_user, create_workspace

DESCRIPTION = read_description()
HOSTILE = {
    "nul": "a\\u0000b",
    "lone surrogate": "\\ud800x",
    "control character": "bell\\u0007",
    "100 KB": "x" * 100_000,
}


def resolve(node: dict) -> dict:
    """Follow local `$ref`s until a schema that is not a reference."""
    while isinstance(node, dict) and "$ref" in node:
        target: object = DESCRIPTION
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]  # type: ignore[index]
        node = target  # type: ignore[assignment]
    return node


def is_string(schema: dict) -> bool:
    kinds = schema.get("type")
    return kinds == "string" or (isinstance(kinds, list) and "string" in kinds)


def example_body(schema: dict) -> dict:
    """An object built from the `example` of each property (nested objects recursively)."""
    body = {}
    for name, raw in (resolve(schema).get("properties") or {}).items():
        prop = resolve(raw)
        if "example" in prop:
            body[name] = prop["example"]
        elif prop.get("type") == "object" and prop.get("properties"):
            body[name] = example_body(prop)
    return body


def string_fields(schema: dict, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths to every string property, nested objects included."""
    fields = []
    for name, raw in (resolve(schema).get("properties") or {}).items():
        prop = resolve(raw)
        if is_string(prop) and prop.get("format") != "uuid":
            fields.append((*prefix, name))
        elif prop.get("type") == "object" and prop.get("properties"):
            fields += string_fields(prop, (*prefix, name))
    return fields


def cases():
    for path, item in DESCRIPTION["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            body = resolve(operation["requestBody"])
            schema = body["content"]["application/json"]["schema"]
            for field in string_fields(schema):
                for label in HOSTILE:
                    yield pytest.param(method.upper(), path, schema, field, label, id=f"{method.upper()} {path} {'.'.join(field)} {label}")


def with_value(body: dict, field: tuple[str, ...], marker: str) -> dict:
    """A copy of `body` with `marker` at `field`."""
    body = json.loads(json.dumps(body))
    node = body
    for part in field[:-1]:
        node = node.setdefault(part, {})
    node[field[-1]] = marker
    return body


@pytest.fixture
def world(app, client):
    """A user, their workspace, a daemon token for it, and the rows a path can name.

    Sub-resources are looked up before the body is read, so a path naming an unknown chat session
    or issue would answer 404 without ever reaching the hostile field: those get real ids.
    """
    user = create_user(app)
    workspace = create_workspace(app, user)
    api = f"/api/workspaces/{workspace['id']}"
    token = client.post(f"{api}/daemon-tokens", headers=user.headers).json["token"]
    daemon_headers = {"Authorization": f"Bearer {token}"}
    runtime = client.post(
        "/api/daemon/register", json={"daemon_id": "hostile", "providers": ["claude"]}, headers=daemon_headers,
    ).json["runtimes"][0]
    agent = client.post(f"{api}/agents", json={"runtime_id": runtime["id"]}, headers=user.headers).json
    issue = client.post(f"{api}/issues", json={"title": "Seeded", "assignee_agent_id": agent["id"]}, headers=user.headers).json
    session = client.post(f"{api}/chat-sessions", json={"agent_id": agent["id"]}, headers=user.headers).json
    ids = {"workspace_id": workspace["id"], "issue_id": issue["id"], "session_id": session["id"]}
    return user, ids, daemon_headers


@pytest.mark.parametrize(("method", "path", "schema", "field", "label"), list(cases()))
def test_no_string_makes_a_5xx(client, world, method, path, schema, field, label):
    user, ids, daemon_headers = world
    url = re.sub(r"\{([^}]+)\}", lambda match: ids.get(match.group(1)) or str(uuid.uuid4()), path)
    headers = daemon_headers if path.startswith("/api/daemon/") else user.headers
    # The hostile value is spliced into the serialised body, so escapes reach the server as written.
    marker = "@@HOSTILE@@"
    raw = json.dumps(with_value(example_body(schema), field, marker)).replace(marker, HOSTILE[label])
    response = client.open(url, method=method, data=raw, content_type="application/json", headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.is_json
    if response.status_code >= 400:
        assert isinstance(response.json.get("error"), str) and response.json["error"]


def test_the_walk_reaches_the_fields_that_failed_before():
    ids = {param.id for param in cases()}
    for expected in (
        "POST /api/workspaces name nul",
        "PATCH /api/me/onboarding questionnaire.role_other lone surrogate",
        "POST /api/me/onboarding/cloud-waitlist reason nul",
        "POST /auth/send-code email 100 KB",
        "POST /api/daemon/register daemon_id control character",
        "POST /api/contact-sales first_name nul",
        "POST /api/feedback message lone surrogate",
        "POST /api/workspaces/{workspace_id}/chat-sessions/{session_id}/messages content nul",
        "POST /api/workspaces/{workspace_id}/autopilots prompt 100 KB",
        "POST /api/daemon/tasks/{task_id}/fail error nul",
    ):
        assert expected in ids
