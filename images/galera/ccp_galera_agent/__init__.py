"""The Galera agent: runs beside mysqld in each member and keeps the cluster's state in etcd.

- reports the member's recovery position and live wsrep state under a per-cluster prefix, with
  a lease, so a dead member's report expires;
- decides how mysqld starts: bootstrap a new cluster, bootstrap after a full outage from the
  most advanced member, or join;
- takes part in the election of exactly one writer, and fences itself when it loses the role.
"""
