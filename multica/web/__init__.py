"""Public pages and process endpoints: landing, `/healthz`, `/api/config`."""

from flask import Blueprint

bp = Blueprint("web", __name__)
