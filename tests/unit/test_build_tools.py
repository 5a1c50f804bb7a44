"""hack/build-tools.sh fails with one clear line and leaves nothing half-built."""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "hack" / "build-tools.sh"


def run(tmp_path, *args, env=None):
    environment = {**os.environ, "CCP_TOOLS_DIR": str(tmp_path / "tools"), **(env or {})}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=environment, timeout=300)


def test_missing_go_is_one_clear_line(tmp_path):
    done = run(tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "build-tools: error: Go is not installed (need Go >= 1.26 on PATH to build the cluster programs)"]


def test_unknown_program_is_refused(tmp_path):
    done = run(tmp_path, "kube-router")
    assert done.returncode == 1
    assert "unknown program 'kube-router'" in done.stderr


@pytest.mark.skipif(not any((Path(p) / "go").exists() for p in os.environ["PATH"].split(":")), reason="needs Go")
def test_failed_build_leaves_nothing_behind(tmp_path):
    done = run(tmp_path, "kwok", env={"KWOK_VERSION": "v0.7.999"})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("build-tools: error: go build of kwok v0.7.999 failed:")
    assert "full log:" in lines[0]
    assert not (tmp_path / "tools" / "kwok-v0.7.999").exists()
    assert not (tmp_path / "tools" / "bin" / "kwok").exists()
