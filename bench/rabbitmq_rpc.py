"""RPC round trips per second on three real RabbitMQ brokers (Debian's rabbitmq-server), with
the operator's policy (RPC queues unreplicated) against policies that replicate every queue,
side by side in one run on the same cluster, with real oslo.messaging clients configured from
the operator's rendering of nova.

    python bench/rabbitmq_rpc.py [--broker 3.10|4.0] [--seconds 20] [--threads 200] [--pairs 8]

Two measurements per variant: oslo.messaging RPC calls (whose reply waiter polls every 0.5 s, so
the rate is bound by the clients' concurrency and hides the brokers' cost), and the same
request/reply pattern in kombu with publisher confirms (what the brokers cost, as the reference
architecture measured it).

Variants (each on its own vhost of the same brokers, with its own RPC server process):
  operator   the operator's RPC vhost: classic queues, no replication
  quorum     every RPC queue a quorum queue (rabbit_quorum_queue and
             rabbit_transient_quorum_queue): how 4.x replicates everything
  mirrored   a classic mirroring policy on every queue (ha-mode all): how the reference
             architecture measured "mirror everything" (3.x only: 4.0 removed mirroring)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import messaging  # noqa: E402
from support.rabbitmq_cluster import DEBIAN_13, HOST, PASSWORDS, RabbitCluster  # noqa: E402
from support.waiting import wait_for  # noqa: E402

VARIANTS = {
    "operator": ("openstack", ""),
    "quorum": ("bench-quorum", "rabbit_quorum_queue=true&rabbit_transient_quorum_queue=true"),
    "mirrored": ("bench-mirrored", ""),
}


def variant_config(cluster: RabbitCluster, root: Path, name: str) -> Path:
    vhost, options = VARIANTS[name]
    path = messaging.client_config(cluster, root / f"{name}.conf", rpc_vhost=vhost)
    if options:
        text = path.read_text().replace(f"/{vhost}\n", f"/{vhost}?{options}\n", 1)
        path.write_text(text)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--broker", choices=["3.10", "4.0"], default="3.10",
                        help="Debian 12's broker (3.10) or Debian 13's (4.0, from hack/install-rabbitmq4.sh)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--pairs", type=int, default=8)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="rabbitmq-bench-"))
    cluster = RabbitCluster(root / "rabbit", runtime=HOST if args.broker == "3.10" else DEBIAN_13)
    variants = [name for name in VARIANTS if name != "mirrored" or args.broker == "3.10"]
    servers = []
    results: dict[str, float] = {}
    amqp: dict[str, float] = {}
    try:
        cluster.start_all()
        first = cluster.brokers[0]
        for name in variants[1:]:
            vhost = VARIANTS[name][0]
            cluster.ctl(first, "add_vhost", vhost)
            cluster.ctl(first, "set_permissions", "-p", vhost, "nova", ".*", ".*", ".*")
        if "mirrored" in variants:
            cluster.ctl(first, "set_policy", "-p", "bench-mirrored", "--apply-to", "queues", "mirror-all", ".*",
                        json.dumps({"ha-mode": "all", "ha-sync-mode": "automatic"}))
        for name in variants:
            config = variant_config(cluster, root, name)
            servers.append(messaging.start(config, "rpc-server", "bench", "host-1", log=root / f"{name}-server.log"))
            vhost = VARIANTS[name][0]
            wait_for(lambda: any(q["name"] == "bench" for q in cluster.queues(vhost)), timeout=60,
                     what=f"the {name} RPC server")
        for name in variants:
            done = messaging.run(variant_config(cluster, root, name), "rate", "bench", str(args.seconds),
                                 str(args.threads), timeout=args.seconds + 120)
            if done.returncode != 0:
                raise RuntimeError(f"{name}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            results[name] = figures["calls"] / figures["seconds"]
            queues = cluster.queues(VARIANTS[name][0])
            types = sorted({q["type"] + ("+mirrors" if q.get("slave_pids") else "") for q in queues})
            print(f"  {name:9s} oslo.messaging {results[name]:8.0f} round trips/s   queues: {', '.join(types)}",
                  flush=True)
        for name, queue_type in (("operator", "classic"), ("quorum", "quorum"), ("mirrored", "classic")):
            if name not in variants:
                continue
            vhost = VARIANTS[name][0]
            url = ";".join(f"amqp://nova:{PASSWORDS['nova']}@{host}:{cluster.port}/{vhost}" for host in cluster.hosts)
            done = messaging.run_raw(url, "amqp-rate", queue_type, str(args.seconds), str(args.pairs),
                                     timeout=args.seconds + 120)
            if done.returncode != 0:
                raise RuntimeError(f"{name}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            amqp[name] = figures["calls"] / figures["seconds"]
            print(f"  {name:9s} AMQP (kombu)    {amqp[name]:8.0f} round trips/s", flush=True)
    finally:
        for server in servers:
            server.kill()
        cluster.stop_all()
    print(f"brokers: 3 x RabbitMQ {cluster.reconciler.broker_version}; oslo.messaging {messaging.OSLO_MESSAGING} "
          f"with {args.threads} caller threads; kombu with {args.pairs} caller/server pairs; {args.seconds:.0f} s each")
    for name in variants[1:]:
        print(f"operator / replicate every queue ({name:8s}): oslo.messaging "
              f"{results['operator'] / results[name]:.2f}x, AMQP {amqp['operator'] / amqp[name]:.2f}x")


if __name__ == "__main__":
    main()
