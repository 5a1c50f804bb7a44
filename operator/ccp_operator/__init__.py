"""A kopf operator that deploys and runs an OpenStack control plane on Kubernetes."""
