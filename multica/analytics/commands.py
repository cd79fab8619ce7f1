"""`flask --app app analytics ...` commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from multica.analytics.docs import render
from multica.config import PROJECT_ROOT

analytics_cli = AppGroup("analytics", help="Analytics catalog tools.")
DOC_PATH = PROJECT_ROOT / "docs" / "analytics.md"


@analytics_cli.command("docs")
@click.option("--check", is_flag=True, help="Exit 1 if docs/analytics.md differs from the catalog.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=DOC_PATH, show_default=True)
def docs_command(check: bool, output: Path) -> None:
    """Regenerate docs/analytics.md from the event catalog."""
    text = render()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            raise click.ClickException(f"{output} is out of date; run: flask --app app analytics docs")
        click.echo(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")
