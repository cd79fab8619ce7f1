"""Workspace invitations: the model, the queries and the pages (SPEC §10)."""

from flask import Blueprint

bp = Blueprint("invitations", __name__)
