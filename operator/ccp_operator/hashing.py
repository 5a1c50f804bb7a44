"""Stable content hashes: sha256 over canonical JSON.

Python's built-in hash() is randomised per process, so a hash of it in a pod template would roll
every workload on each operator restart; these hashes depend on content only.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(value: Any) -> str:
    """The full hex sha256 of `value`'s canonical JSON."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def short_hash(value: Any, length: int = 10) -> str:
    """A name-safe prefix of content_hash, for object names that change with their content."""
    return content_hash(value)[:length]
