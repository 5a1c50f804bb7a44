"""What the benches measure the same way: the operator's write requests (from the API server's
audit log, where the operator has a user of its own) and its memory."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from localcluster.operator import USER

WRITES = {"create", "update", "patch", "delete", "deletecollection"}


def operator_writes(audit_log: Path, offset: int) -> Counter:
    """The operator's write requests logged after `offset` bytes, by verb and resource."""
    counts: Counter = Counter()
    with open(audit_log, "rb") as handle:
        handle.seek(offset)
        for line in handle:
            event = json.loads(line)
            if event["user"]["username"] == USER and event["verb"] in WRITES:
                ref = event.get("objectRef", {})
                subresource = f"/{ref['subresource']}" if ref.get("subresource") else ""
                counts[f"{event['verb']} {ref.get('resource')}{subresource}"] += 1
    return counts


def memory_mib(pid: int) -> dict[str, float]:
    """The process's peak (VmHWM) and current (VmRSS) resident memory."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def idle_writes(audit_log: Path, seconds: float) -> Counter:
    """The operator's writes while nothing changes for `seconds`, once the retries already
    scheduled when the resource became Ready have run."""
    time.sleep(30)
    mark = audit_log.stat().st_size
    print(f"  idle for {seconds:.0f}s ...", flush=True)
    time.sleep(seconds)
    return operator_writes(audit_log, mark)
