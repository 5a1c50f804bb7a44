"""One declaration per kind the operator runs (a module each) and the catalog of them all.

The catalog is imported first, whichever module is asked for: the infrastructure declarations
derive what they grant (RabbitMQ users, cephx users) from the catalog's OpenStack services."""

from . import catalog  # noqa: F401
