"""Where objects come from: a folder of manifests, or a Kubernetes API server."""
