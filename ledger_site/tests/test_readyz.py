"""GET /readyz: ready only when the database and the broker answer and every migration of the code is applied."""
from __future__ import annotations

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder


def test_readyz_is_200_when_everything_is_in_place(db, client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "missing": [], "database": "ok", "broker": "ok", "migrations": "ok"}


def test_readyz_is_503_and_names_a_migration_the_database_has_not_applied(db, client):
    # The database forgets that the jobs app's newest migration ran, as a database one release behind would be;
    # the test's transaction puts the record back afterwards.
    [leaf] = MigrationLoader(connection, ignore_no_migrations=True).graph.leaf_nodes("jobs")
    assert MigrationRecorder.Migration.objects.filter(app=leaf[0], name=leaf[1]).delete()[0] == 1

    ready = client.get("/readyz")
    alive = client.get("/healthz")

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable", "missing": ["migrations"], "database": "ok", "broker": "ok",
        "migrations": "unapplied", "unapplied_migrations": [f"jobs.{leaf[1]}"],
    }
    assert alive.status_code == 200  # alive, just not ready for traffic


def test_readyz_is_503_when_the_broker_is_unreachable(db, client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable", "missing": ["broker"], "database": "ok", "broker": "unavailable", "migrations": "ok",
    }


def test_readyz_does_not_read_migrations_without_a_database(db, client, monkeypatch):
    from ledger_site import health

    monkeypatch.setattr(health, "database_ok", lambda: False)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["missing"] == ["database", "migrations"]
    assert response.json()["migrations"] == "unknown"
