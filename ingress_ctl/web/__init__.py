"""The controller's HTTP face: the status server and what it shows, and the `status` command.

`serving` answers /healthz, /readyz, /status, /metrics and the status page (aiohttp);
`observing` joins HAProxy's runtime counters with the routing model into the overview they
show; `page` renders that overview as HTML (with `templates/`, package data); `inspecting`
is the `ingress-ctl status` command, which reads a running controller's /status over HTTP.
"""
