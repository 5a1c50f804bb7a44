"""The config.json that Kolla images' kolla_start reads.

Kolla images start with kolla_start, which copies the files config.json lists from
/var/lib/kolla/config_files (where the operator mounts the component's config Secret) to their
destinations with the given owner and mode, then runs the command.
"""

from __future__ import annotations

import json
from typing import Iterable

CONFIG_DIR = "/var/lib/kolla/config_files"
CONFIG_STRATEGY = "COPY_ALWAYS"


def config_json(command: str, files: Iterable[tuple[str, str, str, str]],
                directories: Iterable[tuple[str, str, str]] = (), owned: Iterable[tuple[str, str]] = ()) -> str:
    """files: (name in the config dir, destination, owner, mode); directories: (name, dest dir,
    owner); owned: (path, owner) made the owner's, recursively, at every start (a host directory
    the kubelet created as root's)."""
    config_files = [
        {"source": f"{CONFIG_DIR}/{name}", "dest": dest, "owner": owner, "perm": mode}
        for name, dest, owner, mode in files
    ]
    permissions = []
    for name, dest, owner in directories:
        config_files.append({"source": f"{CONFIG_DIR}/{name}/*", "dest": f"{dest}/", "owner": owner, "perm": "0600"})
        permissions.append({"path": dest, "owner": f"{owner}:{owner}", "perm": "0700"})
    for path, owner in owned:
        permissions.append({"path": path, "owner": f"{owner}:{owner}", "recurse": True})
    document = {"command": command, "config_files": config_files}
    if permissions:
        document["permissions"] = permissions
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
