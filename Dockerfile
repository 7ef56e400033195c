# syntax=docker/dockerfile:1
# One image for every process of the platform: web (gunicorn), worker and beat (celery) and the
# one-shot migrate job (see docker-compose.yml and docs/operations.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    MEDIA_ROOT=/data/media

WORKDIR /app

# Dependencies in their own layer, rebuilt only when pyproject.toml changes. pyproject says
# `[tool.setuptools] packages = []`: `pip install .` installs the dependencies and an empty
# distribution; the code itself is the source tree copied below and run from /app.
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected at build time (WhiteNoise serves them, hashed and compressed).
# With DEBUG off, settings refuse to load without SECRET_KEY and BASE_DOMAIN, and without
# DATABASE_URL they would start an embedded PostgreSQL: these throwaway values live only in this
# RUN (collectstatic never connects to the database) and are not stored in the image.
RUN DEBUG=0 SECRET_KEY=build-only-not-a-secret BASE_DOMAIN=build.invalid \
    DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput --verbosity 0

# Never run as root. The app writes only to /data (media uploads, private documents) and /tmp
# (beat schedule). Each directory compose mounts a volume on must exist here: a new named volume
# takes the ownership of the image's directory, and one Docker creates itself belongs to root.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app \
 && mkdir -p /data/media /data/private \
 && chown -R app:app /data
USER app

EXPOSE 8000

# No curl in the slim image: the check uses Python. /healthz answers on every known host, so it
# is asked for with the platform's Host header (127.0.0.1 is not in ALLOWED_HOSTS). 503 (database
# unreachable) and connection errors both fail it. worker and beat override it in compose.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': os.environ['BASE_DOMAIN']}), timeout=4)"]

# Workers are recycled after ~1000 requests: each process's connections and caches grow with
# the number of shops it has served (see CONN_MAX_AGE in config/settings.py).
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--max-requests", "1000", "--max-requests-jitter", "100", "--timeout", "30"]
