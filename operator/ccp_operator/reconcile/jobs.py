"""One-off Jobs (database setup, db syncs, bootstraps, registrations): the files a step reads
and the Job that runs it, the same for every kind; Reconciler.run_job creates it and waits."""

from __future__ import annotations

from typing import Any

from .. import kolla

SCRIPT = "job.sh"
SCRIPT_DEST = "/usr/local/bin/ccp-job.sh"  # where kolla_set_configs puts it, for kolla_start to run


def from_secret(env: str, secret: str, key: str) -> dict[str, Any]:
    """An environment variable of a Secret's key (passwords never enter the step's files)."""
    return {"name": env, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def step_files(script: str, user: str, config_files: list[tuple[str, str, str]] = (),
               directories: list[tuple[str, str, str]] = (), kolla_image: bool = True) -> dict[str, str]:
    """The files of a step's config Secret: its shell script (`set -e`), the configuration files it
    reads as (name, text, destination), and for a Kolla image the config.json that copies them
    into place, owned by `user`, with the key `directories` (name, destination, owner)."""
    files = {SCRIPT: "#!/bin/sh\nset -e\n" + script + "\n"}
    for name, text, _ in config_files:
        files[name] = text
    if kolla_image:
        entries = [(SCRIPT, SCRIPT_DEST, user, "0755")]
        entries += [(name, dest, user, "0600") for name, _, dest in config_files]
        files["config.json"] = kolla.config_json(SCRIPT_DEST, entries, directories)
    return files
