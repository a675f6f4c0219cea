# doclane: one image for the gateway and every worker (the command picks the role).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY doclane ./doclane
RUN pip install . && useradd --create-home --uid 10001 doclane \
    && mkdir -p /data && chown doclane /data
USER doclane
ENV DOCLANE_DATA_DIR=/data DOCLANE_HOST=0.0.0.0 DOCLANE_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health')" || exit 1
CMD ["doclane", "gateway"]
