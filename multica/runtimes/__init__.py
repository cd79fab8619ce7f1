"""Local agent runtimes: daemon tokens, the daemon registration/heartbeat API and the sweeper (D12, SPEC §6.1)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("runtimes", __name__)


def init_app(app: Flask) -> None:
    """Attach the runtimes API and the `flask runtimes ...` commands to `app`."""
    from multica.runtimes import views as _views  # noqa: F401 - attaches routes to bp
    from multica.runtimes.commands import runtimes_cli

    app.register_blueprint(bp)
    app.cli.add_command(runtimes_cli)
