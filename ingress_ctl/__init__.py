"""ingress-ctl: a Kubernetes Ingress controller that drives HAProxy."""

__version__ = "0.1.0"
