"""The operator image's recipe, proved without a container engine: images/operator/install.sh (the
image's only install step) runs into a fresh virtualenv from exactly the files the Dockerfile
copies, and the result holds the operator, its runtime dependencies and its templates, and nothing
of the development tools. Needs the network (pip installs the dependencies)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "images" / "operator" / "Dockerfile"
INSTALL = "images/operator/install.sh"
TEMPLATES = ROOT / "operator" / "ccp_operator" / "templates"
RUNTIME = {"openstack-ccp-operator", "kopf", "kubernetes", "pyyaml", "jinja2", "prometheus-client", "etcd3gw"}
DEVELOPMENT = {"pytest", "pytest-timeout", "ccp-localcluster", "ccp-galera-agent"}


def instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            result.append((keyword.upper(), arguments.strip()))
    return result


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The instructions of each stage (from its FROM on)."""
    found: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions(text):
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, arguments))
    return found


def build_context(stage: list[tuple[str, str]], destination: Path) -> Path:
    """Copies what the build stage COPYs from the repository, where it COPYs it (its WORKDIR
    mapped to `destination`), so the install runs on no more than the image build gets."""
    workdir = Path("/")
    for keyword, arguments in stage:
        if keyword == "WORKDIR":
            workdir = workdir / arguments
        elif keyword == "COPY":
            words = shlex.split(arguments)
            assert not any(word.startswith("--") for word in words), f"COPY from the context only: {arguments}"
            *sources, target = words
            target_dir = destination / (workdir / target).relative_to(workdir)
            for source in sources:
                origin = ROOT / source
                into = target_dir / origin.name if target.endswith("/") or len(sources) > 1 else target_dir
                into.parent.mkdir(parents=True, exist_ok=True)
                if origin.is_dir():
                    shutil.copytree(origin, into, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
                else:
                    shutil.copy2(origin, into)
    return destination


def clean_env() -> dict[str, str]:
    """No virtualenv or PYTHONPATH of the test run leaks into the installed copy."""
    return {key: value for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}


@pytest.fixture(scope="module")
def dockerfile():
    return DOCKERFILE.read_text()


@pytest.fixture(scope="module")
def installed(tmp_path_factory, dockerfile):
    """install.sh run as the Dockerfile's build stage runs it, into a fresh virtualenv."""
    base = tmp_path_factory.mktemp("operator-image")
    source = build_context(stages(dockerfile)[0], base / "src")
    venv = base / "venv"
    started = time.monotonic()
    done = subprocess.run(["bash", str(source / INSTALL), str(venv), str(source)], cwd=base, env=clean_env(),
                          capture_output=True, text=True, timeout=840)
    elapsed = time.monotonic() - started
    print(f"install.sh took {elapsed:.1f} s")
    assert done.returncode == 0, f"install.sh failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return {"venv": venv, "source": source, "stdout": done.stdout, "seconds": elapsed}


def run_in(venv: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    # From another directory, so neither the repository nor the build context is on sys.path.
    done = subprocess.run([str(venv / "bin" / argv[0]), *argv[1:]], cwd=venv, env=clean_env(),
                          capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_install_script_reports_the_templates(installed):
    assert f"its {len(list(TEMPLATES.rglob('*.j2')))} templates installed" in installed["stdout"]


def test_ccp_operator_help_runs(installed):
    done = run_in(installed["venv"], "ccp-operator", "--help")
    assert done.stdout.startswith("usage: ccp-operator")
    assert "--leader-election" in done.stdout and "--http-address" in done.stdout


def test_runtime_dependencies_only(installed):
    listed = json.loads(run_in(installed["venv"], "python", "-m", "pip", "list", "--format=json",
                               "--disable-pip-version-check").stdout)
    names = {package["name"].lower().replace("_", "-") for package in listed}
    assert RUNTIME <= names, f"missing: {RUNTIME - names}"
    assert not DEVELOPMENT & names, f"development packages in the image: {DEVELOPMENT & names}"
    # Installed, not linked to a source tree.
    operator = next(package for package in listed if package["name"] == "openstack-ccp-operator")
    assert "editable_project_location" not in operator
    probe = run_in(installed["venv"], "python", "-I", "-c", "import localcluster", check=False)
    assert probe.returncode != 0 and "No module named 'localcluster'" in probe.stderr
    probe = run_in(installed["venv"], "python", "-I", "-c", "import pytest", check=False)
    assert probe.returncode != 0


def test_installed_copy_renders_from_its_own_templates(installed):
    venv = installed["venv"]
    code = """
import json
from pathlib import Path
from ccp_operator import render
from ccp_operator.reconcile.galera import GaleraReconciler
from ccp_operator.services import galera

body = {"apiVersion": "ccp.openstack.org/v1alpha1", "kind": "Galera", "spec": {},
        "metadata": {"name": "db", "namespace": "openstack", "uid": "u-1"}}
print(json.dumps({
    "module": render.__file__,
    "templates": sorted(render.environment().list_templates()),
    "haproxy": GaleraReconciler(None, body).haproxy_file(),
    "galera": render.render_file(galera.CONFIG_FILE, {
        "port": galera.PORT, "cluster_name": "openstack-db", "max_connections": galera.MAX_CONNECTIONS,
        "buffer_pool_size": galera.BUFFER_POOL_SIZE, "applier_threads": galera.APPLIER_THREADS,
        "provider_options": galera.provider_options()}),
}))
"""
    result = json.loads(run_in(venv, "python", "-I", "-c", code).stdout)
    module = Path(result["module"]).resolve()
    assert venv.resolve() in module.parents and "site-packages" in module.parts, module
    assert result["templates"] == sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.j2"))
    assert "db-galera-2.db-galera-peers.openstack.svc.cluster.local:3306" in result["haproxy"]
    assert "wsrep_cluster_name = openstack-db" in result["galera"]
    assert "wsrep_provider = /usr/lib/galera/libgalera_smm.so" in result["galera"]
    assert "{{" not in result["haproxy"] + result["galera"]


def test_dockerfile_installs_with_the_script_and_runs_unprivileged(dockerfile):
    build, final = stages(dockerfile)[0], stages(dockerfile)[-1]
    assert len(stages(dockerfile)) >= 2, "multi-stage: the final image has no build inputs"
    runs = [arguments for keyword, arguments in build if keyword == "RUN"]
    words = [word for word in shlex.split(runs[0]) if not word.startswith("--mount=")] if runs else []
    assert len(runs) == 1 and words[:2] == [INSTALL, "/opt/ccp"], runs
    assert (ROOT / INSTALL).stat().st_mode & 0o111, "install.sh is executable (the RUN line calls it directly)"

    assert not any(keyword == "RUN" for keyword, _ in final), "nothing installed in the final stage"
    copies = [arguments for keyword, arguments in final if keyword == "COPY"]
    assert copies == ["--from=build /opt/ccp /opt/ccp"]
    users = [arguments for keyword, arguments in final if keyword == "USER"]
    assert users, "the final stage sets USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or (gid.isdigit() and int(gid) != 0)), users[-1]
    entrypoints = [json.loads(arguments) for keyword, arguments in final if keyword == "ENTRYPOINT"]
    assert entrypoints[-1] == ["/opt/ccp/bin/ccp-operator"]
    assert "8080" in [arguments for keyword, arguments in final if keyword == "EXPOSE"]
    env = " ".join(arguments for keyword, arguments in final if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "PYTHONUNBUFFERED=1" in env
    bases = {arguments.split()[0] for keyword, arguments in instructions(dockerfile) if keyword == "FROM"}
    assert bases == {"${BASE_IMAGE}"}
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim-(trixie|bookworm)$", dockerfile, re.M)
