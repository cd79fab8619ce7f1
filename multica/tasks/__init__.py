"""Agent tasks: the queue the daemon drains, its daemon API, cancel, rerun, the sweeper and the issue page (D15)."""

from flask import Blueprint

bp = Blueprint("tasks", __name__)
