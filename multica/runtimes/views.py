"""Runtimes API: workspace daemon tokens and runtime list (members), and the daemon endpoints (D12, SPEC §6.1).

Daemon endpoints authenticate with `Authorization: Bearer mdt_...`; being Bearer calls on `/api/`
they need no CSRF token. Every malformed body is a 400 `{"error": ...}` that stores and counts
nothing (D14.9): bodies are validated completely before any service call.
"""

from __future__ import annotations

from flask import jsonify

from multica.auth.identity import bearer_token, require_user
from multica.db_utils import rfc3339
from multica.errors import ApiError
from multica.inputs import json_object, text_field
from multica.runtimes import bp
from multica.runtimes.service import (
    ProviderSpec,
    Registration,
    create_daemon_token,
    daemon_token_for,
    deregister_daemon,
    heartbeat_daemon,
    register_daemon,
    revoke_daemon_token,
    workspace_runtimes,
)
from multica.workspaces.service import require_member_workspace

MAX_BODY = 16 * 1024
MAX_DAEMON_ID_BYTES = 200
MAX_PROVIDER_BYTES = 64
MAX_VERSION_BYTES = 64
MAX_NAME_BYTES = 200
MAX_TOKEN_NAME_BYTES = 100
MAX_PROVIDERS = 20


def _text(body: dict, key: str, max_bytes: int, *, required: bool = False) -> str:
    """A trimmed single-line string field; `null` is refused like any other non-string."""
    return text_field(body, key, max_bytes, required=required, nullable=False)


def _provider_spec(item: object) -> ProviderSpec:
    """`"claude"` or `{"provider": "claude", "version": "1.2.3"}` as a ProviderSpec (name lowercased)."""
    if isinstance(item, str):
        item = {"provider": item}
    if not isinstance(item, dict):
        raise ApiError(400, "invalid providers")
    return ProviderSpec(
        provider=_text(item, "provider", MAX_PROVIDER_BYTES, required=True).lower(),
        version=_text(item, "version", MAX_VERSION_BYTES),
    )


def parse_registration(body: dict) -> Registration:
    """Validate a register body: `daemon_id`, 1–20 `providers`, optional `cli_version` and `name`."""
    daemon_id = _text(body, "daemon_id", MAX_DAEMON_ID_BYTES, required=True)
    if "providers" not in body:
        raise ApiError(400, "providers is required")
    providers = body["providers"]
    if not isinstance(providers, list) or not 1 <= len(providers) <= MAX_PROVIDERS:
        raise ApiError(400, "invalid providers")
    specs: dict[str, ProviderSpec] = {}
    for item in providers:
        spec = _provider_spec(item)
        # "Claude" and "claude" are one runtime; the first mention wins.
        specs.setdefault(spec.provider, spec)
    return Registration(
        daemon_id=daemon_id,
        providers=tuple(specs.values()),
        cli_version=_text(body, "cli_version", MAX_VERSION_BYTES),
        name=_text(body, "name", MAX_NAME_BYTES),
    )


def _daemon_token():
    """The daemon token of this request, or 401."""
    return daemon_token_for(bearer_token())


# ---- members ------------------------------------------------------------------------------------

@bp.post("/api/workspaces/<workspace_id>/daemon-tokens")
def create_daemon_token_api(workspace_id: str):
    """Mint a daemon token for the workspace; the token is in this response and nowhere else."""
    user = require_user()
    workspace = require_member_workspace(user, workspace_id)
    body = json_object(MAX_BODY, optional=True)
    row, token = create_daemon_token(user, workspace, _text(body, "name", MAX_TOKEN_NAME_BYTES))
    return jsonify(
        id=str(row.id), token=token, workspace_id=str(row.workspace_id), name=row.name,
        created_at=rfc3339(row.created_at),
    ), 201


@bp.delete("/api/workspaces/<workspace_id>/daemon-tokens/<token_id>")
def revoke_daemon_token_api(workspace_id: str, token_id: str):
    """Revoke a daemon token: its daemons get 401 from now on."""
    workspace = require_member_workspace(require_user(), workspace_id)
    revoke_daemon_token(workspace, token_id)
    return "", 204


@bp.get("/api/workspaces/<workspace_id>/runtimes")
def list_runtimes_api(workspace_id: str):
    """The workspace's runtimes, newest first."""
    workspace = require_member_workspace(require_user(), workspace_id)
    return jsonify([runtime.to_dict() for runtime in workspace_runtimes(workspace)])


# ---- daemons ------------------------------------------------------------------------------------

@bp.post("/api/daemon/register")
def register_api():
    """Register the daemon's providers as online runtimes."""
    token = _daemon_token()
    registration = parse_registration(json_object(MAX_BODY))
    runtimes = register_daemon(token, registration)
    return jsonify(runtimes=[runtime.to_dict() for runtime in runtimes])


@bp.post("/api/daemon/heartbeat")
def heartbeat_api():
    """Keep the daemon's runtimes online."""
    token = _daemon_token()
    daemon_id = _text(json_object(MAX_BODY), "daemon_id", MAX_DAEMON_ID_BYTES, required=True)
    return jsonify(runtimes=[runtime.to_dict() for runtime in heartbeat_daemon(token, daemon_id)])


@bp.post("/api/daemon/deregister")
def deregister_api():
    """Mark the daemon's runtimes offline (the daemon is shutting down)."""
    token = _daemon_token()
    daemon_id = _text(json_object(MAX_BODY), "daemon_id", MAX_DAEMON_ID_BYTES, required=True)
    return jsonify(runtimes=[runtime.to_dict() for runtime in deregister_daemon(token, daemon_id)])
