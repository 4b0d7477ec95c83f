"""GET /healthz: can we reach the database and the broker? 200 if both answer, 503 otherwise.

GET /readyz: should this instance take traffic? /healthz's checks, and every migration of the code applied to
the database (a new release whose migrations have not run yet is alive, but not ready).
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)
BROKER_TIMEOUT_SECONDS = 2.0


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "not healthy"; the reason goes to the log, not the response
        logger.warning("health check: database unreachable", exc_info=True)
        return False


def broker_ok() -> bool:
    from kombu import Connection

    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        # The embedded filesystem broker is healthy when its folder is writable.
        probe = settings.BROKER_DIR / ".healthz"
        try:
            settings.BROKER_DIR.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"ok")
            probe.unlink()
            return True
        except OSError:
            logger.warning("health check: broker folder not writable", exc_info=True)
            return False
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        return True
    except Exception:
        logger.warning("health check: broker unreachable", exc_info=True)
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_ok(), "broker": broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable", **{name: "ok" if ok else "unavailable" for name, ok in checks.items()}}
    return JsonResponse(body, status=200 if healthy else 503)


def migrations_unapplied() -> list[str]:
    """The migrations of the code that the database has not recorded as applied ("app.name"), in plan order."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, backwards in plan if not backwards]


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_ok(), "broker": broker_ok()}
    body: dict[str, object] = {name: "ok" if ok else "unavailable" for name, ok in checks.items()}
    unapplied: list[str] = []
    if checks["database"]:
        try:
            unapplied = migrations_unapplied()
            body["migrations"] = "unapplied" if unapplied else "ok"
        except Exception:  # e.g. the connection dropped between the checks; the log says why
            logger.warning("readiness check: migrations could not be read", exc_info=True)
            body["migrations"] = "unavailable"
    else:
        body["migrations"] = "unknown"  # cannot be read without the database
    if unapplied:
        body["unapplied_migrations"] = unapplied
    ready = all(checks.values()) and body["migrations"] == "ok"
    missing = [name for name in ("database", "broker", "migrations") if body[name] != "ok"]
    return JsonResponse({"status": "ready" if ready else "unavailable", "missing": missing, **body},
                        status=200 if ready else 503)
