"""kopf handlers, one module per resource kind. Importing this package registers them all."""

from . import (ceph, cinder, controlplane, etcd, galera, glance, horizon, keystone, memcached, neutron, nova,  # noqa: F401
               observation, placement, rabbitmq)
