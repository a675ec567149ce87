# syntax=docker/dockerfile:1
# 429chain's image. Stage 1 (Node, with Python to drive the package build) builds the dashboard
# and the wheel; stage 2 is a slim Python runtime with only the wheel and the exact versions of
# its dependencies (requirements/runtime.lock) installed, running as a user without privileges.
#
#   docker build -t 429chain .
#   docker run -p 3429:3429 -v "$PWD/config:/config:ro" -v 429chain-data:/data --env-file .env 429chain
#
# The config is read from /config/config.yaml; mounted read-only (as above) the management API
# answers read-only, mounted writable it saves the dashboard's edits there. The database is
# /data/429chain.db, on the volume. See docs/deployment.md.

ARG PYTHON_VERSION=3.11
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The package build (build_support/build_backend.py) runs npm ci and the dashboard's build.
RUN python3 -m venv /tools \
    && /tools/bin/pip install --no-cache-dir build \
    && /tools/bin/python -m build --wheel --outdir /dist .

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin chain429 \
    && mkdir -p /data /config \
    && chown chain429:chain429 /data
COPY requirements/runtime.lock /tmp/runtime.lock
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-cache-dir --disable-pip-version-check -r /tmp/runtime.lock \
    && pip install --no-cache-dir --disable-pip-version-check --no-deps /tmp/dist/*.whl \
    && rm -rf /tmp/runtime.lock /tmp/dist

# Inside the container only: listen on every interface (the port mapping decides who reaches
# it), keep the database on the volume, read the mounted config.
ENV CHAIN429_HOST=0.0.0.0 \
    CHAIN429_DB_PATH=/data/429chain.db \
    CHAIN429_CONFIG=/config/config.yaml \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

USER chain429
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3429
# `429chain health` finds the port where serve does (CHAIN429_PORT, then the config file).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["429chain", "health"]
# SIGTERM lets requests in flight finish within settings.shutdownGraceMs (10 s by default):
# give `docker stop` more than that (-t 15; docker-compose.yml sets stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["429chain"]
CMD ["serve"]
