"""`flask --app app analytics reconcile` and `analytics funnel` (D16.1, D16.2), attached to the
analytics group by the app factory (the analytics package itself imports no product package)."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from multica.insight.prometheus import PrometheusError, daily_increase
from multica.insight.service import database_side, funnel, parse_since, reconcile_days

COMPLETED_SELECTOR = 'multica_agent_task_terminal_total{terminal_status="completed"}'
EXECUTED_SELECTOR = "multica_issue_executed_total"


def reconcile(days: int, prometheus_url: str | None, step: float) -> dict:
    """Per UTC day: the database's counts, Prometheus's increases and their drift (Prometheus − DB)."""
    window = reconcile_days(days)
    db_side = database_side(window)
    prom_side = None
    if prometheus_url:
        prom_side = {
            "tasks_completed": daily_increase(prometheus_url, COMPLETED_SELECTOR, window, step),
            "issues_executed": daily_increase(prometheus_url, EXECUTED_SELECTOR, window, step),
        }
    rows = []
    for day in window:
        row = {"day": day.isoformat()}
        for key in ("tasks_completed", "issues_executed"):
            in_db = db_side[key].get(day, 0)
            figure = {"db": in_db}
            if prom_side is not None:
                in_prom = round(prom_side[key][day], 3)
                in_prom = int(in_prom) if float(in_prom).is_integer() else in_prom
                figure.update(prometheus=in_prom, drift=in_prom - in_db)
            row[key] = figure
        rows.append(row)
    return {"prometheus_queried": prom_side is not None, "prometheus_url": prometheus_url, "step_seconds": step, "days": rows}


def worst_drift(report: dict) -> float:
    return max(
        (abs(row[key]["drift"]) for row in report["days"] for key in ("tasks_completed", "issues_executed") if "drift" in row[key]),
        default=0,
    )


def _table(report: dict) -> str:
    queried = report["prometheus_queried"]
    header = ["day", "tasks db"] + (["tasks prom", "drift"] if queried else []) + ["executed db"] + (["executed prom", "drift"] if queried else [])
    lines = [header]
    for row in report["days"]:
        line = [row["day"]]
        for key in ("tasks_completed", "issues_executed"):
            figure = row[key]
            line.append(str(figure["db"]))
            if queried:
                line += [str(figure["prometheus"]), f"{figure['drift']:+}" if figure["drift"] else "0"]
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in lines)


@click.command("reconcile")
@click.option("--days", type=click.IntRange(1, 400), default=30, show_default=True, help="UTC days to compare, today included.")
@click.option("--prometheus-url", envvar="PROMETHEUS_URL", default=None, help="Base URL of the Prometheus server (or PROMETHEUS_URL).")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0, show_default=True, help="Exit 1 when a day drifts by more than this.")
@click.option("--step", type=click.FloatRange(min=0.001), default=15, show_default=True, help="Seconds between samples read (the scrape interval).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@with_appcontext
def reconcile_command(days: int, prometheus_url: str | None, tolerance: float, step: float, as_json: bool) -> None:
    """Completed tasks and executed issues per UTC day: the database against Prometheus (D16.1)."""
    try:
        report = reconcile(days, prometheus_url or None, step)
    except PrometheusError as exc:
        raise click.ClickException(str(exc)) from None
    drift = worst_drift(report)
    report["tolerance"] = tolerance
    report["ok"] = drift <= tolerance
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(_table(report))
        if not report["prometheus_queried"]:
            click.echo("Prometheus was not queried (no --prometheus-url): database side only.")
        elif report["ok"]:
            click.echo(f"no day drifts by more than {tolerance:g}")
        else:
            click.echo(f"drift of {drift:g} exceeds the tolerance of {tolerance:g}", err=True)
    if not report["ok"]:
        sys.exit(1)


@click.command("funnel")
@click.option("--since", default="30d", show_default=True, help="Users who signed up since: 30d, 12w, 48h or a date.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@with_appcontext
def funnel_command(since: str, as_json: bool) -> None:
    """The activation funnel, completion paths and weekly active workspaces from the database (D16.2)."""
    try:
        start = parse_since(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    report = funnel(start)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"Activation funnel, users signed up since {report['since']}")
    for step in report["steps"]:
        conversion = "" if step["conversion"] is None else f"  {step['conversion'] * 100:5.1f}% of the step before"
        click.echo(f"  {step['label']:<26}{step['count']:>9}{conversion}")
    click.echo("Completion paths")
    for path, count in report["completion_paths"].items():
        click.echo(f"  {path:<26}{count:>9}")
    click.echo("Weekly active workspaces (an issue executed that ISO week)")
    for week, count in report["weekly_active_workspaces"].items():
        click.echo(f"  {week:<26}{count:>9}")


def attach(group) -> None:
    """Add both commands to the `analytics` CLI group."""
    group.add_command(reconcile_command)
    group.add_command(funnel_command)
