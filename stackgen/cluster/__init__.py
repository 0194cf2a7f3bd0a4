"""Everything that talks to a Kubernetes cluster, and the local control plane for trying it."""
