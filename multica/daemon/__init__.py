"""The local daemon: reports this machine's agent CLIs as runtimes of a workspace and keeps them online.

`python -m multica.daemon --server URL --token mdt_... --provider claude` registers, heartbeats every
`--interval` seconds, runs the tasks queued for its runtimes (`multica.daemon.runner`, D15.8) and
deregisters on SIGINT/SIGTERM (D12, SPEC §6.1). It needs only httpx.
Startup failures end the process with a clear message; once running, an unreachable or failing
server is retried with capped exponential backoff, while a rejected token stops the daemon.
"""

from __future__ import annotations

import random
import socket
import sys
import threading
from dataclasses import dataclass, field
from typing import TextIO

import httpx

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_REJECTED = 3
EXIT_UNREACHABLE = 4
MAX_BACKOFF_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 10.0
DAEMON_VERSION = "0.1.0"


class DaemonError(Exception):
    """A failure worth telling the user about; `exit_code` is what the process ends with."""

    exit_code = EXIT_ERROR


class TokenRejected(DaemonError):
    """The server answered 401: the token is unknown or was revoked. Retrying cannot help."""

    exit_code = EXIT_REJECTED


class ServerUnreachable(DaemonError):
    """No HTTP answer at all (refused, DNS, timeout). Transient while running."""

    exit_code = EXIT_UNREACHABLE


class ServerFailed(DaemonError):
    """The server answered 5xx. Transient while running."""


class NotRegistered(DaemonError):
    """The server no longer knows this daemon (heartbeat 404): register again."""


def _hostname() -> str:
    """This machine's name, printable characters only."""
    return "".join(char for char in socket.gethostname().strip() if char.isprintable())[:200] or "localhost"


def default_daemon_id() -> str:
    """A stable id for this machine: its lowercased hostname (the same runtimes on every restart)."""
    return _hostname().lower()


@dataclass
class Settings:
    """What the daemon reports and how often."""

    server: str
    token: str
    providers: list[str]
    daemon_id: str
    interval: float = 15.0
    name: str = field(default_factory=_hostname)
    exec_command: str | None = None
    task_timeout: float = 3600.0
    concurrency: int = 1
    poll_interval: float = 1.0


def backoff_delay(failures: int, *, cap: float = MAX_BACKOFF_SECONDS) -> float:
    """Seconds before retry number `failures` (1, 2, 4, ... capped), with jitter so daemons spread out."""
    base = min(cap, 2.0 ** max(0, failures - 1))
    return base * random.uniform(0.5, 1.0)


class DaemonClient:
    """The daemon side of `/api/daemon/*`."""

    def __init__(self, server: str, token: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.server = server.rstrip("/")
        self.http = httpx.Client(
            base_url=self.server,
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"multica-daemon/{DAEMON_VERSION}"},
            timeout=REQUEST_TIMEOUT_SECONDS,
            transport=transport,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self.http.close()

    def _post(self, path: str, body: dict) -> dict:
        """POST JSON and return the JSON answer (`{}` for 204), or raise the DaemonError that describes the failure."""
        try:
            response = self.http.post(path, json=body)
        except httpx.TransportError as error:
            raise ServerUnreachable(f"cannot reach the server at {self.server} ({type(error).__name__}: {error})") from None
        if response.status_code == 401:
            raise TokenRejected(
                f"the server rejected the daemon token ({_error_text(response)}); create a new token for the workspace"
            )
        if response.status_code == 404 and path.endswith("/heartbeat"):
            raise NotRegistered("the server does not know this daemon")
        if response.status_code >= 500:
            raise ServerFailed(f"the server failed: {response.status_code} {_error_text(response)}")
        if response.status_code >= 400:
            raise DaemonError(f"the server refused the request: {response.status_code} {_error_text(response)}")
        if response.status_code == 204:
            return {}
        try:
            return response.json()
        except ValueError:
            raise ServerFailed(f"the server answered {path} with something other than JSON; is {self.server} a multica server?") from None

    def register(self, settings: Settings) -> list[dict]:
        """Register every provider; the server's view of the runtimes."""
        body = {"daemon_id": settings.daemon_id, "providers": settings.providers, "cli_version": DAEMON_VERSION, "name": settings.name}
        return self._post("/api/daemon/register", body).get("runtimes", [])

    def heartbeat(self, daemon_id: str) -> list[dict]:
        """Tell the server the daemon is alive."""
        return self._post("/api/daemon/heartbeat", {"daemon_id": daemon_id}).get("runtimes", [])

    def deregister(self, daemon_id: str) -> list[dict]:
        """Tell the server the daemon is going away."""
        return self._post("/api/daemon/deregister", {"daemon_id": daemon_id}).get("runtimes", [])

    def claim(self, runtime_id: str) -> dict | None:
        """The runtime's next task, or None when nothing is queued."""
        return self._post("/api/daemon/tasks/claim", {"runtime_id": runtime_id}).get("task")

    def start(self, task_id: str) -> dict:
        """Report that the task is running."""
        return self._post(f"/api/daemon/tasks/{task_id}/start", {})

    def complete(self, task_id: str, result: str) -> dict:
        """Report the agent's output."""
        return self._post(f"/api/daemon/tasks/{task_id}/complete", {"result": result})

    def fail(self, task_id: str, error: str) -> dict:
        """Report why the agent failed; the server classifies the text."""
        return self._post(f"/api/daemon/tasks/{task_id}/fail", {"error": error})


def _error_text(response: httpx.Response) -> str:
    """The `error` of a JSON error body, else the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    return str(body.get("error")) if isinstance(body, dict) and body.get("error") else response.reason_phrase


def _print_runtimes(runtimes: list[dict], out: TextIO) -> None:
    for runtime in runtimes:
        print(f"  {runtime.get('provider')}  {runtime.get('status')}  id={runtime.get('id')}", file=out, flush=True)


def run(
    client: DaemonClient, settings: Settings, stop: threading.Event, *, once: bool = False,
    out: TextIO = sys.stdout, err: TextIO = sys.stderr,
) -> int:
    """Register, run tasks and heartbeat until `stop` is set, then fail what still runs and deregister."""
    try:
        runtimes = client.register(settings)
    except DaemonError as error:
        print(f"error: {error}", file=err, flush=True)
        return error.exit_code
    print(f"registered {len(runtimes)} runtime(s) for daemon {settings.daemon_id} at {client.server}:", file=out, flush=True)
    _print_runtimes(runtimes, out)
    if once:
        return EXIT_OK
    from multica.daemon.runner import TaskWorkers  # the runner builds on this module's client and errors

    workers = TaskWorkers(client, settings, runtimes, stop, out=out, err=err).start()
    try:
        code = _heartbeat_until_stopped(client, settings, stop, out=out, err=err, on_register=workers.update)
    finally:
        # Running commands are killed and their tasks failed before the runtimes go offline.
        workers.shutdown()
    if code is not None:
        return code
    if workers.rejected is not None:
        return workers.rejected.exit_code
    return _deregister(client, settings, out=out, err=err)


def _heartbeat_until_stopped(
    client: DaemonClient, settings: Settings, stop: threading.Event, *, out: TextIO, err: TextIO, on_register=None,
) -> int | None:
    """Heartbeat every interval until `stop`; an exit code when the daemon must end without deregistering."""
    failures = 0
    delay = settings.interval
    while not stop.wait(delay):
        try:
            try:
                client.heartbeat(settings.daemon_id)
            except NotRegistered:
                # The runtimes were removed server-side while we ran: put them back.
                runtimes = client.register(settings)
                if on_register is not None:
                    on_register(runtimes)
                print(f"re-registered {len(runtimes)} runtime(s)", file=out, flush=True)
        except (ServerUnreachable, ServerFailed) as error:
            failures += 1
            delay = backoff_delay(failures)
            print(f"warning: heartbeat failed ({error}); retrying in {delay:.1f}s", file=err, flush=True)
            continue
        except DaemonError as error:
            # A rejected token or a refused request: retrying cannot fix either.
            print(f"error: {error}", file=err, flush=True)
            return error.exit_code
        if failures:
            print("heartbeat restored", file=out, flush=True)
        failures, delay = 0, settings.interval
    return None


def _deregister(client: DaemonClient, settings: Settings, *, out: TextIO, err: TextIO) -> int:
    """Tell the server the runtimes are going offline; a failure is only a warning."""
    try:
        runtimes = client.deregister(settings.daemon_id)
    except DaemonError as error:
        print(
            f"warning: could not deregister ({error}); the server marks the runtimes offline once heartbeats stop",
            file=err, flush=True,
        )
        return EXIT_OK
    print(f"deregistered daemon {settings.daemon_id}; {len(runtimes)} runtime(s) offline", file=out, flush=True)
    return EXIT_OK
