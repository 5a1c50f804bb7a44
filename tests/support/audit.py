"""Write requests the API server's audit log attributes to a user."""

from __future__ import annotations

import json
from pathlib import Path

WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}
# Which token authenticated a request: each operator process of the tests has a token of its own.
CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"


class AuditLog:
    def __init__(self, path: Path):
        self.path = path

    def mark(self) -> int:
        """The current end of the log, to count from."""
        return self.path.stat().st_size if self.path.exists() else 0

    def writes_since(self, offset: int, user: str, credential: str | None = None) -> list[dict]:
        """Write requests of `user` (and of one of its tokens, when `credential` names its JTI)."""
        events = []
        with open(self.path, "rb") as handle:
            handle.seek(offset)
            for line in handle:
                event = json.loads(line)
                identity = event.get("user", {})
                if identity.get("username") != user or event.get("verb") not in WRITE_VERBS:
                    continue
                if credential and f"JTI={credential}" not in identity.get("extra", {}).get(CREDENTIAL_ID, []):
                    continue
                events.append(event)
        return events
