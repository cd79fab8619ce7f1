"""`flask --app app tasks ...` commands."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from multica.tasks.service import sweep_tasks

tasks_cli = AppGroup("tasks", help="The agent task queue.")


@tasks_cli.command("sweep")
@click.option(
    "--stale-after",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Fail tasks dispatched longer ago than this (default: TASK_STALE_AFTER, 1800).",
)
def sweep_command(stale_after: float | None) -> None:
    """Fail tasks whose runtime is offline or that sat dispatched too long (run it from cron or a timer)."""
    if stale_after is None:
        stale_after = current_app.config["TASK_STALE_AFTER"]
    counts = sweep_tasks(stale_after)
    click.echo(f"failed {counts['runtime_offline']} task(s) on offline runtimes and {counts['timeout']} stale task(s)")
