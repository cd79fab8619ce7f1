"""The worker's keep-alive connection to `/batch/` against real sockets."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from multica.analytics.client import Event, PostHogClient
from multica.analytics.transport import BatchConnection


class ClosingServer:
    """Answers each request 200 with keep-alive headers, then closes the socket anyway (as servers
    with a short idle timeout do), so the client's next request finds its connection dead."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
                )
                while len(rest) < length:
                    rest += conn.recv(65536)
                self.requests += 1
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n{\"status\":1}")
                time.sleep(0.05)  # the close reaches the client before its next request

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def closing_server():
    server = ClosingServer()
    yield server
    server.close()


def test_a_connection_the_server_closed_is_replaced_without_an_error(closing_server):
    connection = BatchConnection(f"http://127.0.0.1:{closing_server.port}/batch/")
    for _ in range(3):
        status, _ = connection.post(b"{}", {"Content-Type": "application/json"}, 2.0)
        assert status == 200
        time.sleep(0.1)
    connection.close()
    assert closing_server.requests == 3
    assert closing_server.connections == 3


def test_the_client_counts_no_retry_for_a_stale_connection(closing_server):
    client = PostHogClient(
        "test-key", f"http://127.0.0.1:{closing_server.port}", batch_size=1, flush_interval=0.05, timeout=2.0,
    )
    for i in range(4):
        client.capture(Event("signup", f"u{i}"))
        time.sleep(0.2)
    client.close()
    assert client.sent == 4
    assert client.retried == 0 and client.failed == 0


def test_a_url_that_is_not_http_is_refused():
    with pytest.raises(ValueError):
        BatchConnection("ftp://example.com/batch/")


def test_a_server_that_never_answers_times_out():
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        connection = BatchConnection(f"http://127.0.0.1:{listener.getsockname()[1]}/batch/")
        began = time.monotonic()
        with pytest.raises(TimeoutError):
            connection.post(b"{}", {}, 0.3)
        assert time.monotonic() - began < 2
    finally:
        listener.close()
