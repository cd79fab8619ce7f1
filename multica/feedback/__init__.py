"""In-app feedback: the API, the no-JS page and the Help menu's modal (SPEC §11, §16)."""

from flask import Blueprint

bp = Blueprint("feedback", __name__)
