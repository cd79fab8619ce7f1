"""multica: sign-up, onboarding and expansion, with one governed analytics pipeline."""

from __future__ import annotations

import os

from dotenv import load_dotenv
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from multica import config as settings


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment (and `.env`), then `config` overrides."""
    if not (config or {}).get("TESTING"):
        load_dotenv(settings.PROJECT_ROOT / ".env", override=False)
    app = Flask(
        __name__,
        instance_path=str(settings.PROJECT_ROOT / "instance"),
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        static_folder=str(settings.PROJECT_ROOT / "static"),
    )
    app.config.update(settings.from_env())
    app.config.update(config or {})
    settings.check_production_secrets(app.config)
    if app.config.get("PROXY_HOPS"):
        # Behind N reverse proxies, trust their X-Forwarded-Proto/Host so external URLs (the
        # Google callback) say https. Client addresses are handled by RATE_LIMIT_TRUSTED_PROXIES.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=app.config["PROXY_HOPS"], x_host=app.config["PROXY_HOPS"])
    configure_logger(app)
    register_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def configure_logger(app: Flask) -> None:
    """Structured lines on stderr (D14.6)."""
    from multica.logging import configure_logging

    configure_logging(app.config["LOG_LEVEL"])


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations, CSRF, throttles, metrics and the analytics client."""
    from multica import analytics, auth, metrics
    from multica import models as _models  # noqa: F401 - the whole schema, for Alembic and relationships
    from multica.extensions import csrf, db, limiter, migrate

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from multica.db_utils import ping_after_idle

        with app.app_context():
            ping_after_idle(db.engine, app.config.get("DATABASE_PING_AFTER_IDLE", 10.0))
    migrate.init_app(app, db, render_as_batch=True, directory=str(settings.PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)
    metrics.init_app(app)
    analytics.init_app(app)
    auth.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Every area's routes, imported explicitly, then every blueprint registered here and nowhere else."""
    from multica import (
        agents, analytics, apidoc, auth, autopilots, chat, downloads, feedback, insight, invitations, issues, metrics,
        onboarding, runtimes, sales, squads, tasks, web, workspaces,
    )
    from multica.agents import pages as _agent_pages  # noqa: F401 - each module attaches its routes to its bp
    from multica.agents import views as _agent_views  # noqa: F401
    from multica.analytics import views as _analytics_views  # noqa: F401
    from multica.apidoc import views as _apidoc_views  # noqa: F401
    from multica.auth import google as _google_views  # noqa: F401
    from multica.auth import views as _auth_views  # noqa: F401
    from multica.autopilots import pages as _autopilot_pages  # noqa: F401
    from multica.autopilots import views as _autopilot_views  # noqa: F401
    from multica.chat import pages as _chat_pages  # noqa: F401
    from multica.chat import views as _chat_views  # noqa: F401
    from multica.downloads import pages as _download_pages  # noqa: F401
    from multica.feedback import pages as _feedback_pages  # noqa: F401
    from multica.feedback import views as _feedback_views  # noqa: F401
    from multica.insight import pages as _insight_pages  # noqa: F401
    from multica.invitations import pages as _invitation_pages  # noqa: F401
    from multica.invitations import views as _invitation_views  # noqa: F401
    from multica.issues import pages as _issue_pages  # noqa: F401
    from multica.issues import views as _issue_views  # noqa: F401
    from multica.onboarding import pages as _onboarding_pages  # noqa: F401
    from multica.onboarding import views as _onboarding_views  # noqa: F401
    from multica.runtimes import pages as _runtime_pages  # noqa: F401
    from multica.runtimes import views as _runtime_views  # noqa: F401
    from multica.sales import pages as _sales_pages  # noqa: F401
    from multica.sales import views as _sales_views  # noqa: F401
    from multica.squads import pages as _squad_pages  # noqa: F401
    from multica.squads import views as _squad_views  # noqa: F401
    from multica.tasks import pages as _task_pages  # noqa: F401
    from multica.tasks import views as _task_views  # noqa: F401
    from multica.web import views as _web_views  # noqa: F401
    from multica.workspaces import pages as _workspace_pages  # noqa: F401
    from multica.workspaces import views as _workspace_views  # noqa: F401

    for blueprint in (
        web.bp, metrics.bp, analytics.bp, auth.bp, workspaces.bp, invitations.bp, onboarding.bp,
        runtimes.bp, agents.bp, issues.bp, tasks.bp, chat.bp, squads.bp, autopilots.bp,
        sales.bp, feedback.bp, downloads.bp, apidoc.bp, insight.bp,
    ):
        app.register_blueprint(blueprint)


def register_hooks(app: Flask) -> None:
    """Fill in the hooks the lower layers expose: where a user lands after signing in (§8.9), what an
    issue assignment queues, and what a finished chat or autopilot task completes."""
    from multica.auth.routing import set_post_auth_destination
    from multica.autopilots.service import connect_task_hooks as connect_autopilot_runs
    from multica.chat.service import connect_task_hooks as connect_chat_replies
    from multica.onboarding.routing import post_auth_destination
    from multica.tasks.service import connect_issue_hooks

    set_post_auth_destination(app, post_auth_destination)
    connect_issue_hooks(app)
    connect_chat_replies(app)
    connect_autopilot_runs(app)


def register_errorhandlers(app: Flask) -> None:
    """JSON errors for the API, friendly pages for people."""
    from multica.errors import register_errorhandlers as register

    register(app)


def register_commands(app: Flask) -> None:
    """Every CLI group beyond Flask-Migrate's `db`: `analytics`, `runtimes`, `tasks`, `autopilots`."""
    from multica.analytics.commands import analytics_cli
    from multica.autopilots.commands import autopilots_cli
    from multica.insight.commands import attach as attach_insight_commands
    from multica.runtimes.commands import runtimes_cli
    from multica.tasks.commands import tasks_cli

    attach_insight_commands(analytics_cli)  # `analytics reconcile` and `analytics funnel` (D16)
    for group in (analytics_cli, runtimes_cli, tasks_cli, autopilots_cli):
        app.cli.add_command(group)
