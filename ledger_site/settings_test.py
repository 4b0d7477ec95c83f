"""Test settings: the production settings plus a test secret; DATABASE_URL / REDIS_URL still choose the services."""
import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

from ledger_site.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation; tests only

# A worker process started by the tests must use the test database the test run created.
if os.environ.get("LEDGER_WORKER_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["LEDGER_WORKER_DATABASE_NAME"]  # noqa: F405
# Keep test messages apart from a development worker's: another Redis database, another broker folder.
if REDIS_URL:  # noqa: F405
    from urllib.parse import urlsplit, urlunsplit

    CELERY_BROKER_URL = os.environ.get(  # noqa: F405
        "LEDGER_TEST_REDIS_URL", urlunsplit(urlsplit(REDIS_URL)._replace(path="/15"))  # noqa: F405
    )
else:
    BROKER_DIR = VAR_DIR / "test-broker"  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {  # noqa: F405
        "data_folder_in": str(BROKER_DIR), "data_folder_out": str(BROKER_DIR), "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIR / "test-uploads"  # noqa: F405

# Each test starts with an empty cache (throttle counters, lockouts): see the autouse fixture in conftest.py.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
