"""The local development and test cluster: real Kubernetes control-plane programs, kwok nodes."""

from .cluster import ClusterError, LocalCluster, default_state_dir, tools_bin_dir

__all__ = ["ClusterError", "LocalCluster", "default_state_dir", "tools_bin_dir"]
