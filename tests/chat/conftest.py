"""The chat tests use the task tests' fixtures: a workspace, its daemon token, a runtime, an agent and a real daemon."""

from tests.tasks.conftest import agent, daemon, loop, owner, runtime, workspace  # noqa: F401
