# ingress-ctl: the controller and Debian's HAProxy 2.6, running as a non-root user.
# Build: docker build -t ingress-ctl:0.1.0 .   Run: see deploy/ (kubectl apply -k deploy/).

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml ./
COPY ingress_ctl ./ingress_ctl
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends haproxy=2.6.* \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 ingress-ctl \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin ingress-ctl \
    && install -d -o 10001 -g 10001 -m 700 /var/run/ingress-ctl
COPY --from=build /install /usr/local
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8080 8443 10254
ENTRYPOINT ["ingress-ctl"]
CMD ["run", "--http-port=8080", "--https-port=8443", "--state-dir=/var/run/ingress-ctl"]
