# One image for the three servers; each Kubernetes Deployment picks its console script.
#   docker build -t huleedu-cj:0.1.0 .
#   docker run --rm -p 50051:50051 -e CJ_HOST=0.0.0.0 huleedu-cj:0.1.0 cj-server
# Stage 1 builds a wheel from the committed sources (gen/ included, so no protoc at build time).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gen ./gen
COPY service_core ./service_core
COPY llm_provider_server ./llm_provider_server
COPY cj_server ./cj_server
COPY ras_server ./ras_server
COPY stack ./stack
COPY huleedu_cli ./huleedu_cli
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Stage 2: only the installed packages, run as an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/huleedu \
    PATH=/opt/huleedu/bin:$PATH \
    CJ_HOST=0.0.0.0 LPS_HOST=0.0.0.0 RAS_HOST=0.0.0.0 \
    CJ_METRICS_HOST=0.0.0.0 LPS_METRICS_HOST=0.0.0.0 RAS_METRICS_HOST=0.0.0.0
COPY --from=build /wheels /wheels
RUN python -m venv /opt/huleedu \
    && /opt/huleedu/bin/pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin huleedu \
    && mkdir -p /var/lib/huleedu && chown 10001 /var/lib/huleedu
USER 10001
# Where the SQLite default keeps its files when no *_DATABASE_URL is given (a volume in production).
WORKDIR /var/lib/huleedu
# gRPC ports of CJ, LPS and RAS, then their /metrics ports.
EXPOSE 50051 50052 50053 9101 9102 9103
# The servers stop gracefully on SIGTERM (health NOT_SERVING, drain, in-flight calls finish).
STOPSIGNAL SIGTERM
CMD ["cj-server"]
