"""Schemathesis against a live app, from its description (D18).

Every operation of `/api/openapi.json` is fuzzed twice: signed in (a user's Bearer token, or a
daemon token for the daemon routes) and with no credentials at all. Generated cases are valid
(positive) and invalid (negative) for the description; each answer must be below 500 and conform
to the description: a documented status, its content type, its body schema.

Signed in, two calls in three that name a workspace name the user's real one (the rest keep the
fuzzer's random id, which must be refused), so the fuzzer also gets past the membership check.
The examples are bounded per operation so the whole run stays well under two minutes.
"""

from __future__ import annotations

import os
import zlib
from types import SimpleNamespace

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import FailureGroup

from multica import create_app
from multica.apidoc.service import read_description
from multica.extensions import db
from tests.conftest import LiveServer, _empty_tables as empty_tables, create_user, create_workspace
from tests.sink import PostHogSink

# Bounded so the whole fuzz stays well under two minutes; `FUZZ_MAX_EXAMPLES=200` for a deeper hunt.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
FUZZ_CONFIG = {
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
    # Examples, then coverage (boundary values, wrong types, unexpected methods), then fuzzing
    # (bounded by MAX_EXAMPLES); the stateful phase would chain calls and multiply the run time.
    "phases": {"stateful": {"enabled": False}},
}


@pytest.fixture(scope="module")
def target(database_url):
    """A live app with a user, their workspace (with a runtime, an agent and an issue) and a daemon token.

    One app for the whole module (the fuzzer makes hundreds of calls); its tables are emptied after.
    """
    sink = PostHogSink().start()
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "POSTHOG_API_KEY": "phc_test",
        "POSTHOG_HOST": sink.url, "POSTHOG_FLUSH_INTERVAL": 0.05, "POSTHOG_SHUTDOWN_TIMEOUT": 2.0,
        "RATELIMIT_ENABLED": False, "ANALYTICS_STRICT": True,
    })
    server = LiveServer(app).start()
    user = create_user(app)
    workspace = create_workspace(app, user)
    http = requests.Session()
    api = f"{server.url}/api/workspaces/{workspace['id']}"
    token = http.post(f"{api}/daemon-tokens", json={"name": "fuzz"}, headers=user.headers).json()["token"]
    daemon_headers = {"Authorization": f"Bearer {token}"}
    runtimes = http.post(
        f"{server.url}/api/daemon/register", json={"daemon_id": "fuzz-host", "providers": ["claude"]}, headers=daemon_headers,
    ).json()["runtimes"]
    agent = http.post(f"{api}/agents", json={"runtime_id": runtimes[0]["id"], "template": "coding"}, headers=user.headers).json()
    http.post(f"{api}/issues", json={"title": "Seeded", "assignee_agent_id": agent["id"]}, headers=user.headers)
    yield SimpleNamespace(url=server.url, user=user, workspace=workspace, daemon_headers=daemon_headers, http=http)
    server.stop()
    app.extensions["analytics"].close()
    sink.stop()
    with app.app_context():
        empty_tables()
        db.engine.dispose()


# The committed description, which `/api/openapi.json` serves unchanged (tests/apidoc/test_description.py).
schema = schemathesis.openapi.from_dict(read_description(), config=schemathesis.Config.from_dict(FUZZ_CONFIG))


def _is_daemon_route(case) -> bool:
    return case.path.startswith("/api/daemon/")


def _credentials(case, target) -> dict:
    """The Authorization header this operation takes: the daemon token for daemon routes, else the user's."""
    return target.daemon_headers if _is_daemon_route(case) else target.user.headers


def _aim_at_the_workspace(case, target) -> None:
    """Point two cases in three at the user's workspace, decided by the generated id (reproducible)."""
    raw = case.path_parameters.get("workspace_id") if case.path_parameters else None
    if raw is not None and zlib.crc32(str(raw).encode()) % 3:
        case.path_parameters["workspace_id"] = target.workspace["id"]


def _strip_credentials(case) -> None:
    """No Authorization header and no cookie that the generator may have filled in."""
    for name in list(case.headers or {}):
        if name.lower() in {"authorization", "cookie"}:
            del case.headers[name]
    if case.cookies:
        case.cookies.clear()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_signed_in(case, target):
    _aim_at_the_workspace(case, target)
    target.http.cookies.clear()  # a fuzzed sign-in may have set a session; the token speaks for this call
    case.call_and_validate(base_url=target.url, session=target.http, headers=_credentials(case, target), checks=CHECKS)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_without_credentials(case, target):
    _strip_credentials(case)
    response = case.call_and_validate(base_url=target.url, session=requests.Session(), checks=CHECKS)
    secured = case.operation.definition.raw.get("security", None) != []
    optional = {} in (case.operation.definition.raw.get("security") or [])
    # The coverage phase also tries methods the route does not have (TRACE, PUT, ...): those are 405.
    same_method = case.method.upper() == case.operation.method.upper()
    if secured and not optional and same_method:
        assert response.status_code in (401, 413), f"{case.method} {case.path} answered {response.status_code} without credentials"


def test_the_checks_catch_an_answer_that_breaks_its_description(target):
    # A description that promises a field `/api/me` does not have: the schema check must fail it.
    document = read_description()
    document["components"]["schemas"]["User"]["required"].append("favourite_colour")
    broken = schemathesis.openapi.from_dict(document)
    case = broken["/api/me"]["GET"].Case()
    with pytest.raises(FailureGroup) as failure:
        case.call_and_validate(base_url=target.url, headers=target.user.headers, checks=CHECKS)
    assert "favourite_colour" in str(failure.value)
