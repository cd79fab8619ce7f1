"""`docs/openapi.yaml` against the app's URL map, and `GET /api/openapi.json` (D18, D19.17).

Which routes must be described — the rule this test enforces:

- every URL rule whose path starts with `/api/` or `/auth/` (the prefixes whose errors are JSON,
  `multica.errors`), for each of its methods except the automatic HEAD and OPTIONS;
- except the Google sign-in redirect flow (`/auth/google`, `/auth/google/callback`), which answers
  browsers with redirects and pages, never JSON;
- plus `/healthz`, the one JSON route outside those prefixes.

Pages (`/login`, `/onboarding`, `/<slug>/issues`, ...), `/metrics` (Prometheus text) and static
files are not JSON routes. A route that exists without a description fails, and so does a
description of a route or method the app does not have; the failure lists each one.
"""

from __future__ import annotations

import re
from uuid import uuid4

import pytest
import schemathesis

from multica.analytics.catalog import AGENT_TEMPLATES, COMPANY_SIZES, FEEDBACK_KINDS, ROLES, SALES_USE_CASES, TEAM_SIZES, USE_CASES
from multica.autopilots.models import ACTIONS as AUTOPILOT_ACTIONS
from multica.autopilots.models import CADENCES as AUTOPILOT_CADENCES
from multica.apidoc.service import DESCRIPTION_PATH, read_description
from multica.tasks.models import STATUSES as TASK_STATUSES
from tests.conftest import create_user

JSON_PREFIXES = ("/api/", "/auth/")
BROWSER_FLOWS = frozenset({"/auth/google", "/auth/google/callback"})
JSON_OUTSIDE_PREFIXES = frozenset({"/healthz"})
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def is_json_route(path: str) -> bool:
    """The rule above, for one OpenAPI-style path."""
    if path in JSON_OUTSIDE_PREFIXES:
        return True
    return path.startswith(JSON_PREFIXES) and path not in BROWSER_FLOWS


def routed_operations(app) -> set[str]:
    """`"METHOD /path/{param}"` for every JSON route of `app`'s URL map."""
    operations = set()
    for rule in app.url_map.iter_rules():
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        if rule.endpoint == "static" or not is_json_route(path):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.add(f"{method} {path}")
    return operations


def described_operations(document: dict) -> set[str]:
    """`"METHOD /path"` for every operation of an OpenAPI document."""
    return {
        f"{method.upper()} {path}"
        for path, item in (document.get("paths") or {}).items()
        for method in item
        if method in HTTP_METHODS
    }


def drift(app, document: dict) -> tuple[list[str], list[str]]:
    """`(routed but not described, described but not routed)`, each sorted."""
    routed, described = routed_operations(app), described_operations(document)
    return sorted(routed - described), sorted(described - routed)


def drift_message(missing: list[str], extra: list[str]) -> str:
    """What to add to or remove from docs/openapi.yaml, one operation a line."""
    lines = []
    if missing:
        lines.append("routes without a description in docs/openapi.yaml (add them under `paths:`):")
        lines += [f"  {operation}" for operation in missing]
    if extra:
        lines.append("described in docs/openapi.yaml but not routed by the app (remove them):")
        lines += [f"  {operation}" for operation in extra]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def description() -> dict:
    return read_description()


def test_every_json_route_is_described_and_nothing_else(app, description):
    missing, extra = drift(app, description)
    assert not (missing or extra), drift_message(missing, extra)


def test_the_rule_sees_the_routes_it_should(app):
    # A reader that found nothing would pass the drift test vacuously.
    routed = routed_operations(app)
    assert {"POST /auth/send-code", "GET /api/me", "GET /healthz", "POST /api/daemon/register",
            "DELETE /api/workspaces/{workspace_id}/daemon-tokens/{token_id}", "GET /api/openapi.json"} <= routed
    assert not {op for op in routed if op.split(" ", 1)[1] in {"/login", "/metrics", "/auth/google", "/onboarding"}}


def test_drift_is_reported_in_both_directions_by_name(app, description):
    app.add_url_rule("/api/made-up/<int:thing_id>", "made_up", lambda thing_id: "", methods=["GET", "POST"])
    document = {**description, "paths": {**description["paths"], "/api/nowhere": {"get": {}}}}
    document["paths"]["/api/me"] = {**document["paths"]["/api/me"], "delete": {}}
    missing, extra = drift(app, document)
    assert missing == ["GET /api/made-up/{thing_id}", "POST /api/made-up/{thing_id}"]
    assert extra == ["DELETE /api/me", "GET /api/nowhere"]
    message = drift_message(missing, extra)
    assert "  POST /api/made-up/{thing_id}" in message and "  GET /api/nowhere" in message


def test_the_description_is_valid_openapi_3_1(description):
    assert str(description["openapi"]).startswith("3.1.")
    schema = schemathesis.openapi.from_dict(description)
    schema.validate()
    # Every operation loads (each $ref resolves) and declares at least one answer.
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(described_operations(description))
    for operation in operations:
        assert operation.definition.raw.get("responses"), f"{operation.label} documents no response"


# `/healthz` answers 503 with its health report: a probe reads why, it is not an error message.
HEALTH_REPORTS = {("GET", "/healthz", "503")}


def test_every_error_answer_uses_the_shared_error_shape(description):
    responses = description["components"]["responses"]
    for path, item in description["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, answer in operation["responses"].items():
                if not str(status).startswith(("4", "5")) or (method.upper(), path, str(status)) in HEALTH_REPORTS:
                    continue
                if "$ref" in answer:
                    answer = responses[answer["$ref"].rsplit("/", 1)[1]]
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{method.upper()} {path} {status}"


def test_the_enumerations_match_the_catalog(description):
    schemas = description["components"]["schemas"]
    questionnaire = schemas["Questionnaire"]["properties"]
    for slot, values in (("team_size", TEAM_SIZES), ("role", ROLES), ("use_case", USE_CASES)):
        assert [v for v in questionnaire[slot]["enum"] if v] == list(values), slot
    assert [v for v in schemas["AgentTemplate"]["enum"] if v] == list(AGENT_TEMPLATES)
    for name, values in (
        ("CompanySize", COMPANY_SIZES), ("SalesUseCase", SALES_USE_CASES), ("FeedbackKind", FEEDBACK_KINDS),
        ("AutopilotAction", AUTOPILOT_ACTIONS), ("AutopilotCadence", AUTOPILOT_CADENCES), ("TaskStatus", TASK_STATUSES),
    ):
        assert [v for v in schemas[name]["enum"] if v] == list(values), name


def test_openapi_json_serves_the_committed_description(client, description):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["openapi"].startswith("3.1.") and body["info"]["title"]
    assert body == description
    # The paths keep the order they are written in (grouped by area), not an alphabetical one.
    assert list(body["paths"]) == list(description["paths"])


def test_the_description_file_is_in_docs():
    assert DESCRIPTION_PATH.name == "openapi.yaml" and DESCRIPTION_PATH.parent.name == "docs"
    assert DESCRIPTION_PATH.is_file()


def test_every_operation_called_signed_in_with_an_empty_body_is_below_500_and_never_405(app, client, description):
    # D19.17: `{}` as the body and random UUIDs as path parameters, by a signed-in user.
    user = create_user(app)
    for operation in sorted(described_operations(description)):
        method, path = operation.split(" ", 1)
        url = re.sub(r"\{[^}]+\}", lambda _: str(uuid4()), path)
        response = client.open(url, method=method, json={}, headers=user.headers)
        assert response.status_code < 500 and response.status_code != 405, f"{operation}: {response.status_code}"
