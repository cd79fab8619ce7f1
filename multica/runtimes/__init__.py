"""Local agent runtimes: daemon tokens, the daemon registration/heartbeat API and the sweeper (D12, SPEC §6.1)."""

from flask import Blueprint

bp = Blueprint("runtimes", __name__)
