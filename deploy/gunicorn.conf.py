"""Gunicorn settings for Autoledger's web processes (`gunicorn --config deploy/gunicorn.conf.py`).

Every value can be changed from the environment file the systemd unit reads (deploy/autoledger.env.example).
Gunicorn sits behind a reverse proxy that terminates TLS and buffers slow clients (uploads stream through it).
"""
import multiprocessing
import os

wsgi_app = "ledger_site.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: a request holds one process. Each keeps one PostgreSQL connection for DB_CONN_MAX_AGE seconds,
# so workers x web hosts counts against PostgreSQL's max_connections (README: Production).
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * multiprocessing.cpu_count() + 1)))
# An upload of MAX_UPLOAD_MB is stored and hashed inside the request; everything else answers in well under a second.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak in any library never grows without bound. A new worker costs
# seconds of CPU (it imports Django, pandas and scikit-learn), so not often, and with a wide jitter: workers that
# share an even load would otherwise all restart within the same minute.
max_requests = 20000
max_requests_jitter = 5000
# The proxy's address: only its X-Forwarded-* headers are believed (Django also needs BEHIND_TLS_PROXY=1).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"


def post_worker_init(worker: object) -> None:
    """Import every view (the URLconf, and through it pandas and scikit-learn) before the worker takes a request:
    otherwise a new or recycled worker's first request waits seconds for the imports."""
    from django.urls import reverse

    reverse("healthz")  # builds the resolver, which imports every urls module and its views
