"""The value every emission site builds and the client ships (SPEC §2.4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Event:
    """One analytics event as built by an emission site (SPEC §2.4)."""

    name: str
    distinct_id: str
    properties: dict[str, Any] = field(default_factory=dict)
    workspace_id: str = ""
    set: dict[str, Any] | None = None
    set_once: dict[str, Any] | None = None
    timestamp: datetime | None = None
    # False for synthetic or anonymous distinct ids that must not become `user_id` (an inquiry id,
    # a browser's anonymous id).
    stamp_user_id: bool = True
