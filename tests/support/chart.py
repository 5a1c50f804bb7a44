"""The chart as `helm template` renders it (release ccp in ccp-system unless told otherwise)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from localcluster import tools_bin_dir

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "openstack-ccp-operator"


def kube_version() -> str:
    """The Kubernetes version the local cluster runs (a helm built from source assumes 1.20)."""
    return re.search(r"KUBERNETES_VERSION:-(v[\d.]+)", (ROOT / "hack" / "versions.env").read_text()).group(1)


def render_text(*args: str, release: str = "ccp", namespace: str = "ccp-system") -> str:
    helm = tools_bin_dir() / "helm"
    assert helm.exists(), f"{helm} is missing: run `make tools`"
    return subprocess.run([str(helm), "template", release, str(CHART), "--namespace", namespace,
                           "--kube-version", kube_version(), *args],
                          capture_output=True, text=True, check=True, timeout=60).stdout


def render(*args: str, **where: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(render_text(*args, **where)) if doc]
