# syntax=docker/dockerfile:1
# ingress-ctl: the controller and Debian trixie's HAProxy 3.0 LTS, running as uid 10001 with
# a read-only root filesystem (state and sockets live in /var/run/ingress-ctl, an emptyDir).
# Build: docker build -t ingress-ctl:0.1.0 .
#   Behind a TLS-intercepting proxy, hand pip your CA bundle without baking it in:
#   docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t ingress-ctl:0.1.0 .
# Run: see docs/install.md (kubectl apply -k deploy/).

FROM debian:trixie-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3=3.13.* python3-venv=3.13.* \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ingress_ctl ./ingress_ctl
# The wheel is built here, then installed (with its dependencies) into a venv that the
# runtime stage copies unchanged; PIP_CERT only when a CA secret was given.
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && python3 -m venv /opt/ingress-ctl \
    && /opt/ingress-ctl/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && /opt/ingress-ctl/bin/pip install --no-cache-dir /wheels/ingress_ctl-*.whl

FROM debian:trixie-slim
# HAProxy may bind ports below 1024 as uid 10001 through a file capability. The kernel then
# refuses to run it where NET_BIND_SERVICE is not in the bounding set: keep it there
# (`--cap-drop ALL --cap-add NET_BIND_SERVICE`, as deploy/ does); it is granted only
# without no_new_privs (deploy/overlays/host-network, docs/install.md).
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3=3.13.* haproxy=3.0.* libcap2-bin=1:2.* \
    && setcap cap_net_bind_service=+ep /usr/sbin/haproxy \
    && apt-get purge -y libcap2-bin \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 ingress-ctl \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin ingress-ctl \
    && install -d -o 10001 -g 10001 -m 700 /var/run/ingress-ctl
COPY --from=build /opt/ingress-ctl /opt/ingress-ctl
ENV PATH=/opt/ingress-ctl/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8080 8443 10254
ENTRYPOINT ["ingress-ctl"]
CMD ["run", "--http-port=8080", "--https-port=8443", "--state-dir=/var/run/ingress-ctl"]
