#!/usr/bin/env bash
# Installs the Debian packages the system tests run for real (MariaDB with galera-4, etcd, RabbitMQ,
# HAProxy, Ceph monitors, managers and an OSD), Prometheus (for promtool), and what a real node of
# the local cluster and the image builds need (docker.io, containerd, runc, the CNI plugins,
# iptables, conntrack), without starting their services: the tests and hack/docker-daemon.sh
# start their own instances.
set -euo pipefail

packages=(mariadb-server mariadb-client mariadb-backup galera-4 socat etcd-server haproxy rabbitmq-server debootstrap iproute2 procps
          ceph-mon ceph-mgr ceph-osd ceph-common
          prometheus  # for promtool: tests/unit/test_monitoring.py checks the chart's alert rules
          docker.io containerd runc containernetworking-plugins iptables conntrack)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "system-deps: all installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  sudo=sudo
else
  sudo=
fi
command -v apt-get >/dev/null 2>&1 || { echo "system-deps: error: apt-get not found (need Debian or Ubuntu) for: ${missing[*]}" >&2; exit 1; }
echo "system-deps: installing ${missing[*]}"
# Keep the packages' services from starting: the tests run their own instances on loopback.
policy=/usr/sbin/policy-rc.d
created_policy=
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  created_policy=1
fi
trap '[[ -n $created_policy ]] && $sudo rm -f "$policy"' EXIT
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${missing[*]}"
