#!/usr/bin/env bash
# Starts Debian's docker daemon for image builds, unless one already answers. Images are all it
# is needed for, so it runs without networking of its own: no iptables rules (its default would
# set the FORWARD policy to DROP and cut the network-namespace tests' bridges), no default bridge,
# no IP forwarding or masquerading; builds use the host's network (--network host). Its layer
# cache is its data root, outside the repository.
#
#   CCP_DOCKER_ROOT   the daemon's data root (default: /var/lib/docker)
set -euo pipefail

docker=/usr/bin/docker   # Debian's client, of the daemon's own version
log=${XDG_CACHE_HOME:-$HOME/.cache}/openstack-ccp/dockerd.log
data_root=${CCP_DOCKER_ROOT:-/var/lib/docker}

die() { echo "docker-daemon: error: $*" >&2; exit 1; }

[[ -x /usr/sbin/dockerd && -x $docker ]] || die "docker.io is not installed (hack/install-system-deps.sh installs it)"
if "$docker" info >/dev/null 2>&1; then
  echo "docker-daemon: already running"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || die "needs root to start dockerd"
mkdir -p "$(dirname "$log")"
# This machine refuses a negative oom_score_adj, dockerd's default for itself.
setsid /usr/sbin/dockerd --data-root="$data_root" --iptables=false --ip6tables=false --ip-forward=false \
  --ip-masq=false --bridge=none --oom-score-adjust=0 --log-level=warn </dev/null >>"$log" 2>&1 &
for _ in $(seq 1 120); do
  if "$docker" info >/dev/null 2>&1; then
    echo "docker-daemon: started (data root $data_root, log $log)"
    exit 0
  fi
  kill -0 $! 2>/dev/null || die "dockerd exited during start-up; its log ends with: $(tail -n 3 "$log")"
  sleep 0.5
done
die "dockerd did not answer within 60s (log: $log)"
