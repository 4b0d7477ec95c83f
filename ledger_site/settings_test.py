"""Test settings: the production settings plus a test secret; DATABASE_URL / REDIS_URL still choose the services."""
import atexit
import os
import shutil
import sys
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
# Each test run counts into a folder of its own (the worker processes it starts inherit the variable), so two test
# runs on one machine, or a development server, never add to each other's metrics.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="autoledger-test-metrics-")
    atexit.register(shutil.rmtree, os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

from ledger_site.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation; tests only

# A worker process started by the tests must use the test database the test run created.
if os.environ.get("LEDGER_WORKER_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["LEDGER_WORKER_DATABASE_NAME"]  # noqa: F405
# The test process's own connections carry a name, so the fault tests that end other processes' connections
# (pg_terminate_backend of workers and gunicorn) spare it - and the live server thread of the browser tests.
TEST_PROCESS_DB_APPLICATION_NAME = "autoledger-pytest"
if "pytest" in sys.modules and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = TEST_PROCESS_DB_APPLICATION_NAME  # noqa: F405
# Keep test messages apart from a development worker's: another Redis database, another broker folder.
# LEDGER_TEST_REDIS_URL alone also selects Redis: test runs side by side each name their own Redis database,
# where a shared broker folder would let one run's workers take the other's tasks.
if os.environ.get("LEDGER_TEST_REDIS_URL"):
    CELERY_BROKER_URL = os.environ["LEDGER_TEST_REDIS_URL"]  # noqa: F405
elif REDIS_URL:  # noqa: F405
    from urllib.parse import urlsplit, urlunsplit

    CELERY_BROKER_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path="/15"))  # noqa: F405
else:
    BROKER_DIR = VAR_DIR / "test-broker"  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {  # noqa: F405
        "data_folder_in": str(BROKER_DIR), "data_folder_out": str(BROKER_DIR), "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIR / "test-uploads"  # noqa: F405
# A fault test's worker loads a hook that crashes it on a marked row (jobs/tests/fault_injection.py).
if os.environ.get("LEDGER_TEST_FAULT_INJECTION") == "1":
    CELERY_IMPORTS = ["jobs.tests.fault_injection"]

# Each test starts with an empty cache (throttle counters, lockouts): see the autouse fixture in conftest.py.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
