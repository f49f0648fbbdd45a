# Baraza server and worker image (CPU). Build: docker compose build
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# A CPU build of torch, pinned: the default wheel index would bring a multi-GB CUDA build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install "torch==2.13.0" --index-url "$TORCH_INDEX_URL"

WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY workers ./workers
COPY migrations ./migrations
RUN pip install .
# The offline fallback's weights; --no-deps so TensorFlow is never installed.
RUN pip install --no-deps "tox-block==0.1.2"

RUN useradd --create-home baraza
USER baraza
EXPOSE 8080
CMD ["baraza", "serve", "--host", "0.0.0.0", "--port", "8080"]
