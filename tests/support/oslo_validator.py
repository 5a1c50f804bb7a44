"""oslo-config-validator of each service's own release, in cached virtualenvs.

Each service package is installed at the version of its release (ccp_operator.releases) into
~/.cache/openstack-ccp/oslo-validators/<package>-<version>, once, with the optional libraries
whose option namespaces the service's config generator lists, all held to the release's upper
constraints as the images are (the libraries own many of the options). The validator then checks a
rendered file against the namespaces the service module declares.

Two kinds of sections cannot be in any sample config, because their options are registered at
run time: backend sections named in the file itself (glance's [rbd], cinder's [rbd-1]) and
keystoneauth plugin sections. The first are checked against the group that lists a backend's
options, the second against the password plugin's options, both from the same installed release.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "openstack-ccp" / "oslo-validators"
# The images' upper constraints, one file per release.
CONSTRAINTS = Path(__file__).resolve().parents[2] / "images" / "kolla" / "openstack-base" / "upper-constraints"

# Libraries that provide option namespaces a service's generator config lists, but that the
# service package does not require.
EXTRA_PACKAGES = {
    "openstack-placement": ["osprofiler"],
    # os-vif's and neutron's own import of pyroute2, which their 2026.2 metadata does not declare
    # (the images install it too).
    "nova": ["osprofiler", "pyroute2"],
    "neutron": ["pyroute2"],
    "glance": ["os-brick"],
    # cinder's option list imports every backup driver, the Google one's client library too (an
    # optional dependency since 2026.2).
    "cinder": ["google-api-python-client"],
}

# The validator's own findings: its logger is oslo_config.validator, or the root logger in the
# oslo.config of newer releases.
FINDING = ("ERROR:oslo_config", "WARNING:oslo_config.validator", "ERROR:root:", "WARNING:root:")
UNKNOWN = re.compile(r"ERROR:(oslo_config\.validator|root):(?P<group>[^/]+)/(?P<option>\S+) is not part of the sample config")


@dataclass
class Result:
    returncode: int
    output: str
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def venv(package: str, version: str, release: str) -> Path:
    """The virtualenv holding `package==version` and its extra namespaces under the upper
    constraints of `release` (created on first use, again when the constraints change)."""
    path = CACHE / f"{package}-{version}"
    marker = path / ".installed"
    constraints = CONSTRAINTS / f"{release}.txt"
    requirements = [f"{package}=={version}", *EXTRA_PACKAGES.get(package, [])]
    record = [*requirements, f"constraints-sha256={hashlib.sha256(constraints.read_bytes()).hexdigest()}"]
    if marker.exists() and marker.read_text().split() == record:
        return path
    shutil.rmtree(path, ignore_errors=True)  # built under other constraints: start afresh
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--constraint", str(constraints), *requirements], check=True)
    marker.write_text("\n".join(record) + "\n")
    return path


def _python(path: Path, code: str) -> str:
    return subprocess.run([str(path / "bin" / "python"), "-c", code], check=True, capture_output=True,
                          text=True, timeout=300).stdout


def missing_namespaces(path: Path, namespaces: tuple[str, ...]) -> list[str]:
    code = ("import importlib.metadata as m, json;"
            "print(json.dumps(sorted(e.name for e in m.entry_points(group='oslo.config.opts'))))")
    available = set(json.loads(_python(path, code)))
    return [n for n in namespaces if n not in available]


def group_options(path: Path, namespaces: tuple[str, ...], group: str) -> set[str]:
    """Option names the generator lists for `group` (with their deprecated names)."""
    code = ("import sys, json\n"
            "from oslo_config import generator\n"
            f"groups = generator._get_groups(generator._list_opts({list(namespaces)!r}))\n"
            f"opts = groups.get({group!r}, {{'namespaces': []}})\n"
            "names = set()\n"
            "for _, entries in opts['namespaces']:\n"
            "    for opt in entries:\n"
            "        names.add(opt.dest)\n"
            "        names.update(d.name for d in opt.deprecated_opts if d.name)\n"
            "print(json.dumps(sorted(names)))\n")
    return set(json.loads(_python(path, code).strip().splitlines()[-1]))


def auth_plugin_options(path: Path) -> set[str]:
    code = ("import json\nfrom keystoneauth1 import loading\n"
            "names = {o.dest for o in loading.get_auth_plugin_conf_options('password')}\n"
            "names |= {o.dest for o in loading.get_session_conf_options()}\n"
            "names |= {'auth_type', 'auth_section'}\n"
            "print(json.dumps(sorted(names)))\n")
    return set(json.loads(_python(path, code).strip().splitlines()[-1]))


def validate(package: str, version: str, release: str, namespaces: tuple[str, ...], content: str, *,
             dynamic_sections: dict[str, str] | None = None, auth_sections: tuple[str, ...] = ()) -> Result:
    path = venv(package, version, release)
    missing = missing_namespaces(path, namespaces)
    if missing:
        return Result(1, "", [f"namespaces not installed: {missing}"])
    dynamic_sections = dynamic_sections or {}
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as handle:
        handle.write(content)
        conf = handle.name
    try:
        argv = [str(path / "bin" / "oslo-config-validator"), "--input-file", conf, "--fatal-warnings"]
        for namespace in namespaces:
            argv += ["--namespace", namespace]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    finally:
        os.unlink(conf)
    output = done.stdout + done.stderr
    errors = [line for line in output.splitlines()
              if line.startswith(FINDING)]
    # Take back only what the run-time sections explain, after checking those options elsewhere.
    # No default section: [DEFAULT]'s options must not leak into the other sections' lists.
    parser = configparser.RawConfigParser(interpolation=None, default_section="\0")
    parser.read_string(content)
    explained: set[tuple[str, str]] = set()
    for section, group in dynamic_sections.items():
        allowed = group_options(path, namespaces, group)
        for option in parser.options(section) if parser.has_section(section) else []:
            if option in allowed:
                explained.add((section, option))
    if auth_sections:
        allowed = auth_plugin_options(path)
        for section in auth_sections:
            for option in parser.options(section) if parser.has_section(section) else []:
                if option in allowed:
                    explained.add((section, option))
    remaining = []
    for line in errors:
        match = UNKNOWN.match(line)
        if match and (match["group"], match["option"]) in explained:
            continue
        remaining.append(line)
    if done.returncode != 0 and not remaining and not errors:
        remaining.append(f"oslo-config-validator exited {done.returncode}: {output[-500:]}")
    return Result(done.returncode, output, remaining)
