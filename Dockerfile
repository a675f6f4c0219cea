# doclane: one image for the gateway and every worker (the command picks the role).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY doclane ./doclane
COPY models ./models
# The models doclane trains itself (classifier, NER) are built into the image, keyed by
# the hash of their data and code as `make models` does; nothing is downloaded at run time.
ENV DOCLANE_MODELS_DIR=/opt/doclane/models
RUN pip install '.[models]' \
    && python -m models.ner.train && python -m models.classify.train \
    && useradd --create-home --uid 10001 doclane \
    && mkdir -p /data && chown doclane /data
USER doclane
ENV DOCLANE_DATA_DIR=/data DOCLANE_HOST=0.0.0.0 DOCLANE_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health')" || exit 1
CMD ["doclane", "gateway"]
