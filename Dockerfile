# loginbot: one image for `serve slack`, `serve actions`, `simulator` and `migrate`.
# Build: docker build -t loginbot .   Run: see docker-compose.yml and docs/operations.md.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the package and its dependencies in a virtual environment ---------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/loginbot
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY intents ./intents
COPY storage ./storage
RUN /opt/loginbot/bin/pip install ".[postgres]"

# --- run: the environment only, as an unprivileged user -------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="loginbot" \
      org.opencontainers.image.description="Signs contact-center agents in to their station from chat" \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/loginbot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOGINBOT_LOG_FORMAT=json \
    LOGINBOT_LOG_LEVEL=INFO \
    LOGINBOT_SIMULATOR_STATE="" \
    LOGINBOT_HEALTH_URL=http://127.0.0.1:3000/healthz
RUN groupadd --system --gid 10001 loginbot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/loginbot --create-home loginbot
COPY --from=build /opt/loginbot /opt/loginbot
USER 10001:10001
WORKDIR /var/lib/loginbot
EXPOSE 3000
# Liveness of whichever server the container runs: LOGINBOT_HEALTH_URL names its /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(os.environ['LOGINBOT_HEALTH_URL'], timeout=4).status != 200)"]
ENTRYPOINT ["loginbot"]
CMD ["serve", "slack", "--host", "0.0.0.0", "--port", "3000", "--workers", "2"]
