"""memcached: the token and service caches of keystone and keystonemiddleware.

A StatefulSet rather than a Deployment: clients hash keys over the full list of servers, which
needs stable per-pod addresses. Behind one load-balanced address each keystone process would
cache into a different server and invalidations would miss the others.
"""

from .base import CACHE_SERVERS, Component, Probe, ServiceDefinition

PORT = 11211
MEMORY_MB = 1024

SERVICE = ServiceDefinition(
    name="memcached",
    kind="Memcached",
    plural="memcacheds",
    short_names=("mc",),
    publishes=CACHE_SERVERS,
    description="memcached servers for keystone's and keystonemiddleware's caches.",
    components=(
        Component(
            key="", name="memcached", image="memcached", user="memcached",
            command=f"/usr/bin/memcached -v -l 0.0.0.0 -p {PORT} -c 5000 -U 0 -m {MEMORY_MB}",
            config_files=(), replicas=3, port=PORT, stateful=True,
            readiness=Probe("tcp", PORT), liveness=Probe("tcp", PORT),
            cpu="500m", memory=f"{MEMORY_MB + 256}Mi",
        ),
    ),
)
