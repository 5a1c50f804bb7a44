"""The images built here hold what the operator runs in them.

Every image `make images` builds is built (docker's cache makes that quick when nothing
changed), then looked into with real containers (no network): each program a component or Job
of the operator starts is there, the image runs as the user the operator expects (the operator
sets no user on Kolla pods, so the image's USER is the one that runs), that user is in Kolla's
group (which may run kolla_set_configs through sudo), and Kolla's start contract is in place. The
infrastructure images carry the paths and user ids the operator renders for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import defaultdict
from pathlib import Path

import jinja2
import pytest

from ccp_operator import images as operator_images
from ccp_operator.reconcile.identity import registration_script
from ccp_operator.reconcile.service import DATABASE_CLIENT
from ccp_operator.services import ceph, galera
from ccp_operator.services.catalog import SERVICES
from localcluster import images
from support.waiting import wait_for

SETTINGS = {"registry": images.KOLLA_REGISTRY, "distro": images.KOLLA_DISTRO}
SHELL_WORDS = {"set", "if", "then", "else", "elif", "fi", "for", "do", "done", "exec", "export", "echo", "[",
               "test", "true", "false", "cd", "while", "case", "esac", "{", "}", "||", "&&"}
TEMPLATES = jinja2.Environment(undefined=jinja2.ChainableUndefined)
TEMPLATES_DIR = Path(operator_images.__file__).parent / "templates"


def programs(command: str) -> set[str]:
    """The programs a command or script starts: the first word of each line that names one,
    outside here-documents (their lines are a program's input)."""
    rendered = TEMPLATES.from_string(command).render(apache=operator_images.apache(SETTINGS))
    found, document_end = set(), None
    for line in rendered.splitlines():
        if document_end is not None:
            document_end = None if line.strip() == document_end else document_end
            continue
        if opened := re.search(r"<<-?\s*'?(\w+)'?", line):
            document_end = opened.group(1)
        words = line.strip().split()
        if words[:1] == ["exec"]:
            words = words[1:]
        if words and words[0] not in SHELL_WORDS and re.fullmatch(r"[/A-Za-z][\w./-]*", words[0]):
            found.add(words[0])
    return found


def command_programs(definition, command: str) -> set[str]:
    """The programs a component's command starts; a start script the operator renders (copied into
    place at start, so not in the image) stands for what it runs, and for the program it execs."""
    first, *rest = command.split()
    script = next((f for f in definition.config_files if f.dest == first), None)
    if script is None:
        return programs(command)
    source = (TEMPLATES_DIR / script.template).read_text()
    return programs(TEMPLATES.from_string(source).render(**script.values)) | programs(" ".join(rest))


def kolla_expectations() -> dict[str, tuple[set[str], set[str]]]:
    """Per Kolla image: (the programs run in it, the users it runs as)."""
    expected: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for definition in SERVICES:
        steps = [*definition.jobs, *[step for step in definition.upgrade if step.image]]
        for image, user, command in ([(c.image, c.user, c.command) for c in definition.components] +
                                     [(s.image, s.user, s.command) for s in steps if s.image != DATABASE_CLIENT]):
            expected[image][0].update(command_programs(definition, command))
            expected[image][1].add(user)
    script = registration_script("keystone", [])
    expected[operator_images.KOLLA_TOOLBOX][0].update(programs(script))
    expected[operator_images.KOLLA_TOOLBOX][1].add("ansible")
    return dict(expected)


@pytest.fixture(scope="module")
def built() -> None:
    images.build_all(list(images.DEFAULT_IMAGES), progress=lambda message: None)


def inspect(reference: str) -> dict:
    done = subprocess.run([images.DOCKER, "image", "inspect", reference], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)[0]["Config"]


def shell(reference: str, script: str, user: str | None = None) -> str:
    argv = [images.DOCKER, "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh"]
    if user:
        argv += ["--user", user]
    done = subprocess.run([*argv, reference, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{reference}: {script}\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("image", sorted(kolla_expectations()))
def test_a_kolla_image_holds_what_the_operator_runs_in_it(built, image):
    commands, users = kolla_expectations()[image]
    reference = images.reference(image)
    config = inspect(reference)
    assert len(users) == 1, f"{image} is run as {users}: one image has one user"
    user, = users
    # The container's user: the config files' owner, unless the recipe says otherwise (horizon's
    # Apache starts as root, as in Kolla, and runs the dashboard as horizon).
    recipe_user = next((spec.components[image][0] for spec in images.OPENSTACK.values()
                        if image in spec.components), user)
    assert config["User"] == recipe_user
    assert config["Cmd"] == ["kolla_start"]
    assert config["Entrypoint"] == ["dumb-init", "--single-child", "--"]
    check = " ".join(sorted(commands))
    out = shell(reference, f'for p in {check}; do command -v "$p" >/dev/null || echo "missing $p"; done; '
                           f"id -nG {user}; test -x /usr/local/bin/kolla_start && test -x /usr/local/bin/kolla_set_configs "
                           "&& echo contract")
    assert "missing" not in out, out
    if user != "root":  # root runs kolla_set_configs without Kolla's sudoers
        assert "kolla" in out.splitlines()[-2].split(), out
    assert out.splitlines()[-1] == "contract"


def test_kolla_set_configs_copies_what_config_json_lists(built):
    """Kolla's own script, as the operator's pods run it: files land with the owner and mode given."""
    reference = images.reference("keystone")
    config = {"command": "true", "config_files": [
        {"source": "/var/lib/kolla/config_files/keystone.conf", "dest": "/etc/keystone/keystone.conf",
         "owner": "keystone", "perm": "0600"}]}
    script = ("mkdir -p /var/lib/kolla/config_files && echo '[DEFAULT]' > /var/lib/kolla/config_files/keystone.conf "
              f"&& printf '%s' '{json.dumps(config)}' > /var/lib/kolla/config_files/config.json "
              "&& KOLLA_CONFIG_STRATEGY=COPY_ALWAYS kolla_set_configs >/dev/null 2>&1 "
              "&& stat -c '%U %a' /etc/keystone/keystone.conf && cat /run_command")
    out = shell(reference, script, user="root")
    assert out.splitlines() == ["keystone 600", "true"], out


def test_the_galera_image_has_the_server_the_provider_and_the_agent(built):
    reference = images.reference("galera")
    assert inspect(reference)["User"] == "mysql"
    out = shell(reference, f"test -x {galera.AGENT} && test -x {galera.ROUTER} && command -v mariadbd mariadb "
                           "mariabackup socat >/dev/null && test -f /usr/lib/galera/libgalera_smm.so && echo ok")
    assert out.strip() == "ok"


def test_the_haproxy_image_runs_as_the_id_the_operator_gives_it(built):
    reference = images.reference("haproxy")
    out = shell(reference, "id -u; id -g; haproxy -v | head -n 1; test -d /usr/local/etc/haproxy && echo dir")
    uid, gid, version, directory = out.splitlines()
    assert (int(uid), int(gid)) == (galera.HAPROXY_UID, galera.HAPROXY_UID)
    assert version.startswith("HAProxy version") and directory == "dir"


def test_the_etcd_image_is_the_pinned_server(built):
    done = subprocess.run([images.DOCKER, "run", "--rm", "--network", "none", images.reference("etcd"), "--version"],
                          capture_output=True, text=True, timeout=60)
    assert f"etcd Version: {images.versions()['ETCD_VERSION'].lstrip('v')}" in done.stdout, done.stdout + done.stderr


def test_the_rabbitmq_image_has_the_broker_and_its_management_plugin(built):
    out = shell(images.reference("rabbitmq"), "command -v rabbitmq-server rabbitmq-diagnostics rabbitmqctl "
                                              ">/dev/null && rabbitmq-plugins list -m | grep -x rabbitmq_management",
                user="root")
    assert out.strip() == "rabbitmq_management"


def test_the_rabbitmq_image_stops_its_broker_cleanly_on_sigterm_and_logs_to_its_output(built):
    """A pod's deletion sends SIGTERM to PID 1: the broker must stop on it (exit 0), not be killed
    at the end of the grace period (137), and what it prints must reach `kubectl logs`."""
    name = f"ccp-rabbitmq-sigterm-{os.getpid()}"
    # The image's own command; RABBITMQ_LOGS=- is the environment's form of the operator's log.console.
    subprocess.run([images.DOCKER, "run", "-d", "--name", name, "--network", "none", "-e", "RABBITMQ_LOGS=-",
                    images.reference("rabbitmq")], check=True, capture_output=True)
    def logs() -> str:
        return subprocess.run([images.DOCKER, "logs", name], capture_output=True, text=True).stdout

    try:
        wait_for(lambda: "Server startup complete" in logs(), timeout=180, interval=2,
                 what="the broker's startup in its output")
        subprocess.run([images.DOCKER, "stop", "-t", "120", name], check=True, capture_output=True)
        state = subprocess.run([images.DOCKER, "inspect", "-f", "{{.State.ExitCode}}", name],
                               capture_output=True, text=True, check=True).stdout.strip()
        assert state == "0", f"the broker was killed, not stopped (exit {state})"
        assert "SIGTERM received - shutting down" in logs(), logs()[-2000:]
    finally:
        subprocess.run([images.DOCKER, "rm", "-f", name], capture_output=True)


def test_the_ceph_image_has_its_daemons_and_the_ceph_user_of_cephs_images(built):
    out = shell(images.reference("ceph"), "command -v ceph-mon ceph-mgr radosgw ceph monmaptool >/dev/null && id -u ceph "
                                          "&& ls /usr/share/ceph/mgr | grep -x prometheus")
    assert out.split() == [str(ceph.CEPH_UID), "prometheus"]
