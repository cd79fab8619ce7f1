"""Chat: conversations with an agent, each message answered by a task the daemon runs (D15.5)."""

from flask import Blueprint

bp = Blueprint("chat", __name__)
