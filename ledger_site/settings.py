"""Autoledger settings: one file, every value from the environment with a default that just works.

A fresh clone runs with no environment at all: SQLite under var/, and an embedded filesystem broker so a
real, separate Celery worker process still runs the jobs. Set DATABASE_URL / REDIS_URL for PostgreSQL and Redis.
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from ledger_site.env import env_bool, env_int, env_list, env_probability, env_seconds, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LEDGER_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE).")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_celery_results",
    "transactions",
    "jobs",
    "rules",
    "mlmodels",
    "decisions",
    "ledger",
]

MIDDLEWARE = [
    "ledger_site.middleware.RequestMetricsMiddleware",  # first: its time includes every other middleware
    "django.middleware.security.SecurityMiddleware",
    "ledger_site.middleware.UploadLimitMiddleware",
    "ledger_site.middleware.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it watches logins and answers locked-out users.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ledger_site.urls"
WSGI_APPLICATION = "ledger_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ledger.sqlite3'}")
# Health checks: a kept connection that the server dropped (restart, failover, pg_terminate_backend) is replaced
# at the next request's first query instead of failing it.
DATABASES = {"default": dj_database_url.parse(
    DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker are separate processes sharing one file: wait for the write lock instead of failing,
    # and give the test database a file too so a real worker process can see the test's rows.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_ledger.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REDIS_URL = env_str("REDIS_URL")  # the broker and the shared cache; empty: embedded broker, file cache

# --- Auth, i18n, static ------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
MEDIA_ROOT = VAR_DIR / "uploads"  # outside the web root; never served directly
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Production safety (checked by `manage.py check --deploy`) ---------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Only our own scripts, styles and images; no inline script anywhere (the API docs use the split view).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failures for one username from one address, that
# login is refused for LOGIN_LOCKOUT_MINUTES, with 429 and Retry-After.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "ledger_site.security.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None

# --- REST API ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so an unauthenticated API request gets 401 with WWW-Authenticate rather than 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "transactions.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "ledger_site.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Autoledger API",
    "DESCRIPTION": "Bank-transaction ingestion, categorization and double-entry posting for many companies.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,  # uploads documented as binary files, read-only fields out of requests
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: no CDN, and no inline script (CSP)
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; name each choice set after its model in the schema.
    "ENUM_NAME_OVERRIDES": {
        "RuleStatusEnum": "rules.models.RuleStatus",
        "RuleCombineEnum": "rules.models.Combine",
        "DecisionStatusEnum": "decisions.models.DecisionStatus",
        "ReconciliationStatusEnum": "ledger.models.ReconciliationStatus",
        "JobStatusEnum": "jobs.models.JobStatus",
        "JobKindEnum": "jobs.models.JobKind",
        "EntryStatusEnum": "ledger.models.EntryStatus",
        "EntryKindEnum": "ledger.models.EntryKind",
    },
}

# Throttle counters and login-failure records must be shared by every web process: Redis when there is one,
# otherwise a cache folder on this machine.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "ledger"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    )
}

# --- Celery -----------------------------------------------------------------------------------------------
# Without REDIS_URL, kombu's filesystem transport: messages are files in var/broker, so a separate worker
# process on the same machine receives them with no server to install. It is for one machine only.
BROKER_DIR = VAR_DIR / "broker"
if not REDIS_URL:
    BROKER_DIR.mkdir(exist_ok=True)  # the transport expects the folder to exist
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost//"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    # Redis redelivers a message whose worker died only after this many seconds; it must be comfortably
    # above the longest task (the hard time limit below), or a slow chunk would be delivered twice.
    {"visibility_timeout": env_int("LEDGER_BROKER_VISIBILITY_TIMEOUT", 7200, minimum=60)}
    if REDIS_URL
    else {"data_folder_in": str(BROKER_DIR), "data_folder_out": str(BROKER_DIR), "store_processed": False,
       "control_folder": str(BROKER_DIR / "control")}
)
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ALWAYS_EAGER = env_bool("LEDGER_TASKS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True

# --- Product settings (names kept from the design; see README's configuration table) ------------------------
ML_CONFIDENCE_THRESHOLD = env_probability("ML_CONFIDENCE_THRESHOLD", "0.85")
ML_REVIEW_THRESHOLD = env_probability("ML_REVIEW_THRESHOLD", "0.70")
if ML_REVIEW_THRESHOLD > ML_CONFIDENCE_THRESHOLD:
    raise ImproperlyConfigured("ML_REVIEW_THRESHOLD must not be above ML_CONFIDENCE_THRESHOLD.")
USE_RULES = env_bool("USE_RULES", True)
USE_ML = env_bool("USE_ML", True)
USE_LLM = env_bool("USE_LLM", False)
LLM_BASE_URL = env_str("LLM_BASE_URL")
LLM_MODEL = env_str("LLM_MODEL")
LLM_API_KEY = env_secret("LLM_API_KEY")
# An LLM answer is auto-approved only at or above this stated confidence; below it goes to review as a suggestion.
LLM_CONFIDENCE_THRESHOLD = env_probability("LLM_CONFIDENCE_THRESHOLD", "0.90")
LLM_TIMEOUT_SECONDS = env_seconds("LLM_TIMEOUT_SECONDS", 10)
LLM_MAX_RETRIES = env_int("LLM_MAX_RETRIES", 2, minimum=0)
LLM_RETRY_BACKOFF_SECONDS = env_seconds("LLM_RETRY_BACKOFF_SECONDS", 0.5)
# The circuit breaker (shared by all workers through the cache) opens after this many failures in a row.
LLM_BREAKER_FAILURES = env_int("LLM_BREAKER_FAILURES", 5, minimum=1)
LLM_BREAKER_COOLDOWN_SECONDS = env_int("LLM_BREAKER_COOLDOWN_SECONDS", 60, minimum=1)
LLM_DAILY_BUDGET_PER_COMPANY = env_int("LLM_DAILY_BUDGET_PER_COMPANY", 200, minimum=0)
LLM_CACHE_SECONDS = env_int("LLM_CACHE_SECONDS", 7 * 24 * 3600, minimum=0)  # answers per normalized vendor
MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 50, minimum=1)
UPLOADS_PER_HOUR_PER_USER = env_int("UPLOADS_PER_HOUR_PER_USER", 120, minimum=1)
UPLOADS_PER_HOUR_PER_COMPANY = env_int("UPLOADS_PER_HOUR_PER_COMPANY", 600, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # non-file request bodies; files stream to disk past this size
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Jobs: a started job whose heartbeat is older than this is considered orphaned (its worker died) and is
# re-enqueued by the sweep; it must exceed the longest gap between two heartbeats (one chunk).
LEDGER_JOB_STALE_SECONDS = env_int("LEDGER_JOB_STALE_SECONDS", 300, minimum=1)
LEDGER_JOB_MAX_ATTEMPTS = env_int("LEDGER_JOB_MAX_ATTEMPTS", 5, minimum=1)
# An import chunk that killed the worker this many times is skipped (its rows rejected with the reason). The
# run that skips it is one more attempt of the job, so the job's limit must be higher, or the job would be given
# up before the chunk could be.
LEDGER_CHUNK_MAX_ATTEMPTS = env_int("LEDGER_CHUNK_MAX_ATTEMPTS", 3, minimum=1)
if LEDGER_JOB_MAX_ATTEMPTS <= LEDGER_CHUNK_MAX_ATTEMPTS:
    raise ImproperlyConfigured(
        f"LEDGER_JOB_MAX_ATTEMPTS ({LEDGER_JOB_MAX_ATTEMPTS}) must be above LEDGER_CHUNK_MAX_ATTEMPTS "
        f"({LEDGER_CHUNK_MAX_ATTEMPTS}): an import needs one more attempt to skip a chunk that crashes the worker."
    )
LEDGER_IDEMPOTENCY_TTL_HOURS = env_int("LEDGER_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
LEDGER_INGEST_CHUNK_ROWS = env_int("LEDGER_INGEST_CHUNK_ROWS", 500, minimum=1)
LEDGER_CLASSIFY_CHUNK_ROWS = env_int("LEDGER_CLASSIFY_CHUNK_ROWS", 2000, minimum=1)
# A large import's classification starts while it is still being read: each time this many more rows are
# committed, a classify job for those rows is queued (a second worker takes it). 0: classify only at the end.
LEDGER_CLASSIFY_SEGMENT_ROWS = env_int("LEDGER_CLASSIFY_SEGMENT_ROWS", 20_000, minimum=0)
# Two opposite bank lines of the company's own accounts at most this many days apart may be one transfer.
LEDGER_TRANSFER_WINDOW_DAYS = env_int("LEDGER_TRANSFER_WINDOW_DAYS", 3, minimum=0)
# The books keep one currency: the reports name it and the journal exports (hledger, beancount) write it as the
# commodity of every amount. An ISO 4217 code, as both tools accept it without quoting.
LEDGER_CURRENCY = env_str("LEDGER_CURRENCY", "USD")
if not (len(LEDGER_CURRENCY) == 3 and LEDGER_CURRENCY.isascii() and LEDGER_CURRENCY.isalpha()
        and LEDGER_CURRENCY.isupper()):
    raise ImproperlyConfigured(
        f"LEDGER_CURRENCY={LEDGER_CURRENCY!r} is not a currency code: use 3 capital letters, e.g. USD."
    )

# ML: model artifacts (joblib, verified by sha256 on load) and what training reads.
LEDGER_MODELS_DIR = Path(env_str("LEDGER_MODELS_DIR", str(VAR_DIR / "models")))
ML_TRAINING_MAX_ROWS = env_int("ML_TRAINING_MAX_ROWS", 200_000, minimum=100)  # most recent confirmed rows
ML_MIN_TRAINING_ROWS = env_int("ML_MIN_TRAINING_ROWS", 50, minimum=10)
# Drift: a model is flagged when, over the window, its live automation rate falls this far below the held-out
# coverage (with at least MIN_DECISIONS decisions), or reviewers' agreement this far below held-out precision
# (with at least MIN_REVIEWED reviewed answers).
ML_DRIFT_WINDOW_DAYS = env_int("ML_DRIFT_WINDOW_DAYS", 30, minimum=1)
ML_DRIFT_MIN_DECISIONS = env_int("ML_DRIFT_MIN_DECISIONS", 200, minimum=1)
ML_DRIFT_MIN_REVIEWED = env_int("ML_DRIFT_MIN_REVIEWED", 50, minimum=1)
ML_DRIFT_AUTOMATION_DROP = env_probability("ML_DRIFT_AUTOMATION_DROP", "0.10")
ML_DRIFT_AGREEMENT_DROP = env_probability("ML_DRIFT_AGREEMENT_DROP", "0.05")

# Rules: promotion proposes a rule for a vendor with at least this many confirmed transactions in the lookback
# window, at least this share of them in one account; a rejected proposal comes back only when its support
# has grown by the growth share (or its majority account changed). An active rule is flagged for review once
# it has this many corrections and its observed precision is below the promotion bar.
RULE_PROMOTION_MIN_SUPPORT = env_int("RULE_PROMOTION_MIN_SUPPORT", 20, minimum=1)
RULE_PROMOTION_MIN_PRECISION = env_probability("RULE_PROMOTION_MIN_PRECISION", "0.95")
RULE_PROMOTION_LOOKBACK_DAYS = env_int("RULE_PROMOTION_LOOKBACK_DAYS", 90, minimum=1)
RULE_PROMOTION_REPROPOSE_GROWTH = env_probability("RULE_PROMOTION_REPROPOSE_GROWTH", "0.5")  # +50 % support
RULE_FLAG_MIN_CORRECTIONS = env_int("RULE_FLAG_MIN_CORRECTIONS", 3, minimum=1)
RULE_TEST_MAX_TRANSACTIONS = env_int("RULE_TEST_MAX_TRANSACTIONS", 200_000, minimum=1)

# --- Observability: /metrics, logs, /healthz and /readyz (README: "Metrics, logs and health") --------------
# /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>` when a token is set; without one, only to
# REMOTE_ADDR in METRICS_ALLOWED_IPS (addresses or networks). Never through the session login.
METRICS_TOKEN = env_secret("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as error:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {error}; use addresses or networks (10.0.0.0/8).") from None
# Gauges read from the database and the broker are computed at most once per this many seconds (shared cache).
METRICS_CACHE_SECONDS = env_int("METRICS_CACHE_SECONDS", 15, minimum=0)
# Counters and histograms of every process on this host (web and worker) live as files in this folder, so the
# web's /metrics adds up what the workers counted. prometheus-client reads the variable when it is first
# imported, so it is exported here, before anything imports it (ledger_site/metrics.py loads settings first).
PROMETHEUS_MULTIPROC_DIR = Path(env_str("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "metrics")))
try:
    PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
except OSError as error:
    raise ImproperlyConfigured(f"PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR}: {error}") from None
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
# A worker on a host without a web process serves its own counters on this port (0: off); see README.
LEDGER_WORKER_METRICS_PORT = env_int("LEDGER_WORKER_METRICS_PORT", 0, minimum=0)
LEDGER_WORKER_METRICS_ADDRESS = env_str("LEDGER_WORKER_METRICS_ADDRESS", "127.0.0.1")

# Every line logged while a job runs carries its job id and company (ledger_site/logs.py); LOG_FORMAT=json
# writes one JSON object per line for log shippers, text (the default) is for people.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not a log format; use text or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"job_context": {"()": "ledger_site.logs.JobContextFilter"}},
    "formatters": {
        "text": {"()": "ledger_site.logs.TextFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "ledger_site.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["job_context"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
