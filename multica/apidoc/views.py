"""`GET /api/openapi.json`: the API's description for clients and fuzzers (D18, D19.17)."""

from __future__ import annotations

from flask import current_app

from multica.apidoc import bp
from multica.apidoc.service import api_description


@bp.get("/api/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 description of every JSON route, as `application/json`."""
    # Served in the YAML's own key order (paths grouped as written), not sorted.
    body = current_app.json.dumps(api_description(), sort_keys=False)
    return current_app.response_class(body, mimetype="application/json")
