"""The chat tests use the task tests' fixtures: a workspace, its daemon token, a runtime, an agent and a real daemon."""

from tests.tasks.conftest import agent, loop, runtime  # noqa: F401
