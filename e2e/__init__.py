"""End-to-end test harness: a real etcd + kube-apiserver on loopback and HTTP echo backends
in a network namespace. Fixtures live in :mod:`e2e.fixtures` (``pytest -p e2e.fixtures``)."""
