"""`python -m multica.daemon`: the command line of the local daemon."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from multica.daemon import (
    EXIT_REJECTED,
    EXIT_UNREACHABLE,
    DaemonClient,
    Settings,
    default_daemon_id,
    run,
)


def _server_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError("must be an http:// or https:// URL")
    return value.rstrip("/")


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return seconds


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The daemon's options; the token may come from MULTICA_DAEMON_TOKEN so it stays out of `ps`."""
    parser = argparse.ArgumentParser(
        prog="python -m multica.daemon",
        description="Report this machine's agent CLIs to a multica workspace, keep them online and run their tasks.",
        epilog=f"Exit status: 0 stopped by SIGINT/SIGTERM (after deregistering) or --once; 2 bad usage; "
        f"{EXIT_REJECTED} token rejected; {EXIT_UNREACHABLE} server unreachable at startup; 1 other errors.",
    )
    parser.add_argument("--server", required=True, type=_server_url, help="the multica server, e.g. http://localhost:5000")
    parser.add_argument("--token", default=os.environ.get("MULTICA_DAEMON_TOKEN"), help="daemon token (mdt_...); default $MULTICA_DAEMON_TOKEN")
    parser.add_argument("--provider", action="append", required=True, metavar="NAME", help="an agent CLI to report (repeatable): claude, codex, ...")
    parser.add_argument("--daemon-id", default=None, help="stable id of this daemon (default: this machine's hostname)")
    parser.add_argument("--interval", type=_positive_seconds, default=15.0, metavar="SECONDS", help="heartbeat interval (default 15)")
    parser.add_argument("--once", action="store_true", help="register, print the runtimes and exit without heartbeating")
    parser.add_argument(
        "--exec", dest="exec_command", default=None, metavar="CMD",
        help="run tasks with this shell command, the prompt on stdin (default: the provider's CLI headless: claude -p, codex exec)",
    )
    parser.add_argument("--task-timeout", type=_positive_seconds, default=3600.0, metavar="SECONDS", help="fail a task that runs longer (default 3600)")
    parser.add_argument("--concurrency", type=_positive_int, default=1, metavar="N", help="tasks run at once per runtime (default 1)")
    parser.add_argument("--poll-interval", type=_positive_seconds, default=1.0, metavar="SECONDS", help="wait between claims when idle (default 1)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or MULTICA_DAEMON_TOKEN) is required")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the daemon until SIGINT/SIGTERM; returns the exit status."""
    args = parse_args(argv)
    settings = Settings(
        server=args.server, token=args.token, providers=args.provider,
        daemon_id=args.daemon_id or default_daemon_id(), interval=args.interval, exec_command=args.exec_command,
        task_timeout=args.task_timeout, concurrency=args.concurrency, poll_interval=args.poll_interval,
    )
    if args.daemon_id:
        settings.name = args.daemon_id  # the runtime is listed under the id the user chose
    stop = threading.Event()
    # Both signals end the heartbeat loop the same way, so Ctrl-C also deregisters.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    client = DaemonClient(settings.server, settings.token)
    try:
        return run(client, settings, stop, once=args.once)
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
