"""`flask --app app runtimes ...` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from multica.runtimes.service import DEFAULT_MAX_SILENCE_SECONDS, sweep_silent_runtimes

runtimes_cli = AppGroup("runtimes", help="Local agent runtimes reported by daemons.")


@runtimes_cli.command("sweep")
@click.option(
    "--max-silence",
    type=click.FloatRange(min=0),
    default=DEFAULT_MAX_SILENCE_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="Mark online runtimes offline when their last heartbeat is older than this.",
)
def sweep_command(max_silence: float) -> None:
    """Mark runtimes whose daemon stopped heartbeating offline (run it from cron or a timer)."""
    count = sweep_silent_runtimes(max_silence)
    click.echo(f"marked {count} runtime(s) offline")
