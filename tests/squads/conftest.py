"""The squad tests use the task tests' fixtures: a workspace, its daemon token, a runtime and an agent."""

from tests.tasks.conftest import agent, runtime  # noqa: F401
