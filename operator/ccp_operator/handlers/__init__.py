"""kopf handlers, one module per resource kind. Importing this package registers them all."""

from . import controlplane, galera, keystone, memcached, rabbitmq  # noqa: F401
