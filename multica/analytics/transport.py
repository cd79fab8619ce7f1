"""One keep-alive HTTP/1.1 connection to PostHog's `/batch/` endpoint, on the standard library.

The worker posts a batch at a time from one thread, so it needs no pool, redirects, cookies or
proxies: `http.client` does the job at about a third of httpx's CPU per request (benchmarked in
docs/performance.md), and that CPU is taken from the requests the same process serves.
"""

from __future__ import annotations

import http.client
import ssl
from urllib.parse import urlsplit

# A reused connection the server had already closed fails like this before any answer; the
# request is sent again once on a fresh connection (PostHog de-duplicates events on uuid anyway).
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, http.client.CannotSendRequest)


class BatchConnection:
    """POSTs to one URL over a connection kept open between requests."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str | None]:
        """Send `body`; (status, Retry-After header). Transport failures raise."""
        reused = self._connection is not None
        try:
            return self._exchange(body, headers, timeout)
        except _STALE:
            self.close()
            if not reused:
                raise
        return self._exchange(body, headers, timeout)

    def _exchange(self, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str | None]:
        connection = self._open(timeout)
        try:
            connection.request("POST", self._path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, response.getheader("Retry-After")

    def _open(self, timeout: float) -> http.client.HTTPConnection:
        connection = self._connection
        if connection is None:
            if self._https:
                connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            self._connection = connection
        else:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
        return connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
