"""Where the local cluster keeps what outlives a cluster: the tool cache and the default state."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "openstack-ccp"


def tools_dir() -> Path:
    return Path(os.environ.get("CCP_TOOLS_DIR", CACHE_ROOT / "tools"))


def tools_bin_dir() -> Path:
    return tools_dir() / "bin"
