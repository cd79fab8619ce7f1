"""A process that replays a shared spool directory, for the two-process test of D17.

    python replay_process.py <sink url> <spool dir>

It starts a client on the directory, waits until no segment is left (or 30 s), closes the client
and prints how many events it replayed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from multica.analytics.client import PostHogClient  # noqa: E402
from multica.analytics.spool import Spool  # noqa: E402


def main(url: str, directory: str) -> None:
    client = PostHogClient("test-key", url, batch_size=50, flush_interval=0.05, spool=Spool(directory, 64 * 1024 * 1024))
    client.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and list(Path(directory).glob("*.seg")):
        time.sleep(0.02)
    client.close()
    print("replayed", client.replayed)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
