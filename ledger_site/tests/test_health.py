"""GET /healthz answers for the database and the broker, and never with a traceback."""
from __future__ import annotations


def test_healthz_is_200_when_database_and_broker_answer(db, client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_redis_is_unreachable(db, client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unavailable"}


def test_healthz_is_503_when_the_embedded_broker_folder_is_unusable(db, client, settings, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.BROKER_DIR = not_a_folder / "broker"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
