"""Shared fixtures: a real PostHog sink, an app on SQLite (or PostgreSQL), a live HTTP server."""

from __future__ import annotations

import os
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from flask.testing import FlaskClient
from flask_migrate import upgrade
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text
from werkzeug.datastructures import Headers
from werkzeug.serving import make_server

from multica import create_app
from multica.extensions import db
from tests.sink import PostHogSink

ROOT = Path(__file__).resolve().parent.parent
# Environment variables the app reads; cleared so a developer's shell cannot change test results.
_APP_ENV_VARS = (
    "APP_ENV", "ANALYTICS_ENVIRONMENT", "ANALYTICS_DISABLED", "POSTHOG_API_KEY", "POSTHOG_HOST",
    "ALLOW_SIGNUP", "ALLOWED_EMAILS", "ALLOWED_EMAIL_DOMAINS", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET",
    "DISABLE_WORKSPACE_CREATION", "MULTICA_APP_URL", "MULTICA_PUBLIC_URL", "FRONTEND_ORIGIN",
    "MULTICA_DEV_VERIFICATION_CODE", "REDIS_URL", "METRICS_TOKEN", "SECRET_KEY", "JWT_SECRET",
    "ANALYTICS_FORWARD_IP", "DATABASE_URL", "CDN_DOMAIN", "RELEASES_API_URL", "GITHUB_TOKEN",
    "RELEASES_TIMEOUT", "RELEASES_CACHE_SECONDS", "POSTHOG_SPOOL_DIR", "POSTHOG_SPOOL_MAX_MB",
    "MULTICA_DAEMON_PACKAGE", "ADMIN_EMAILS", "PROMETHEUS_URL", "DATABASE_PING_AFTER_IDLE",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in _APP_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix):]
        return url
    return f"sqlite:///{tmp_root / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One migrated database for the session; tables are emptied after every test."""
    url = _database_url(tmp_path_factory.mktemp("db"))
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "POSTHOG_API_KEY": ""})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()
    return url


@pytest.fixture
def sink():
    """A running PostHog-compatible sink, stopped after the test."""
    server = PostHogSink().start()
    yield server
    server.stop()


@pytest.fixture
def make_app(database_url, sink):
    """Build apps wired to the sink with a fast flush; close their clients and empty the tables after."""
    apps = []

    def factory(**overrides):
        config = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "POSTHOG_API_KEY": "phc_test",
            "POSTHOG_HOST": sink.url,
            "POSTHOG_FLUSH_INTERVAL": 0.05,
            "POSTHOG_SHUTDOWN_TIMEOUT": 2.0,
            "RATELIMIT_ENABLED": False,
            "ANALYTICS_STRICT": True,
            # No test reaches the public release feed: the discard port refuses at once (degraded page).
            "RELEASES_API_URL": "http://127.0.0.1:9/releases",
        }
        config.update(overrides)
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["analytics"].close()
        if app.config["SQLALCHEMY_DATABASE_URI"] != database_url:
            continue
        with app.app_context():
            _empty_tables()
            db.engine.dispose()


def _empty_tables() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(make_app):
    """The default test app."""
    return make_app()


@pytest.fixture
def client(app):
    """A Flask test client for `app`."""
    return app.test_client()


def flush(app) -> None:
    """Ship everything the app's analytics client has queued."""
    assert app.extensions["analytics"].flush(timeout=5), "analytics client did not flush"


_STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
_PAGE_CSRF_TOKEN = re.compile(r'name="csrf[-_]token" (?:content|value)="([^"]+)"')


def csrf_token_in(html: str) -> str:
    """The CSRF token a page hands its forms and scripts (meta tag or hidden field)."""
    found = _PAGE_CSRF_TOKEN.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


class CSRFClient(FlaskClient):
    """A test client that sends its session's CSRF token with every state-changing request,
    as the pages' forms and scripts do. `csrf=False` sends a request without it."""

    @property
    def csrf_token(self) -> str:
        """A valid token for this client's session (created in the session when missing)."""
        field = self.application.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        with self.session_transaction() as session:
            raw = session.setdefault(field, secrets.token_hex(20))
        secret = self.application.config.get("WTF_CSRF_SECRET_KEY") or self.application.secret_key
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)

    def open(self, *args, csrf: bool = True, **kwargs):
        if csrf and str(kwargs.get("method", "GET")).upper() in _STATE_CHANGING:
            headers = Headers(kwargs.get("headers") or {})
            headers.setdefault("X-CSRFToken", self.csrf_token)
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def csrf_client(app, user=None) -> CSRFClient:
    """A `CSRFClient` for `app`, signed in as `user` (anything with an `.id`) when given."""
    client = CSRFClient(app, app.response_class, use_cookies=True)
    if user is not None:
        with client.session_transaction() as session:
            session["user_id"] = user.id
    return client


class LiveServer:
    """The app served over real HTTP on 127.0.0.1 in a background thread."""

    def __init__(self, app) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> "LiveServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture
def live_server(app):
    """`app` served on a free loopback port."""
    server = LiveServer(app).start()
    yield server
    server.stop()


# ---- a workspace and a daemon token, for the runtime, task and chat tests ----------------------------

@pytest.fixture
def owner(app):
    """A signed-in user (Bearer) who owns `workspace`."""
    return create_user(app)


@pytest.fixture
def workspace(app, owner) -> dict:
    """The owner's workspace, as `POST /api/workspaces` answered it."""
    return create_workspace(app, owner)


@pytest.fixture
def daemon(client, owner, workspace):
    """A daemon token for `workspace`, minted through the API: `.token`, `.headers`, `.workspace_id`."""
    response = client.post(f"/api/workspaces/{workspace['id']}/daemon-tokens", headers=owner.headers)
    assert response.status_code == 201, response.json
    token = response.json["token"]
    return SimpleNamespace(
        id=response.json["id"], token=token, headers={"Authorization": f"Bearer {token}"}, workspace_id=workspace["id"],
    )


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url():
    """A reachable Redis for shared throttles (a skip says why; CI=true turns any skip into a failure)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"Redis not reachable at {REDIS_URL} (.ci/run starts it)")
    return REDIS_URL


def run_together(task, count: int = 20) -> list:
    """Run `task(i)` on `count` threads released at the same instant."""
    barrier = threading.Barrier(count, timeout=30)

    def run(index: int):
        barrier.wait()
        return task(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright. Missing Chromium fails under CI=true."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs it")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page per test."""
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()




def pytest_collection_modifyitems(config, items):
    """`postgres` tests need TEST_DATABASE_URL; without it they are skipped with the reason."""
    if os.environ.get("TEST_DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason="needs TEST_DATABASE_URL (PostgreSQL); run `make test-postgres`")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    """Under CI=true a skipped test is a failure: CI must run the whole suite."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) were skipped; CI runs everything", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def create_user(app, email: str | None = None, **fields):
    """A user row plus a Bearer token for it: `.id`, `.email`, `.token`, `.headers`."""
    import uuid as _uuid

    from multica.auth.models import User
    from multica.auth.tokens import issue_token

    email = email or f"user-{_uuid.uuid4().hex[:10]}@example.com"
    with app.app_context():
        user = User(name=fields.pop("name", email.split("@")[0]), email=email, onboarding_questionnaire={}, **fields)
        db.session.add(user)
        db.session.commit()
        user_id = str(user.id)
        with app.test_request_context():
            token = issue_token(user_id)
    return SimpleNamespace(id=user_id, email=email, token=token, headers={"Authorization": f"Bearer {token}"})


def create_workspace(app, user, name: str = "Acme", slug: str | None = None) -> dict:
    """A workspace owned by `user`, through the API."""
    import uuid as _uuid

    slug = slug or f"ws-{_uuid.uuid4().hex[:8]}"
    response = app.test_client().post("/api/workspaces", json={"name": name, "slug": slug}, headers=user.headers)
    assert response.status_code == 201, response.json
    return response.json
