"""Write requests the API server's audit log attributes to a user."""

from __future__ import annotations

import json
from pathlib import Path

WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


class AuditLog:
    def __init__(self, path: Path):
        self.path = path

    def mark(self) -> int:
        """The current end of the log, to count from."""
        return self.path.stat().st_size if self.path.exists() else 0

    def writes_since(self, offset: int, user: str) -> list[dict]:
        events = []
        with open(self.path, "rb") as handle:
            handle.seek(offset)
            for line in handle:
                event = json.loads(line)
                if event.get("user", {}).get("username") == user and event.get("verb") in WRITE_VERBS:
                    events.append(event)
        return events
