#!/usr/bin/env bash
# A RabbitMQ 4.x broker from Debian's own packages for the system tests: Debian 12 ships 3.10,
# Debian 13 (trixie) ships 4.0. The trixie userland goes into a directory of its own
# (debootstrap, then apt-get install rabbitmq-server inside it), outside the repository; the
# tests run its brokers with chroot in a private mount namespace (see tests/support/rabbitmq_cluster.py).
set -euo pipefail

root=${CCP_RABBITMQ4_ROOT:-$HOME/.cache/openstack-ccp/debian-trixie-rabbitmq}
suite=trixie
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
marker=$root/.ccp-installed

if [[ -f $marker ]]; then
  echo "rabbitmq4: $(cat "$marker") in $root"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || { echo "rabbitmq4: error: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "rabbitmq4: error: debootstrap is missing (hack/install-system-deps.sh installs it)" >&2; exit 1; }
rm -rf "$root"
echo "rabbitmq4: building a $suite userland in $root"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
  echo "rabbitmq4: error: debootstrap failed, see $root.log" >&2; exit 1; }
# Keep the package's service from starting: the tests start their own brokers.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
chroot "$root" apt-get update -qq >>"$root.log" 2>&1
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends rabbitmq-server \
  >>"$root.log" 2>&1 || { echo "rabbitmq4: error: apt-get install rabbitmq-server failed, see $root.log" >&2; exit 1; }
version=$(chroot "$root" dpkg-query -W -f='${Version}' rabbitmq-server)
echo "rabbitmq-server $version" >"$marker"
echo "rabbitmq4: installed rabbitmq-server $version"
