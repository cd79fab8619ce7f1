"""The API's description: `docs/openapi.yaml`, served as JSON at `/api/openapi.json` (D18)."""

from flask import Blueprint

bp = Blueprint("apidoc", __name__)
