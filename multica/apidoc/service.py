"""Reading the committed OpenAPI description (`docs/openapi.yaml`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from multica.config import PROJECT_ROOT

DESCRIPTION_PATH = PROJECT_ROOT / "docs" / "openapi.yaml"


def read_description(path: Path = DESCRIPTION_PATH) -> dict:
    """The description at `path` as a mapping (the YAML is parsed safely; status codes stay strings)."""
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not an OpenAPI document")
    return document


@lru_cache(maxsize=1)
def api_description() -> dict:
    """The committed description, read once per process (it ships with the code, so it cannot change)."""
    return read_description()
