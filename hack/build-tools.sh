#!/usr/bin/env bash
# Builds the pinned programs the local cluster needs (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok, helm, etcd, and for a real node kubelet, kube-proxy, CoreDNS and
# the pause program) from Go modules into a cache outside the repository, and takes the
# Prometheus operator's ServiceMonitor and PrometheusRule CRDs from its Go module (the chart's
# monitoring objects are validated against them).
# A program already built at its pinned version is skipped, so a warm run takes seconds.
#
#   CCP_TOOLS_DIR   where the programs go (default: ~/.cache/openstack-ccp/tools)
#   hack/build-tools.sh [program ...]   builds only the named programs
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

tools_dir="${CCP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/openstack-ccp/tools}"
bin_dir="$tools_dir/bin"
log_dir="$tools_dir/logs"
src_dir="$tools_dir/src"
mkdir -p "$bin_dir" "$log_dir" "$src_dir"

die() { echo "build-tools: error: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is not installed (need Go >= 1.26 on PATH to build the cluster programs)"

export CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=mod

# build NAME VERSION MODULE_DIR PACKAGE [go build args...]: builds one program into
# $tools_dir/NAME-VERSION/NAME through a temporary file, so a failed build leaves nothing behind.
build() {
  local name=$1 version=$2 moddir=$3 pkg=$4; shift 4
  local dest="$tools_dir/$name-$version/$name"
  if [[ -x "$dest" ]]; then
    ln -sfn "$dest" "$bin_dir/$name"
    echo "  $name $version: already built"
    return
  fi
  echo "  $name $version: building ..."
  mkdir -p "$(dirname "$dest")"
  local tmp="$dest.partial.$$" log="$log_dir/$name-$version.log" start=$SECONDS
  if ! (cd "$moddir" && go build -trimpath -o "$tmp" "$@" "$pkg") >"$log" 2>&1; then
    rm -f "$tmp"
    rmdir "$(dirname "$dest")" 2>/dev/null || true
    die "go build of $name $version failed: $(grep -m1 -iE 'error|cannot|missing' "$log" || tail -n1 "$log") (full log: $log)"
  fi
  mv -f "$tmp" "$dest"
  ln -sfn "$dest" "$bin_dir/$name"
  echo "  $name $version: built in $((SECONDS - start))s"
}

# simple_module NAME GO_MOD_REQUIRE: the directory of a build recipe whose go.mod requires one
# module; written once, so the go.sum that later builds add stays valid.
simple_module() {
  local dir="$src_dir/$1"
  mkdir -p "$dir"
  [[ -f "$dir/go.mod" ]] || printf 'module ccp.local/%s\ngo 1.26.0\nrequire %s\n' "$1" "$2" >"$dir/go.mod"
  echo "$dir"
}

kubernetes_module() {
  local dir="$src_dir/kubernetes-$KUBERNETES_VERSION" minor patch mod
  mkdir -p "$dir"
  if [[ ! -f "$dir/go.mod" ]]; then
    IFS=. read -r _ minor patch <<<"${KUBERNETES_VERSION#v}"
    # The staging modules are replaced by the tag's own go.mod with local paths, which a
    # dependent module cannot use: replace each with its published v0.<minor>.<patch>.
    mod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" \
      | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    [[ -f "$mod" ]] || die "cannot download k8s.io/kubernetes@$KUBERNETES_VERSION"
    {
      echo "module ccp.local/kubernetes-$KUBERNETES_VERSION"
      echo "go 1.26.0"
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#replace \1 => \1 v0.'"$minor.$patch"'#p' "$mod"
    } >"$dir/go.mod.tmp"
    mv "$dir/go.mod.tmp" "$dir/go.mod"
  fi
  echo "$dir"
}

kubernetes_ldflags() {
  local major minor
  IFS=. read -r major minor _ <<<"${KUBERNETES_VERSION#v}"
  local v=k8s.io/component-base/version
  echo "-s -w -X $v.gitVersion=$KUBERNETES_VERSION -X $v.gitMajor=$major -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
}

# helm_module: helm's recipe, and the Kubernetes version its release build stamps in (the minor of
# the client-go it is built with): without it, `helm template` and `helm lint` without a cluster
# assume Kubernetes v1.20 and refuse charts that need a newer one.
helm_module() {
  simple_module "helm-$HELM_VERSION" "helm.sh/helm/v3 $HELM_VERSION"
}

helm_ldflags() {
  local dir=$1 client_go minor flags
  client_go=$(cd "$dir" && go list -m -f '{{.Version}}' k8s.io/client-go) || die "cannot read helm's client-go version"
  IFS=. read -r _ minor _ <<<"${client_go#v}"
  flags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for package in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    flags+=" -X $package.k8sVersionMajor=1 -X $package.k8sVersionMinor=$minor"
  done
  echo "$flags"
}

helm_stamp() {
  local minor
  minor=$(helm_ldflags "$1" | sed -n 's/.*k8sVersionMinor=\([0-9]*\).*/\1/p')
  echo "$HELM_VERSION-kube1.$minor"
}

# pause_module: the program a pod's sandbox container runs (holds the pod's namespaces, reaps
# zombies, exits on SIGINT or SIGTERM), the project's own: no registry serves the usual image here.
pause_module() {
  local dir="$src_dir/pause-$PAUSE_VERSION"
  mkdir -p "$dir"
  cp "$here/pause/main.go" "$dir/main.go"
  [[ -f "$dir/go.mod" ]] || printf 'module ccp.local/pause\ngo 1.26.0\n' >"$dir/go.mod"
  echo "$dir"
}

etcd_module() {
  local dir
  dir=$(simple_module "etcd-$ETCD_VERSION" "go.etcd.io/etcd/server/v3 $ETCD_VERSION")
  # The etcd server ships no main package of its own outside its repository's root module.
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >"$dir/main.go"
  echo "$dir"
}

# monitoring_crds: the two CRDs the chart's optional objects need, from the module's examples.
monitoring_crds() {
  local dest="$tools_dir/monitoring-crds-$PROMETHEUS_OPERATOR_VERSION" dir kind
  if [[ -f "$dest/servicemonitors.yaml" && -f "$dest/prometheusrules.yaml" ]]; then
    echo "  monitoring-crds $PROMETHEUS_OPERATOR_VERSION: already there"
  else
    dir=$(cd "$src_dir" && go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" \
      | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -d "$dir" ]] || die "cannot download the Prometheus operator module $PROMETHEUS_OPERATOR_VERSION"
    mkdir -p "$dest.partial.$$"
    for kind in servicemonitors prometheusrules; do
      cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$dest.partial.$$/$kind.yaml"
    done
    rm -rf "$dest" && mv "$dest.partial.$$" "$dest"
    echo "  monitoring-crds $PROMETHEUS_OPERATOR_VERSION: copied"
  fi
  ln -sfn "$dest" "$tools_dir/monitoring-crds"
}

all_programs=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm monitoring-crds
              kubelet kube-proxy coredns pause)
programs=("${@:-${all_programs[@]}}")

echo "build-tools: programs into $tools_dir"
total_start=$SECONDS
for program in "${programs[@]}"; do
  case "$program" in
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl|kubelet|kube-proxy)
      build "$program" "$KUBERNETES_VERSION" "$(kubernetes_module)" "k8s.io/kubernetes/cmd/$program" \
        -tags selinux,notest -ldflags "$(kubernetes_ldflags)" ;;
    kwok)
      build kwok "$KWOK_VERSION" "$(simple_module "kwok-$KWOK_VERSION" "sigs.k8s.io/kwok $KWOK_VERSION")" sigs.k8s.io/kwok/cmd/kwok \
        -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" ;;
    helm)
      helm_dir=$(helm_module)
      build helm "$(helm_stamp "$helm_dir")" "$helm_dir" helm.sh/helm/v3/cmd/helm -ldflags "$(helm_ldflags "$helm_dir")" ;;
    coredns)
      build coredns "$COREDNS_VERSION" "$(simple_module "coredns-$COREDNS_VERSION" "github.com/coredns/coredns $COREDNS_VERSION")" \
        github.com/coredns/coredns -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" ;;
    pause)
      build pause "$PAUSE_VERSION" "$(pause_module)" . -ldflags "-s -w" ;;
    etcd)
      build etcd "$ETCD_VERSION" "$(etcd_module)" . -ldflags "-s -w" ;;
    monitoring-crds)
      monitoring_crds ;;
    *) die "unknown program '$program' (known: ${all_programs[*]})" ;;
  esac
done
echo "build-tools: done in $((SECONDS - total_start))s; programs in $bin_dir"
