"""Running agent tasks on this machine: claim, start, run the agent's CLI headless, report (D15.8).

Each runtime gets `concurrency` worker threads. A worker claims the oldest queued task of its
runtime, reports it started, runs the command with the prompt on stdin under the task timeout and
reports the outcome: complete with stdout, or fail with the tail of stderr and what went wrong in
words the server's classifier files (`exit status N`, `timed out after …`, `executable not found`).
When the daemon stops, running commands are killed and their tasks failed before it deregisters.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import TextIO

from multica.daemon import DaemonError, ServerFailed, ServerUnreachable, TokenRejected, backoff_delay

# The headless form of each known agent CLI; the prompt goes to stdin.
PROVIDER_COMMANDS = {"claude": ["claude", "-p"], "codex": ["codex", "exec", "-"]}
ERROR_TAIL_CHARS = 8000
SHELL_NOT_FOUND = 127


@dataclass(frozen=True)
class Outcome:
    """How a run ended: `ok` with the agent's stdout, or not with an error text for the server."""

    ok: bool
    output: str


def command_for(provider: str, exec_command: str | None) -> str | list[str] | None:
    """The shell command given with `--exec`, else the provider's CLI when it is on PATH (None if not)."""
    if exec_command:
        return exec_command
    argv = PROVIDER_COMMANDS.get(provider, [provider])
    return argv if shutil.which(argv[0]) else None


def _seconds_text(seconds: float) -> str:
    """`90s`, `1.5s`: how long the timeout was."""
    return f"{seconds:g}s"


def _tail(text: str) -> str:
    """The end of an error output, where the cause usually is."""
    text = text.strip()
    return text if len(text) <= ERROR_TAIL_CHARS else "…" + text[-ERROR_TAIL_CHARS:]


def _kill(process: subprocess.Popen, signum: int = signal.SIGKILL) -> None:
    """Signal the command's whole process group (a shell and whatever it started)."""
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class ProcessRegistry:
    """The commands running now, so a stopping daemon can end them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen] = set()
        self.stopping = False

    def add(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._running.add(process)
            stopping = self.stopping
        if stopping:
            _kill(process)

    def discard(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._running.discard(process)

    def kill_all(self) -> None:
        """Mark the registry stopping and kill every running command."""
        with self._lock:
            self.stopping = True
            running = list(self._running)
        for process in running:
            _kill(process)


def run_agent(command: str | list[str] | None, prompt: str, timeout: float, registry: ProcessRegistry, *, provider: str = "") -> Outcome:
    """Run the agent command with `prompt` on stdin and at most `timeout` seconds."""
    if command is None:
        return Outcome(False, f"executable not found: {provider or 'agent'} CLI is not on PATH (use --exec CMD)")
    try:
        process = subprocess.Popen(
            command, shell=isinstance(command, str), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        return Outcome(False, f"executable not found: {command[0] if isinstance(command, list) else command}")
    except OSError as error:
        return Outcome(False, f"could not start the agent: {error}")
    registry.add(process)
    try:
        try:
            stdout, stderr = process.communicate(prompt.encode("utf-8"), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            stdout, stderr = process.communicate()
            tail = _tail(stderr.decode("utf-8", "replace"))
            return Outcome(False, f"{tail}\n{provider or 'agent'} timed out after {_seconds_text(timeout)}".strip())
    finally:
        registry.discard(process)
    out, err = stdout.decode("utf-8", "replace"), _tail(stderr.decode("utf-8", "replace"))
    if registry.stopping:
        return Outcome(False, f"{err}\nthe daemon was stopped (signal) before the agent finished".strip())
    if process.returncode == 0:
        return Outcome(True, out)
    if process.returncode == SHELL_NOT_FOUND and isinstance(command, str):
        return Outcome(False, f"{err}\nexecutable not found (exit status {SHELL_NOT_FOUND})".strip())
    if process.returncode < 0:
        return Outcome(False, f"{err}\nagent terminated by signal {-process.returncode}".strip())
    return Outcome(False, f"{err}\nexit status {process.returncode}".strip())


class TaskWorkers:
    """Worker threads claiming and running tasks for the daemon's runtimes."""

    def __init__(self, client, settings, runtimes: list[dict], stop: threading.Event, *,
                 out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.client, self.settings, self.stop = client, settings, stop
        self.out, self.err = out, err
        self.registry = ProcessRegistry()
        self.rejected: TokenRejected | None = None
        # provider -> the server's runtime id; replaced when the daemon registers again.
        self.runtime_ids: dict[str, str] = {}
        self.update(runtimes)
        self.threads = [
            threading.Thread(target=self._work, args=(provider,), name=f"task-worker-{provider}-{slot}", daemon=True)
            for provider in list(self.runtime_ids)
            for slot in range(max(1, settings.concurrency))
        ]

    def update(self, runtimes: list[dict]) -> None:
        """Use these runtime ids from now on (after a re-registration)."""
        for runtime in runtimes:
            if runtime.get("id") and runtime.get("provider"):
                self.runtime_ids[runtime["provider"]] = runtime["id"]

    def start(self) -> "TaskWorkers":
        for thread in self.threads:
            thread.start()
        return self

    def shutdown(self, timeout: float = 10.0) -> None:
        """Kill running commands; wait for the workers to report their tasks failed."""
        self.stop.set()
        self.registry.kill_all()
        for thread in self.threads:
            thread.join(timeout)

    def _say(self, message: str, *, error: bool = False) -> None:
        print(message, file=self.err if error else self.out, flush=True)

    def _work(self, provider: str) -> None:
        """Claim and run tasks for one runtime until the daemon stops."""
        failures = 0
        while not self.stop.is_set():
            runtime = {"id": self.runtime_ids[provider], "provider": provider}
            try:
                task = self.client.claim(runtime["id"])
            except TokenRejected as error:
                # Retrying cannot help; the daemon ends with the rejected-token status.
                if self.rejected is None:
                    self.rejected = error
                    self._say(f"error: {error}", error=True)
                self.stop.set()
                return
            except (ServerUnreachable, ServerFailed, DaemonError) as error:
                failures += 1
                self._say(f"warning: claim failed ({error})", error=True)
                self.stop.wait(backoff_delay(failures))
                continue
            failures = 0
            if task is None:
                self.stop.wait(self.settings.poll_interval)
                continue
            self._execute(runtime, task)

    def _execute(self, runtime: dict, task: dict) -> None:
        """Start, run and report one claimed task."""
        task_id, provider = task["id"], runtime.get("provider", "")
        try:
            self.client.start(task_id)
        except DaemonError as error:
            self._say(f"warning: could not start task {task_id} ({error})", error=True)
            return
        self._say(f"running task {task_id} (attempt {task.get('attempt')}) on {provider}")
        command = command_for(provider, self.settings.exec_command)
        outcome = run_agent(command, task.get("prompt") or "", self.settings.task_timeout, self.registry, provider=provider)
        try:
            if outcome.ok:
                self.client.complete(task_id, outcome.output)
                self._say(f"task {task_id} completed")
            else:
                self.client.fail(task_id, outcome.output)
                self._say(f"task {task_id} failed: {outcome.output.splitlines()[-1] if outcome.output else ''}")
        except DaemonError as error:
            self._say(f"warning: could not report task {task_id} ({error})", error=True)
