"""Container images built on this machine, where no registry can be reached.

The base is a Debian userland made by debootstrap and imported into Debian's docker daemon
(hack/docker-daemon.sh); every other image builds from a Dockerfile under images/ whose base is a
build argument (its default is the public image, so the same recipe builds anywhere). BuildKit
hands apt and pip the machine's CA bundle as a build secret, the way a build behind a
TLS-intercepting proxy must, so no layer keeps it. Docker's layer cache is the daemon's data root,
outside the repository: a warm rebuild takes seconds.

Images are named under LOCAL_REGISTRY, never the public names, and a real node's containerd
imports them (`docker save`); the control plane uses them through its image settings.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ccp_operator.services import catalog, horizon

from .paths import CACHE_ROOT, tools_bin_dir

ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = ROOT / "images"
VERSIONS_FILE = ROOT / "hack" / "versions.env"
DOCKER = "/usr/bin/docker"  # Debian's client, of the daemon's own version
DOCKER_DAEMON = ROOT / "hack" / "docker-daemon.sh"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CACHE = CACHE_ROOT / "images"
LOCAL_REGISTRY = "ccp.local"
# The control plane's image settings for the images built here: Kolla's naming,
# <registry>/<image>:<release>-<distro>.
KOLLA_REGISTRY = f"{LOCAL_REGISTRY}/openstack.kolla"
DEBIAN_SUITE = "trixie"  # what Kolla of 2026.1 and later builds on
KOLLA_DISTRO = f"debian-{DEBIAN_SUITE}"
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
# The kolla package of each release, whose base scripts and users the images carry.
KOLLA_PACKAGES = {"2026.1": "22.2.0", "2026.2": "23.0.0"}
DEFAULT_RELEASE = "2026.1"

PAUSE = "pause"
COREDNS = "coredns"
DEBIAN = "debian"


def versions() -> dict[str, str]:
    """The pinned versions of hack/versions.env (NAME=${NAME:-value}), overridable as there."""
    pinned = {}
    for match in re.finditer(r"^(\w+)=\$\{\w+:-([^}]+)\}", VERSIONS_FILE.read_text(), re.MULTILINE):
        pinned[match.group(1)] = os.environ.get(match.group(1), match.group(2))
    return pinned


@dataclass(frozen=True)
class Recipe:
    """One image: its name, the folder under images/ with its Dockerfile, the image its
    BASE_IMAGE argument names (another recipe), and what the build context holds."""

    name: str
    folder: str
    repository: str
    tag: Callable[[str], str]
    base: str | None = None
    # The repository root as context (the operator's image copies its sources), else the folder.
    repository_context: bool = False
    # Programs of hack/build-tools.sh copied into the context.
    tools: tuple[str, ...] = ()
    build_args: Callable[[str], dict[str, str]] = field(default=lambda release: {})


def _kolla_tag(release: str) -> str:
    return f"{release}-{KOLLA_DISTRO}"


@dataclass(frozen=True)
class OpenStackService:
    """One OpenStack service's images: its distribution on PyPI (at the release's version),
    what all its components need, and per component image: its user and its own packages."""

    package: str
    components: dict[str, tuple[str, tuple[str, ...]]]
    apt: tuple[str, ...] = ()
    pip_extras: tuple[str, ...] = ()
    setup: str = ""  # shell run as root after the install, the source tree in $SOURCE


@dataclass(frozen=True)
class ImageNeeds:
    """What a service's images need beyond its PyPI package (what Kolla's recipe for it adds)."""

    apt: tuple[str, ...] = ()                  # Debian packages of every component
    pip_extras: tuple[str, ...] = ()           # Python packages its distribution needs and does not declare
    component_apt: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per component image
    users: dict[str, str] = field(default_factory=dict)  # an image's user, where not its component's
    setup: str = ""


SITE_PACKAGES = horizon.PYTHON_SITE
# What Kolla's horizon recipe does: the settings live in /etc/openstack-dashboard (linked from the
# package's local/ folder, where Django looks), manage.py beside the venv's programs, and the
# translations compiled. Its start script (kolla_extend_start) collects and compresses the
# static files for the settings it then finds.
HORIZON_SETUP = " && ".join((
    "mkdir -p /etc/openstack-dashboard/local_settings.d",
    f"cp -r {SITE_PACKAGES}/openstack_dashboard/conf/* /etc/openstack-dashboard/",
    f"cp {SITE_PACKAGES}/openstack_dashboard/local/local_settings.py.example /etc/openstack-dashboard/local_settings.py",
    f"ln -sf /etc/openstack-dashboard/local_settings.py {SITE_PACKAGES}/openstack_dashboard/local/local_settings.py",
    f"rm -rf {SITE_PACKAGES}/openstack_dashboard/local/local_settings.d",
    f"ln -s /etc/openstack-dashboard/local_settings.d {SITE_PACKAGES}/openstack_dashboard/local/local_settings.d",
    'cp "$SOURCE/manage.py" /var/lib/kolla/venv/bin/manage.py',
    f"for locale in {SITE_PACKAGES}/*/locale; do (cd ${{locale%/*}} && django-admin compilemessages); done",
    # Apache's environment (Debian's envvars) and a clean run directory at each start, as
    # Kolla's httpd recipe does, before horizon's own start script.
    "install -m 0644 /usr/local/share/kolla/docker/httpd/httpd_setup.sh /usr/local/bin/kolla_httpd_setup",
    "printf '. /usr/local/bin/kolla_httpd_setup\\n. /usr/local/bin/kolla_horizon_extend_start\\n' "
    "> /usr/local/bin/kolla_extend_start",
))


# What Kolla's neutron-base recipe adds: the agents' wrappers of dnsmasq, haproxy, keepalived and
# radvd, which the agents' start scripts copy to /usr/local/bin or delete (KOLLA_NEUTRON_WRAPPERS)
# through sudo, and their configuration directory.
NEUTRON_SETUP = " && ".join((
    "recipe=/usr/local/share/kolla/docker/neutron/neutron-base",
    "mkdir -p /usr/local/lib/neutron-wrappers /usr/local/etc/neutron-wrappers",
    "for wrapper in dnsmasq haproxy keepalived neutron-keepalived-state-change radvd copy-wrappers delete-wrappers; "
    "do install -m 0755 \"$recipe/$wrapper\" /usr/local/lib/neutron-wrappers/; done",
))

CEPH_CLIENT = ("ceph-common", "python3-rados", "python3-rbd", "qemu-utils")
# neutron and os-vif import pyroute2 on Linux, and their distributions of 2026.2 no longer declare
# it (the requirement's platform marker is lost from their metadata), so it is installed by name.
NETLINK = ("pyroute2",)
# Per service, what its images need beyond its package; a service not named needs nothing more.
IMAGE_NEEDS: dict[str, ImageNeeds] = {
    "glance": ImageNeeds(apt=CEPH_CLIENT),
    # open-iscsi: Kolla's base has it, and cinder-volume's start script owns its /etc/iscsi.
    "cinder": ImageNeeds(apt=CEPH_CLIENT, component_apt={"cinder-volume": ("open-iscsi",)}),
    # Open vSwitch's own images (Kolla's openvswitch-db-server and openvswitch-vswitchd) are built
    # on neutron's base here, which costs no space (its layers are the agents'); the agents that
    # plug ports have ovs-vsctl, to wait for br-int.
    "neutron": ImageNeeds(apt=("iproute2",), pip_extras=NETLINK, setup=NEUTRON_SETUP, component_apt={
        # iptables: the DHCP agent's rule that fills in the UDP checksum of its replies in each
        # network's namespace (a guest's DHCP client may drop a reply left to checksum offload).
        "neutron-dhcp-agent": ("dnsmasq", "dnsmasq-utils", "haproxy", "iptables", "openvswitch-switch"),
        "neutron-l3-agent": ("keepalived", "haproxy", "iptables", "conntrack", "radvd", "openvswitch-switch"),
        "neutron-metadata-agent": ("haproxy",),
        "neutron-openvswitch-agent": ("openvswitch-switch",),
        "openvswitch-db-server": ("openvswitch-switch",),
        "openvswitch-vswitchd": ("openvswitch-switch",)}),
    # The hypervisors' images as Kolla's: nova-compute drives libvirt through its Python binding and
    # makes config drives; nova-libvirt runs libvirtd, virtlogd and qemu, with qemu's RBD driver.
    "nova": ImageNeeds(apt=CEPH_CLIENT, pip_extras=NETLINK, users={"nova-libvirt": "root"}, component_apt={
        "nova-novncproxy": ("novnc",),
        "nova-compute": ("python3-libvirt", "libvirt-clients", "genisoimage", "open-iscsi", "sysfsutils",
                         "iproute2", "openvswitch-common"),
        "nova-libvirt": ("libvirt-daemon-system", "libvirt-daemon-driver-storage-rbd", "libvirt-clients",
                         "qemu-system-x86", "qemu-block-extra", "qemu-utils", "ovmf", "iproute2")}),
    # Apache starts as root and runs the dashboard as horizon (WSGIDaemonProcess), as in Kolla.
    "horizon": ImageNeeds(apt=("apache2", "libapache2-mod-wsgi-py3", "gettext", "locales", "tzdata"),
                          users={"horizon": "root"}, setup=HORIZON_SETUP),
}


def _openstack_services() -> dict[str, OpenStackService]:
    """Kolla's images of every service in the operator's catalog, named as Kolla names them: one
    per component image, built on one base image per service."""
    result: dict[str, OpenStackService] = {}
    families: dict[str, str] = {}  # package -> the first service installing it (nova for compute's images)
    for definition in catalog.SERVICES:
        if not definition.pypi_package:
            continue
        family = families.setdefault(definition.pypi_package, definition.name)
        needs = IMAGE_NEEDS.get(family, ImageNeeds())
        service = result.setdefault(family, OpenStackService(definition.pypi_package, {}, apt=needs.apt,
                                                             pip_extras=needs.pip_extras, setup=needs.setup))
        for component in definition.components:
            service.components.setdefault(component.image, (needs.users.get(component.image, component.user),
                                                            needs.component_apt.get(component.image, ())))
    return result


OPENSTACK = _openstack_services()


def _service_version(package: str, release: str) -> str:
    from ccp_operator import releases
    return releases.get(release).packages[package]


def _openstack_recipes() -> list["Recipe"]:
    recipes = []
    for service, spec in OPENSTACK.items():
        base = f"{service}-base"
        recipes.append(Recipe(
            base, "kolla/service", f"{KOLLA_REGISTRY}/{base}", _kolla_tag, base="openstack-base",
            build_args=lambda release, service=service, spec=spec: {
                "SERVICE": service, "PACKAGE": f"{spec.package}=={_service_version(spec.package, release)}",
                "APT_PACKAGES": " ".join(spec.apt), "PIP_EXTRAS": " ".join(spec.pip_extras), "SETUP": spec.setup}))
        for component, (user, apt) in spec.components.items():
            recipes.append(Recipe(
                component, "kolla/component", f"{KOLLA_REGISTRY}/{component}", _kolla_tag, base=base,
                build_args=lambda release, service=service, component=component, user=user, apt=apt: {
                    "COMPONENT_USER": user, "APT_PACKAGES": " ".join(apt), "SERVICE": service,
                    "COMPONENT": component}))
    return recipes


RECIPES: dict[str, Recipe] = {recipe.name: recipe for recipe in (
    Recipe(PAUSE, "pause", f"{LOCAL_REGISTRY}/pause", lambda release: versions()["PAUSE_VERSION"], tools=("pause",)),
    Recipe(COREDNS, "coredns", f"{LOCAL_REGISTRY}/coredns", lambda release: versions()["COREDNS_VERSION"],
           tools=("coredns",)),
    Recipe("python", "python", f"{LOCAL_REGISTRY}/python", lambda release: DEBIAN_SUITE, base=DEBIAN),
    Recipe("operator", "operator", f"{LOCAL_REGISTRY}/openstack-ccp/operator", lambda release: operator_version(),
           base="python", repository_context=True),
    Recipe("kolla-base", "kolla/base", f"{KOLLA_REGISTRY}/base", _kolla_tag, base=DEBIAN,
           build_args=lambda release: {"KOLLA_VERSION": KOLLA_PACKAGES[release]}),
    Recipe("memcached", "kolla/memcached", f"{KOLLA_REGISTRY}/memcached", _kolla_tag, base="kolla-base"),
    Recipe("kolla-toolbox", "kolla/kolla-toolbox", f"{KOLLA_REGISTRY}/kolla-toolbox", _kolla_tag, base="kolla-base"),
    Recipe("openstack-base", "kolla/openstack-base", f"{KOLLA_REGISTRY}/openstack-base", _kolla_tag,
           base="kolla-base", build_args=lambda release: {"OPENSTACK_RELEASE": release}),
    *_openstack_recipes(),
    Recipe("etcd", "etcd", f"{LOCAL_REGISTRY}/etcd", lambda release: versions()["ETCD_VERSION"], tools=("etcd",)),
    Recipe("haproxy", "haproxy", f"{LOCAL_REGISTRY}/haproxy", lambda release: DEBIAN_SUITE, base=DEBIAN),
    Recipe("rabbitmq", "rabbitmq", f"{LOCAL_REGISTRY}/rabbitmq", lambda release: DEBIAN_SUITE, base=DEBIAN),
    Recipe("ceph", "ceph", f"{LOCAL_REGISTRY}/ceph", lambda release: DEBIAN_SUITE, base=DEBIAN),
    Recipe("galera", "galera", f"{LOCAL_REGISTRY}/openstack-ccp/galera", lambda release: DEBIAN_SUITE, base=DEBIAN),
)}
# What `make images` builds: every image the operator deploys by default, and the node's own.
DEFAULT_IMAGES = ("pause", "coredns", "operator", "memcached", "kolla-toolbox",
                  *[component for spec in OPENSTACK.values() for component in spec.components],
                  "galera", "haproxy", "etcd", "rabbitmq", "ceph")


def operator_version() -> str:
    chart = (ROOT / "charts" / "openstack-ccp-operator" / "Chart.yaml").read_text()
    return re.search(r"^appVersion:\s*\"?([^\"\n]+)\"?", chart, re.MULTILINE).group(1)


def reference(name: str, release: str = DEFAULT_RELEASE) -> str:
    if name == DEBIAN:
        return f"{LOCAL_REGISTRY}/debian:{DEBIAN_SUITE}"
    recipe = RECIPES[name]
    return f"{recipe.repository}:{recipe.tag(release)}"


class ImageError(RuntimeError):
    """An image could not be built."""


def _docker(*args: str, timeout: float = 3600, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout, **kwargs)


@functools.cache
def ensure_daemon() -> None:
    if _docker("info", timeout=30).returncode == 0:
        return
    done = subprocess.run([str(DOCKER_DAEMON)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise ImageError(done.stderr.strip() or "cannot start the docker daemon")


def present(image: str) -> bool:
    return _docker("image", "inspect", image, timeout=30).returncode == 0


def image_id(image: str) -> str:
    """The image's id (its configuration's digest): it changes whenever the image does."""
    done = _docker("image", "inspect", "--format", "{{.Id}}", image, timeout=30)
    if done.returncode != 0:
        raise ImageError(f"no image {image}: {done.stderr.strip()}")
    return done.stdout.strip()


def _debian_base(progress: Callable[[str], None]) -> str:
    """The Debian userland from debootstrap, imported once as LOCAL_REGISTRY/debian:<suite>."""
    image = reference(DEBIAN)
    if present(image):
        return image
    start = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    rootfs = Path(tempfile.mkdtemp(prefix=f"debian-{DEBIAN_SUITE}-", dir=CACHE))
    log = CACHE / f"debootstrap-{DEBIAN_SUITE}.log"
    try:
        with open(log, "w") as output:
            done = subprocess.run(["debootstrap", "--variant=minbase", DEBIAN_SUITE, str(rootfs), DEBIAN_MIRROR],
                                  stdout=output, stderr=subprocess.STDOUT, timeout=1800)
        if done.returncode != 0:
            raise ImageError(f"debootstrap {DEBIAN_SUITE} failed, see {log}")
        # The packages debootstrap downloaded are not part of the base.
        for package in (rootfs / "var/cache/apt/archives").glob("*.deb"):
            package.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run([DOCKER, "import", "-", image], stdin=tar.stdout, capture_output=True,
                                  text=True, timeout=900)
        tar.wait()
        if imported.returncode != 0:
            raise ImageError(f"docker import of {image}: {imported.stderr.strip()}")
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    progress(f"image {image}: debootstrap and import in {time.monotonic() - start:.1f}s")
    return image


_BUILT: dict[tuple[str, str], str] = {}


def build(name: str, release: str = DEFAULT_RELEASE, progress: Callable[[str], None] = print) -> str:
    """Builds image `name` of `release` (its base first) and returns its reference; docker's
    cache makes an unchanged image take a second or two. Each runs once per process."""
    key = (name, release)
    if key in _BUILT:
        return _BUILT[key]
    ensure_daemon()
    if name == DEBIAN:
        _BUILT[key] = _debian_base(progress)
        return _BUILT[key]
    recipe = RECIPES[name]
    if release not in KOLLA_PACKAGES:
        raise ImageError(f"release {release} has no images here (known: {', '.join(sorted(KOLLA_PACKAGES))})")
    base = build(recipe.base, release, progress) if recipe.base else None
    image = reference(name, release)
    start = time.monotonic()
    dockerfile = IMAGES_DIR / recipe.folder / "Dockerfile"
    with tempfile.TemporaryDirectory(prefix=f"image-{name}-") as scratch:
        if recipe.repository_context:
            context = ROOT
        elif recipe.tools:
            context = Path(scratch)
            for tool in recipe.tools:
                source = tools_bin_dir() / tool
                if not source.exists():
                    raise ImageError(f"{source} is missing: run hack/build-tools.sh")
                shutil.copy(source.resolve(), context / tool)
        else:
            context = IMAGES_DIR / recipe.folder
        arguments = {**recipe.build_args(release), **({"BASE_IMAGE": base} if base else {})}
        argv = ["build", "--network", "host", "--tag", image, "--file", str(dockerfile),
                *[item for key, value in sorted(arguments.items()) for item in ("--build-arg", f"{key}={value}")]]
        if CA_BUNDLE.exists():
            argv += ["--secret", f"id=ca,src={CA_BUNDLE}"]
        log = CACHE / f"build-{name}-{release}.log"
        CACHE.mkdir(parents=True, exist_ok=True)
        done = _docker(*argv, str(context), env={**os.environ, "DOCKER_BUILDKIT": "1"})
        log.write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-12:])
            raise ImageError(f"docker build of {image} failed (full log: {log}):\n{tail}")
    progress(f"image {image}: built in {time.monotonic() - start:.1f}s")
    _BUILT[key] = image
    return image


def build_all(names: list[str], release: str = DEFAULT_RELEASE, progress: Callable[[str], None] = print) -> list[str]:
    """Builds the named images (their bases first); returns their references."""
    unknown = [name for name in names if name not in RECIPES]
    if unknown:
        raise ImageError(f"unknown image(s) {', '.join(unknown)} (known: {', '.join(RECIPES)})")
    start = time.monotonic()
    references = [build(name, release, progress) for name in names]
    progress(f"images: {len(references)} images of {release} ready in {time.monotonic() - start:.1f}s")
    return references
