# The commands people type. `make demo` is the main job, `make test` runs the tests; each
# installs what it needs (Go-built cluster programs in ~/.cache, the Python virtualenv in .venv).
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
CLUSTER := $(VENV)/bin/ccp-localcluster
PROFILE ?= small
REAL_NODES ?= 0
RELEASE ?= 2026.1
PYTEST_ARGS ?=

.PHONY: help tools system-deps venv up down nodes demo test unit integration bench images clean

help:
	@echo "make demo          the ra-1000 cluster, the operator, examples/controlplane-1000.yaml Ready, and the lab plane for real"
	@echo "make test          unit and integration tests (starts and stops its own small cluster)"
	@echo "make unit          unit tests only (no cluster; the chart is rendered by helm, its alerts checked by promtool)"
	@echo "make integration   integration tests only"
	@echo "make up PROFILE=.. start the local cluster (small or ra-1000; REAL_NODES=1 adds a real node); make down stops it"
	@echo "make images        build the images the operator deploys, on this machine (RELEASE=2026.1 by default)"
	@echo "make bench         time the ra-1000 cluster and the control plane on it; count idle writes"

tools:
	hack/build-tools.sh

system-deps:
	hack/install-system-deps.sh
	hack/install-rabbitmq4.sh

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml hack/pyproject.toml images/galera/pyproject.toml
	hack/venv.sh $(VENV)

up: tools venv
	$(CLUSTER) up --profile $(PROFILE) --real-nodes $(REAL_NODES)

down: venv
	$(CLUSTER) down

nodes: venv
	$(CLUSTER) nodes

demo: tools system-deps venv
	$(PYTHON) -m localcluster.demo --profile ra-1000

test: tools system-deps venv
	$(PYTHON) -m pytest $(PYTEST_ARGS)

unit: tools system-deps venv
	$(PYTHON) -m pytest tests/unit $(PYTEST_ARGS)

integration: tools system-deps venv
	$(PYTHON) -m pytest tests/system tests/integration $(PYTEST_ARGS)

bench: tools system-deps venv
	$(PYTHON) bench/cluster_up_down.py --profile ra-1000
	$(PYTHON) bench/real_node.py
	$(PYTHON) bench/real_controlplane.py
	$(PYTHON) bench/vm_boots.py
	$(PYTHON) bench/real_upgrade.py
	$(PYTHON) bench/controlplane_ready.py
	$(PYTHON) bench/compute_fleet.py
	$(PYTHON) bench/upgrade_release.py
	$(PYTHON) bench/operator_failover.py --rounds 10
	$(PYTHON) bench/galera_failover.py --kills 20
	$(PYTHON) bench/rabbitmq_rpc.py --broker 3.10
	$(PYTHON) bench/rabbitmq_rpc.py --broker 4.0

# Every image from a Debian base made by debootstrap, built by Debian's docker daemon (started
# without networking of its own by hack/docker-daemon.sh); the names are under ccp.local/.
images: tools system-deps venv
	$(CLUSTER) images --release $(RELEASE)

clean:
	rm -rf $(VENV) build *.egg-info operator/*.egg-info hack/*.egg-info
