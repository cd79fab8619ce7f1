"""A fast PostHog `/batch/` sink for benchmarks, run in its own process on 127.0.0.1.

`tests/sink.py` is a ThreadingHTTPServer that lives in the process under test, so at high rates it
competes with the client for the GIL and becomes the bottleneck. This sink is a single asyncio
process: it still reads every request, gunzips `Content-Encoding: gzip` bodies (posthog-python's
`gzip=True`), parses the JSON and counts the `batch` items, but does nothing else.

    python benchmarks/fastsink.py [--port 0] [--port-file PATH] [--blackhole]

prints `PORT <n>` on stdout once it listens. Control endpoints (plain HTTP, any client):

    GET  /_stats                     {"events", "requests", "bad", "bytes", "held", "mode"}
    GET  /_wait?events=N&timeout=S   long-poll: answers once `events >= N` (or after S seconds)
    POST /_reset                     zero the counters
    POST /_mode/healthy              answer every batch 200 {"status":1}
    POST /_mode/blackhole            read each batch, never answer (connections are held open)
    POST /_quit                      exit

`SinkProcess` below starts one from Python and talks to those endpoints.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import http.client
import json
import os
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

_OK = b'{"status":1}'


class _Sink:
    def __init__(self, blackhole: bool) -> None:
        self.events = 0
        self.requests = 0
        self.bad = 0
        self.bytes = 0
        self.held = 0
        self.blackhole = blackhole
        self.changed = asyncio.Condition()
        self.quit = asyncio.Event()

    def stats(self) -> dict:
        return {
            "events": self.events,
            "requests": self.requests,
            "bad": self.bad,
            "bytes": self.bytes,
            "held": self.held,
            "mode": "blackhole" if self.blackhole else "healthy",
        }

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    body = await self._read_chunked(reader)
                else:
                    body = await reader.readexactly(length) if length else b""
                path = urlsplit(target).path
                if path.startswith("/_"):
                    status, payload = await self.control(method, target)
                else:
                    if self.blackhole:
                        # Hold the connection: never answer, wait for the client to give up.
                        self.held += 1
                        try:
                            await reader.read()
                        finally:
                            self.held -= 1
                        return
                    status, payload = self.batch(body, headers.get("content-encoding", ""))
                writer.write(
                    b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                    % (status, len(payload), payload)
                )
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 - a broken client must not kill the sink
            return
        finally:
            writer.close()

    async def _read_chunked(self, reader: asyncio.StreamReader) -> bytes:
        parts = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readline()

    def batch(self, body: bytes, encoding: str) -> tuple[int, bytes]:
        self.requests += 1
        self.bytes += len(body)
        try:
            if encoding.lower() == "gzip":
                body = gzip.decompress(body)
            data = json.loads(body)
            count = len(data["batch"])
        except Exception:  # noqa: BLE001
            self.bad += 1
            return 400, b'{"error":"bad batch"}'
        self.events += count
        if self._waiters:
            asyncio.get_running_loop().create_task(self._notify())
        return 200, _OK

    _waiters = 0

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def control(self, method: str, target: str) -> tuple[int, bytes]:
        parts = urlsplit(target)
        path = parts.path
        if path == "/_stats":
            return 200, json.dumps(self.stats()).encode()
        if path == "/_wait":
            query = parse_qs(parts.query)
            want = int(query.get("events", ["0"])[0])
            timeout = float(query.get("timeout", ["60"])[0])
            deadline = time.monotonic() + timeout
            self._waiters += 1
            try:
                async with self.changed:
                    while self.events < want:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        try:
                            await asyncio.wait_for(self.changed.wait(), min(remaining, 0.05))
                        except asyncio.TimeoutError:
                            pass
            finally:
                self._waiters -= 1
            return 200, json.dumps(self.stats()).encode()
        if method == "POST" and path == "/_reset":
            self.events = self.requests = self.bad = self.bytes = 0
            return 200, b"{}"
        if method == "POST" and path.startswith("/_mode/"):
            mode = path.rsplit("/", 1)[1]
            if mode not in ("healthy", "blackhole"):
                return 400, b'{"error":"mode"}'
            self.blackhole = mode == "blackhole"
            return 200, json.dumps(self.stats()).encode()
        if method == "POST" and path == "/_quit":
            self.quit.set()
            return 200, b"{}"
        return 404, b'{"error":"not found"}'


async def _serve(port: int, port_file: str | None, blackhole: bool) -> None:
    sink = _Sink(blackhole)
    server = await asyncio.start_server(sink.handle, "127.0.0.1", port, backlog=1024, limit=1 << 22)
    actual = server.sockets[0].getsockname()[1]
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(str(actual))
        os.replace(tmp, port_file)
    print(f"PORT {actual}", flush=True)
    async with server:
        await sink.quit.wait()
        await asyncio.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--blackhole", action="store_true")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args.port, args.port_file, args.blackhole))
    except KeyboardInterrupt:
        pass


class SinkProcess:
    """`with SinkProcess() as sink:` — a fastsink in a child process; `sink.url` is the host."""

    def __init__(self, *, blackhole: bool = False) -> None:
        self._blackhole = blackhole
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> "SinkProcess":
        cmd = [sys.executable, os.path.abspath(__file__)] + (["--blackhole"] if self._blackhole else [])
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"fastsink did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _call(self, method: str, path: str, timeout: float = 10.0) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=b"" if method == "POST" else None)
            return json.loads(conn.getresponse().read() or b"{}")
        finally:
            conn.close()

    def stats(self) -> dict:
        return self._call("GET", "/_stats")

    def wait_for(self, events: int, timeout: float) -> dict:
        """Block (in a socket read, without holding the GIL) until the sink counted `events`."""
        return self._call("GET", f"/_wait?events={events}&timeout={timeout}", timeout=timeout + 5)

    def reset(self) -> None:
        self._call("POST", "/_reset")

    def healthy(self) -> None:
        self._call("POST", "/_mode/healthy")

    def blackhole(self) -> None:
        self._call("POST", "/_mode/blackhole")

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            self._call("POST", "/_quit", timeout=2)
        except Exception:  # noqa: BLE001
            pass
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> "SinkProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    main()
