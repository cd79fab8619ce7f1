"""`flask --app app autopilots ...` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from multica.autopilots.service import tick

autopilots_cli = AppGroup("autopilots", help="Scheduled agent work.")


@autopilots_cli.command("tick")
def tick_command() -> None:
    """Start a run for every scheduled autopilot whose period is due (run it from cron, e.g. every minute)."""
    click.echo(f"started {tick()} autopilot run(s)")
