"""GET /metrics in the Prometheus text format, for Prometheus only (never through the session login).

Access: with METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise, from anywhere);
without it, only clients whose address (REMOTE_ADDR, never a forwarded header: it can be forged) is in
METRICS_ALLOWED_IPS, loopback by default (404 for everyone else: the endpoint does not exist for them).

Each scrape builds a fresh registry of two collectors: the multiprocess collector, which adds up the counters
and histograms every process on this host wrote to PROMETHEUS_MULTIPROC_DIR (web and Celery workers), and the
state collector (database and broker, ledger_site/metrics_collector.py).
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

import ledger_site.metrics  # noqa: F401  (multiprocess mode is set up before prometheus_client is imported)
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)


def metrics_access(*, authorization: str, remote_address: str) -> int:
    """200 if the scraper may read the metrics, else the status to answer with (401 or 404)."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return 200
        return 401
    try:
        address = ipaddress.ip_address(remote_address)
    except ValueError:
        return 404
    if address.version == 6 and address.ipv4_mapped:  # ::ffff:127.0.0.1 from a dual-stack socket
        address = address.ipv4_mapped
    return 200 if any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS))) else 404


@lru_cache(maxsize=8)
def _networks(items: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item, strict=False) for item in items]  # validated by settings.py


def metrics_registry(*, with_state: bool = True) -> CollectorRegistry:
    """The registry of one scrape: every process's event metrics on this host, and the state metrics."""
    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry, path=str(settings.PROMETHEUS_MULTIPROC_DIR))
    if with_state:
        from ledger_site.metrics_collector import StateCollector

        registry.register(StateCollector())
    return registry


def _denied(status: int) -> HttpResponse:
    response = HttpResponse(status=status, content_type="text/plain; charset=utf-8")
    response.content = b"Unauthorized\n" if status == 401 else b"Not Found\n"
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@csrf_exempt  # read-only; and a CSRF 403 would tell an outsider that the URL exists
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    status = metrics_access(
        authorization=request.META.get("HTTP_AUTHORIZATION", ""), remote_address=request.META.get("REMOTE_ADDR", "")
    )
    if status != 200:  # before anything else, so an outsider cannot even learn which methods exist
        return _denied(status)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


# --- A worker's own exporter, for a host without a web process ------------------------------------------------

class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Scrapes every few seconds would flood the worker's log."""


def _exporter_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    status = metrics_access(
        authorization=environ.get("HTTP_AUTHORIZATION", ""), remote_address=environ.get("REMOTE_ADDR", "")
    )
    if status != 200 or environ.get("PATH_INFO") != "/metrics":
        reason = "401 Unauthorized" if status == 401 else "404 Not Found"
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        if status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="metrics"'))
        start_response(reason, headers)
        return [reason.encode() + b"\n"]
    # The event metrics only: the state metrics come from the web's /metrics (one copy of them is enough).
    body = generate_latest(metrics_registry(with_state=False))
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [body]


def worker_exporter_start(*, address: str, port: int) -> WSGIServer:
    """Serve GET /metrics (this host's PROMETHEUS_MULTIPROC_DIR, same access rules) from a daemon thread."""
    server = make_server(address, port, _exporter_app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True).start()
    logger.info("worker metrics exporter listening on %s:%s", address, server.server_port)
    return server
