"""A releases feed (GitHub's list-releases API, as far as `/download` reads it) on a real local HTTP server.

It answers `GET <any path>/releases` with the releases it was given, or a scripted failure (a
status, a body that is not JSON, a delay past the client's timeout), can hold answers behind a gate,
and serves installer URLs (`/assets/<name>`) with 204 so a clicked installer link leaves the page be.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RELEASES_PATH = "/repos/multica-ai/multica/releases"


def release(tag: str, *, age: timedelta, assets=(), prerelease: bool = False, draft: bool = False, base: str = "") -> dict:
    """One release as GitHub lists it, published `age` ago, with assets named `assets`."""
    published = (datetime.now(timezone.utc) - age).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "tag_name": tag,
        "name": tag,
        "draft": draft,
        "prerelease": prerelease,
        "published_at": None if draft else published,
        "html_url": f"https://github.com/multica-ai/multica/releases/tag/{tag}",
        "assets": [{"name": name, "browser_download_url": f"{base}/assets/{name}"} for name in assets],
    }


def installers(version: str) -> list[str]:
    """The asset names of a full release: all ten slots plus the files the grammar ignores."""
    return [
        f"multica-desktop-{version}-mac-arm64.dmg",
        f"multica-desktop-{version}-mac-arm64.zip",
        f"multica-desktop-{version}-mac-arm64.dmg.blockmap",
        f"multica-desktop-{version}-windows-x64.exe",
        f"multica-desktop-{version}-windows-arm64.exe",
        f"multica-desktop-{version}-windows-x64.exe.blockmap",
        f"multica-desktop-{version}-linux-x86_64.AppImage",
        f"multica-desktop-{version}-linux-amd64.deb",
        f"multica-desktop-{version}-linux-x86_64.rpm",
        f"multica-desktop-{version}-linux-arm64.AppImage",
        f"multica-desktop-{version}-linux-arm64.deb",
        f"multica-desktop-{version}-linux-aarch64.rpm",
        "latest-mac.yml",
        "checksums.txt",
    ]


class FeedServer:
    """`FeedServer().start()`; `api_url` is what `RELEASES_API_URL` should be."""

    def __init__(self) -> None:
        self.releases: list[dict] = []
        self.status = 200
        self.raw_body: bytes | None = None
        self.delay = 0.0
        self.requests: list[dict] = []  # {"path", "headers"} of every releases request
        self.answered = 0  # releases requests answered so far
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> "FeedServer":
        feed = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path.startswith("/assets/"):
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                feed._answer(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.gate.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + RELEASES_PATH

    def asset_url(self, name: str) -> str:
        """Where `release(..., base=feed.url)` points an asset."""
        return f"{self.url}/assets/{name}"

    def publish(self, *releases: dict) -> None:
        """Answer 200 with these releases (newest first, as GitHub lists them)."""
        self.releases, self.status, self.raw_body = list(releases), 200, None

    def fail(self, status: int, body: bytes = b'{"message": "API rate limit exceeded"}') -> None:
        """Answer `status` with `body`."""
        self.status, self.raw_body = status, body

    def answer_raw(self, body: bytes) -> None:
        """Answer 200 with `body` as it is (bad JSON, a wrong shape)."""
        self.status, self.raw_body = 200, body

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> bool:
        """Block until `count` releases requests have arrived."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.requests) >= count, timeout)

    def wait_for_answers(self, count: int, timeout: float = 30.0) -> bool:
        """Block until `count` releases requests have been answered."""
        with self._lock:
            return self._lock.wait_for(lambda: self.answered >= count, timeout)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append({"path": handler.path, "headers": dict(handler.headers.items())})
            self._lock.notify_all()
        self.gate.wait()
        if self.delay:
            self._stopping.wait(self.delay)
        body = self.raw_body if self.raw_body is not None else json.dumps(self.releases).encode()
        try:
            handler.send_response(self.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the client gave up (a timeout test)
        with self._lock:
            self.answered += 1
            self._lock.notify_all()
