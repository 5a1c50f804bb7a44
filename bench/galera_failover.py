"""Galera writer failover through the writer endpoint, measured on the real programs: three
MariaDB/galera-4 members with their agents, etcd, HAProxy as the operator renders it and its
router, and a client writing through it. Each round kills the writer (mysqld and agent, SIGKILL),
measures the time to the first acknowledged write after the kill, restarts the member and waits
until it rejoins; at the end every acknowledged row is looked for on every member.

    python bench/galera_failover.py [--kills 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.etcd_server import EtcdCluster  # noqa: E402
from support.galera_cluster import APP_PASSWORD, APP_USER, GaleraCluster  # noqa: E402
from support.waiting import wait_for  # noqa: E402
from support.writer_proxy import Writer, WriterProxy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="galera-bench-"))
    etcd = EtcdCluster(root / "etcd", size=3)
    etcd.start()
    cluster = GaleraCluster(root / "galera", etcd)
    proxy = WriterProxy(root / "haproxy", cluster)
    failovers: list[float] = []
    try:
        cluster.start_all()
        wait_for(lambda: cluster.check_agents() or (len(cluster.synced()) == 3 and cluster.writer()),
                 timeout=240, what="the cluster")
        cluster.create_ledger()
        proxy.start()
        writer = Writer(proxy.port, APP_USER, APP_PASSWORD).start()
        wait_for(lambda: writer.acknowledged, timeout=60, what="writes")
        for round_number in range(1, args.kills + 1):
            victim = cluster.member(wait_for(cluster.writer, timeout=60, what="a writer"))
            killed_at = time.monotonic()
            cluster.kill(victim)
            first = wait_for(lambda: writer.first_write_after(killed_at, victim.name), timeout=60, interval=0.05,
                             what="a write after the kill")
            failovers.append(first.at - killed_at)
            print(f"  kill {round_number:2d}: {victim.name} -> {first.node} in {failovers[-1]:.2f}s", flush=True)
            cluster.start(victim)
            wait_for(lambda: cluster.check_agents() or len(cluster.synced()) == 3, timeout=240,
                     what=f"{victim.name} to rejoin")
        writer.finish()
        acknowledged = {w.sequence for w in writer.acknowledged}
        lost = 0
        for member in cluster.members:
            deadline = time.monotonic() + 120
            while True:
                with cluster.root(member) as connection, connection.cursor() as cursor:
                    cursor.execute("SELECT sequence FROM ledger.entries")
                    missing = acknowledged - {row[0] for row in cursor.fetchall()}
                if not missing or time.monotonic() > deadline:
                    break
                time.sleep(1)
            lost = max(lost, len(missing))
    finally:
        proxy.stop()
        cluster.stop_all()
        etcd.stop()

    print(f"writer kills                         {len(failovers)}")
    print(f"failover to first write, median      {statistics.median(failovers):.2f} s")
    print(f"failover to first write, max         {max(failovers):.2f} s")
    print(f"acknowledged rows                    {len(acknowledged)}")
    print(f"acknowledged rows lost               {lost}")


if __name__ == "__main__":
    main()
