"""A local cluster with one real node, as the real-node tests drive it: kubectl, pods of the
Python image on the real node, commands run in pods."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from ccp_operator.kube.client import Kube
from localcluster import LocalCluster, images, tools_bin_dir
from support.waiting import wait_for

PYTHON_IMAGE = images.reference("python")


class RealCluster:
    def __init__(self, state_dir: Path):
        self.local = LocalCluster(state_dir)

    @property
    def kube(self) -> Kube:
        return Kube(self.local.api_client())

    @property
    def node(self) -> str:
        return self.local.real_node().spec.name

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True,
                timeout: float = 120) -> subprocess.CompletedProcess:
        done = subprocess.run([str(tools_bin_dir() / "kubectl"), "--kubeconfig", str(self.local.kubeconfig), *args],
                              input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done

    def apply(self, *manifests: dict) -> None:
        self.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(manifests))

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", "-o", "json", *args).stdout)

    def pod(self, namespace: str, name: str, command: list[str], **spec) -> dict:
        """A pod of the Python image on the real node."""
        container = {"name": "main", "image": PYTHON_IMAGE, "imagePullPolicy": "Never", "command": command,
                     **spec.pop("container", {})}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace,
                                                                "labels": {"app": name}},
                "spec": {"nodeSelector": {"kubernetes.io/hostname": self.node}, "containers": [container],
                         "terminationGracePeriodSeconds": 1, **spec}}

    def exec_python(self, namespace: str, pod: str, program: str, timeout: float = 60) -> str:
        """Runs `program` in `pod` until it succeeds, for at most `timeout` seconds: a Service's
        rules reach kube-proxy's iptables a moment after its endpoint is ready."""
        result: list[str] = []

        def attempt() -> bool:
            done = self.kubectl("-n", namespace, "exec", pod, "--", "python3", "-c", program, check=False)
            result[:] = [done.stdout, done.stderr]
            return done.returncode == 0

        try:
            wait_for(attempt, timeout=timeout, interval=1, what=f"{program!r} in {pod}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; its last output: {result}") from None
        return result[0]

    def wait_ready(self, namespace: str, *pods: str, timeout: int = 120) -> None:
        self.kubectl("-n", namespace, "wait", "--for=condition=Ready", *[f"pod/{pod}" for pod in pods],
                     f"--timeout={timeout}s", timeout=timeout + 30)
