"""Annotations: every `ingress-ctl.io/` key typed, registered by scope, injection-proof.

`registry` holds the keys and reads them; one module per feature group
registers its keys and builds its part of a policy (`ingress_ctl/model/policies.py`);
`nginx` maps `nginx.ingress.kubernetes.io/` keys onto ours (`--nginx-compat`);
`reading` gathers what one object says; `migrating` reports what an
ingress-nginx Ingress becomes. Pure: nothing here reads files or sockets.
"""
