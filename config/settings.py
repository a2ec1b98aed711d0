"""Every setting comes from the environment; the defaults are a safe local development setup.

Production is switched on explicitly with ``DJANGO_ENV=production``. It refuses to start
without a real ``SECRET_KEY`` and ``FIELD_ENCRYPTION_KEY``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on", "y"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DJANGO_ENV = env_str("DJANGO_ENV", "development").strip().lower()
PRODUCTION = DJANGO_ENV == "production"

DEV_SECRET_KEY = "dev-insecure-secret-key-only-for-local-development-0123456789"
# 32 bytes, base64: the development key. Production must set its own.
DEV_FIELD_ENCRYPTION_KEY = "ZGV2LWZpZWxkLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24="

SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else DEV_SECRET_KEY)
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "" if PRODUCTION else DEV_FIELD_ENCRYPTION_KEY)
# Key rotation: FIELD_ENCRYPTION_KEYS="new,old" (the first encrypts, all decrypt). Unset: the
# one-key form FIELD_ENCRYPTION_KEY. FIELD_HASH_KEYS likewise for the ID numbers' lookup hash
# (the first hashes, all are tried by lookups); unset, it follows the encryption keys.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", []) or ([FIELD_ENCRYPTION_KEY] if FIELD_ENCRYPTION_KEY else [])
FIELD_HASH_KEYS = env_list("FIELD_HASH_KEYS", []) or FIELD_ENCRYPTION_KEYS
if os.environ.get("FIELD_ENCRYPTION_KEYS", "").strip():
    FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEYS[0]
DEBUG = env_bool("DEBUG", not PRODUCTION)

if PRODUCTION:
    if not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("生产模式必须设置真实的 SECRET_KEY（至少 50 个字符）。")
    if not FIELD_ENCRYPTION_KEYS or DEV_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS + FIELD_HASH_KEYS:
        raise ImproperlyConfigured("生产模式必须设置真实的 FIELD_ENCRYPTION_KEY。")
    if DEBUG:
        raise ImproperlyConfigured("生产模式不能开启 DEBUG。")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sheets",
    "audit",
    "roster",
    "access",
    "exams",
    "training",
    "reports",
    "records",
    "ops",  # --- operations: readiness, metrics, backups
    "api",  # --- REST API (api app)
    "scim",  # --- SCIM 2.0 provisioning (/scim/v2/)
    "web",  # --- web pages (web app)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.logs.RequestIdMiddleware",  # X-Request-ID in, out, into the logs and the tasks
    "config.metrics.MetricsMiddleware",  # /metrics: requests by view, method, status; latency
    "api.middleware.SecurityHeadersMiddleware",  # --- REST API: CSP, no-store on personal data
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.text.ControlCharsOutMiddleware",  # stored control characters never reach a page
]

ROOT_URLCONF = "config.urls"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes a write transaction take SQLite's write lock at BEGIN, so two syncs
    # queue up instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# Timeouts (PostgreSQL): a session idle inside a transaction (a hung lock holder) is ended
# after DB_IDLE_IN_TRANSACTION_TIMEOUT_MS, in every process; web requests also bound their lock
# waits and statements (config/dbtimeouts.py, installed by config/wsgi.py).
DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = env_int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000)
DB_WEB_LOCK_TIMEOUT_MS = env_int("DB_WEB_LOCK_TIMEOUT_MS", 5_000)
DB_WEB_STATEMENT_TIMEOUT_MS = env_int("DB_WEB_STATEMENT_TIMEOUT_MS", 60_000)
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options["options"] = (
        f"{_pg_options.get('options', '')} -c idle_in_transaction_session_timeout={DB_IDLE_IN_TRANSACTION_TIMEOUT_MS}"
    ).strip()

# Optional read replica (a streaming-replication standby of the same database): the read-only
# selectors of figures, lists and reports read from it; writes, jobs and anything read after a
# write stay on the primary (config/dbrouter.py, docs/operations.md#read-replica). Unset: one
# database, as before.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
    if DATABASES["replica"]["ENGINE"].startswith("django.db.backends.postgresql"):
        DATABASES["replica"].setdefault("OPTIONS", {})["options"] = (
            f"-c idle_in_transaction_session_timeout={DB_IDLE_IN_TRANSACTION_TIMEOUT_MS}")
    # the tests read the replica from the test database itself
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["config.dbrouter.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# Uploaded files hold personal data: kept in the database (default), so that a worker on any
# machine runs the import the web server received, or under PRIVATE_UPLOAD_ROOT on one machine.
UPLOAD_STORAGE = env_str("UPLOAD_STORAGE", "database")
if UPLOAD_STORAGE not in {"database", "filesystem"}:
    raise ImproperlyConfigured("UPLOAD_STORAGE 应为 database 或 filesystem。")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private_uploads": (
        {"BACKEND": "sheets.storage.DatabaseStorage"}
        if UPLOAD_STORAGE == "database"
        else {"BACKEND": "django.core.files.storage.FileSystemStorage",
              "OPTIONS": {"location": env_str("PRIVATE_UPLOAD_ROOT", str(BASE_DIR / "var" / "uploads"))}}
    ),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded files hold personal data: they live outside any served folder and are removed
# once their import has finished.
PRIVATE_UPLOAD_ROOT = Path(env_str("PRIVATE_UPLOAD_ROOT", str(BASE_DIR / "var" / "uploads")))
MEDIA_ROOT = PRIVATE_UPLOAD_ROOT
MEDIA_URL = "/private-media/"

# --- spreadsheets -----------------------------------------------------------------------
SHEETS_MAX_BYTES = env_int("SHEETS_MAX_BYTES", 50 * 1024 * 1024)
SHEETS_MAX_ROWS = env_int("SHEETS_MAX_ROWS", 500_000)
# Uncompressed size allowed inside an XLSX, and the compression ratio above which a member is
# treated as a zip bomb.
SHEETS_MAX_UNCOMPRESSED_BYTES = env_int("SHEETS_MAX_UNCOMPRESSED_BYTES", 600 * 1024 * 1024)
SHEETS_MAX_COMPRESSION_RATIO = env_int("SHEETS_MAX_COMPRESSION_RATIO", 200)

# --- roster -----------------------------------------------------------------------------
ROSTER_DROP_DIR = env_str("ROSTER_DROP_DIR", "")
ROSTER_DROP_SCAN_SECONDS = env_int("ROSTER_DROP_SCAN_SECONDS", 60)
# files in the drop folder's processed/ and rejected/ are deleted after this many days
ROSTER_DROP_RETENTION_DAYS = env_int("ROSTER_DROP_RETENTION_DAYS", 30)
ROSTER_MASS_DEACTIVATION_RATIO = env_float("ROSTER_MASS_DEACTIVATION_RATIO", 0.10)
# --- SCIM (/scim/v2/): the most resources one list answers, and how long an hr user's leave
# to deactivate past the mass-deactivation guard lasts (scim_allow_deactivations)
SCIM_MAX_RESULTS = env_int("SCIM_MAX_RESULTS", 200)
SCIM_DEACTIVATION_ALLOWANCE_MINUTES = env_int("SCIM_DEACTIVATION_ALLOWANCE_MINUTES", 60)
# how long a sync or a staff write waits for the roster lock before answering "busy" (a job
# then retries with backoff; a request answers 503 with Retry-After)
ROSTER_LOCK_WAIT_SECONDS = env_float("ROSTER_LOCK_WAIT_SECONDS", 5)
ROSTER_LOCK_JOB_WAIT_SECONDS = env_float("ROSTER_LOCK_JOB_WAIT_SECONDS", 30)
# QR sign-in: the projected code changes every SIGNIN_ROTATE_SECONDS and is accepted for two
# periods; a form opened with a fresh code may be sent within SIGNIN_FORM_SECONDS
SIGNIN_ROTATE_SECONDS = env_int("SIGNIN_ROTATE_SECONDS", 30)
SIGNIN_FORM_SECONDS = env_int("SIGNIN_FORM_SECONDS", 600)

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# queues: imports, reports, reminders and the default one, each named CELERY_QUEUE_PREFIX + its
# name; which task goes where is config/queues.py (docs/operations.md#queues-and-workers)
CELERY_QUEUE_PREFIX = env_str("CELERY_QUEUE_PREFIX", "")
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", f"{CELERY_QUEUE_PREFIX}celery")
CELERY_TASK_ROUTES = ("config.queues.route_task",)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Longer than the longest task, so Redis does not hand a running task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 3600),
    "socket_connect_timeout": 2,
    "socket_timeout": 3,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's default publish retry waits far longer than a web request may; the records stay
# queued and a beat job re-dispatches them.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
# A running job renews its lease every JOB_HEARTBEAT_SECONDS (a heartbeat thread, and its
# progress updates); one left "running" past its lease is presumed dead and handed out again
# by the sweeper (every JOB_SWEEP_SECONDS). A few heartbeats long, so a kill is noticed fast.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 30)
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 10)
JOB_SWEEP_SECONDS = env_float("JOB_SWEEP_SECONDS", 15)
# transient database failures (a lost connection, a failover, a busy lock) are retried this
# many times, waiting JOB_RETRY_SECONDS, then twice that, and so on
JOB_DB_RETRIES = env_int("JOB_DB_RETRIES", 5)
JOB_RETRY_SECONDS = env_float("JOB_RETRY_SECONDS", 1)

# --- reports ----------------------------------------------------------------------------
# Changes to the figures are gathered for this long before the snapshots are recomputed
# (ten imports in a minute cause one recomputation). Eager Celery refreshes at once.
REPORTS_REFRESH_DEBOUNCE_SECONDS = env_int("REPORTS_REFRESH_DEBOUNCE_SECONDS", 60)
# the beat schedule's refresh of the snapshots of open exams and of this year's training
REPORTS_SNAPSHOT_SCHEDULE_SECONDS = env_int("REPORTS_SNAPSHOT_SCHEDULE_SECONDS", 3600)

# --- cache ------------------------------------------------------------------------------
REDIS_CACHE_URL = env_str("REDIS_CACHE_URL", "")
if REDIS_CACHE_URL:
    # degrades to "no cache" (a warning logged) while Redis is unreachable: config/cache.py
    CACHES = {"default": {
        "BACKEND": "config.cache.DegradingRedisCache", "LOCATION": REDIS_CACHE_URL,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- logging ----------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id, user_id,
# job_id); "plain" (default) keeps the text lines, with the request id.
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    # no ID number or phone reaches a log line, whatever an exception message carries
    "filters": {"redact": {"()": "config.redact.RedactPersonalData"}, "context": {"()": "config.logs.ContextFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own console handler (DEBUG only) would print a second, plain line: its records
    # go to the root handler instead
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}

# --- security for production ------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Behind a proxy that ends TLS (nginx) and always sets X-Forwarded-Proto itself: only then may
# the header say a request came over HTTPS. Left off, a client could claim HTTPS by sending it.
TRUST_X_FORWARDED_PROTO = env_bool("TRUST_X_FORWARDED_PROTO", False)
if TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- REST API (api app) -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ScopePermission"],
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.CleanJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiAnonRateThrottle", "api.throttling.ApiUserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
        "user": env_str("API_THROTTLE_USER", "600/min"),
        "uploads": env_str("API_THROTTLE_UPLOADS", "120/hour"),
        "scim": env_str("SCIM_THROTTLE", "600/min"),
    },
    # proxies in front of the app whose X-Forwarded-For may be trusted (0: use REMOTE_ADDR)
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "干部学法考试管理系统 API",
    "DESCRIPTION": "人员名册、单位、名册同步、考试、培训、统计与年度报告。所有数据按调用者的角色与单位范围过滤。",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # choice sets that share a field name ("kind", "status", "audience") get names of their own
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "roster.models.UnitKind",
        "ExamKindEnum": "exams.models.ExamKind",
        "TrainingKindEnum": "training.models.TrainingKind",
        "ImportKindEnum": "sheets.models.ImportKind",
        "ExamAudienceEnum": "exams.models.Audience",
        "TrainingAudienceEnum": "training.models.Audience",
        "JobStatusEnum": "config.jobs.JobStatus",
        "AttendanceStatusEnum": "training.models.AttendanceStatus",
    },
}
# Login: the 6th wrong password within the window for one account is refused; from one address
# (a whole office behind one NAT or proxy) the limit is its own, so one person's typos never
# lock out a colleague.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
# Request bodies: JSON writes, and uploads (a spreadsheet plus the form's fields).
API_JSON_MAX_BYTES = env_int("API_JSON_MAX_BYTES", 1024 * 1024)
API_UPLOAD_MAX_BYTES = env_int("API_UPLOAD_MAX_BYTES", SHEETS_MAX_BYTES + 64 * 1024)
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)
NO_STORE_PATH_PREFIXES = ["/api/v1/", "/scim/v2/"]
# An API token is refused (401) this many hours after it was issued; signing in again issues a new one.
API_TOKEN_TTL_HOURS = env_float("API_TOKEN_TTL_HOURS", 12)
# /api/schema/ and /api/docs/ for anyone (development), or only for a signed-in user (production).
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", not PRODUCTION)
# An open exam's figures and not-sat list check the roster for changes the roster's own
# refresh missed at most this often (per exam and process).
API_EXAM_REFRESH_SECONDS = env_int("API_EXAM_REFRESH_SECONDS", 10)
# An import into an exam that closed more than this many days ago carries a warning and an
# audit record (a past year's "stable" figures are about to change).
EXAM_LATE_IMPORT_DAYS = env_int("EXAM_LATE_IMPORT_DAYS", 90)
# --- end REST API -----------------------------------------------------------------------

# --- web pages (web app) -----------------------------------------------------------------
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
# a form without a good CSRF token: the site's own Chinese page (Django's advises DEBUG=True)
CSRF_FAILURE_VIEW = "web.views.errors.csrf_failure"
# --- end web pages ----------------------------------------------------------------------

CELERY_BEAT_SCHEDULE = {
    "roster-drop-dir-scan": {
        "task": "roster.tasks.scan_roster_drop_dir",
        "schedule": float(ROSTER_DROP_SCAN_SECONDS),
    },
    "jobs-redispatch-stale": {
        "task": "config.tasks.redispatch_stale_jobs",
        "schedule": JOB_SWEEP_SECONDS,
    },
    "reports-snapshots-refresh": {
        "task": "reports.tasks.refresh_snapshots_scheduled",
        "schedule": float(REPORTS_SNAPSHOT_SCHEDULE_SECONDS),
    },
    # --- web pages: files of web dry runs nobody confirmed within a day
    "web-discard-stale-dry-run-files": {
        "task": "web.tasks.discard_stale_dry_run_files",
        "schedule": 3600.0,
    },
}

# --- reminders (reminders app): email, group robots, the outbox, the schedule -------------
# (one block: the app, its enum names, email, its settings and its beat entries)
from celery.schedules import crontab  # noqa: E402

INSTALLED_APPS.insert(INSTALLED_APPS.index("api"), "reminders")
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update({
    "ReminderStatusEnum": "reminders.models.MessageStatus",
    "ReminderChannelEnum": "reminders.models.Channel",
})
# the address the messages' links start with (no trailing slash)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS 与 EMAIL_USE_SSL 只能设置其一。")
REMINDER_TIMEOUT_SECONDS = env_float("REMINDER_TIMEOUT_SECONDS", 10)
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", REMINDER_TIMEOUT_SECONDS)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "legaltrack@localhost")
# SMTP when a server is configured; the console in development. Production without EMAIL_HOST
# keeps SMTP, and the email channel reports every message failed ("未配置邮件服务器").
EMAIL_BACKEND = (
    "django.core.mail.backends.console.EmailBackend"
    if not EMAIL_HOST and not PRODUCTION
    else "django.core.mail.backends.smtp.EmailBackend"
)
REMINDER_INCLUDE_NAMES = env_bool("REMINDER_INCLUDE_NAMES", False)
REMINDER_MAX_ATTEMPTS = env_int("REMINDER_MAX_ATTEMPTS", 5)
REMINDER_TIME = env_str("REMINDER_TIME", "09:00")
REMINDER_WEEKDAY = env_int("REMINDER_WEEKDAY", 1)  # ISO: 1 is Monday
REMINDER_FINAL_DAYS = [int(day) for day in env_list("REMINDER_FINAL_DAYS", ["7", "3", "1"])]
# messages sent at once (threads), the first retry's delay (doubling each time) and its cap
REMINDER_CONCURRENCY = env_int("REMINDER_CONCURRENCY", 8)
REMINDER_RETRY_SECONDS = env_int("REMINDER_RETRY_SECONDS", 60)
REMINDER_RETRY_MAX_SECONDS = env_int("REMINDER_RETRY_MAX_SECONDS", 3600)
# added to a claim's lease beyond the batch's worst case of timeouts
REMINDER_CLAIM_MARGIN_SECONDS = env_int("REMINDER_CLAIM_MARGIN_SECONDS", 30)
_reminder_time = REMINDER_TIME.split(":")
if (len(_reminder_time) != 2 or not all(part.isdigit() for part in _reminder_time)
        or not (0 <= int(_reminder_time[0]) < 24 and 0 <= int(_reminder_time[1]) < 60) or not 1 <= REMINDER_WEEKDAY <= 7):
    raise ImproperlyConfigured("REMINDER_TIME 应为 HH:MM，REMINDER_WEEKDAY 应为 1（周一）到 7（周日）。")
_reminder_hour, _reminder_minute = int(_reminder_time[0]), int(_reminder_time[1])
CELERY_BEAT_SCHEDULE["reminders-send-due"] = {
    "task": "reminders.tasks.send_due_reminders",
    "schedule": crontab(hour=_reminder_hour, minute=_reminder_minute),  # CELERY_TIMEZONE: Asia/Shanghai
}
CELERY_BEAT_SCHEDULE["reminders-retry"] = {"task": "reminders.tasks.retry_reminders", "schedule": 60.0}
# --- end reminders ----------------------------------------------------------------------

# --- operations (ops app): readiness, heartbeats, metrics, logs, backups -----------------
# /readyz: a worker's heartbeat (per queue) and beat's last tick must be younger than this
READYZ_STALE_SECONDS = env_int("READYZ_STALE_SECONDS", 120)
# the queues that must have a live worker (default: all four, as config/queues.py names them)
READYZ_QUEUES = env_list("READYZ_QUEUES", [CELERY_TASK_DEFAULT_QUEUE] + [
    f"{CELERY_QUEUE_PREFIX}{queue}" for queue in ("imports", "reports", "reminders")])
# manage.py backup / restore (ops/backup.py): pg_dump and pg_restore of the server's major version
# are looked for here first, then in /usr/lib/postgresql/<major>/bin and PATH
PG_BIN_DIR = env_str("PG_BIN_DIR", "")
# /metrics: Authorization: Bearer <METRICS_TOKEN>; unset, open in development and 404 in production
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# a worker serves its task metrics on this port (its own registry); 0: not served
METRICS_WORKER_PORT = env_int("METRICS_WORKER_PORT", 0)
# how often each worker writes its heartbeat, and beat its tick
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 30)
CELERY_BEAT_SCHEDULER = "ops.beat:RecordingScheduler"
# --- end operations ---------------------------------------------------------------------

# --- certificates (issue 16: the register of enforcement certificates) ------------------
INSTALLED_APPS.insert(INSTALLED_APPS.index("api"), "certificates")
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update({
    "CertificateKindEnum": "certificates.models.CertificateKind",
    "CertificateStatusEnum": "certificates.models.CertificateStatus",
})
# a certificate is "due" when it expires within this many days; a renewal adds these years
CERT_RENEWAL_WINDOW_DAYS = env_int("CERT_RENEWAL_WINDOW_DAYS", 90)
CERT_RENEWAL_YEARS = env_int("CERT_RENEWAL_YEARS", 1)
if CERT_RENEWAL_WINDOW_DAYS < 0 or CERT_RENEWAL_YEARS < 1:
    raise ImproperlyConfigured("CERT_RENEWAL_WINDOW_DAYS 不能为负数，CERT_RENEWAL_YEARS 至少为 1。")
# --- end certificates -------------------------------------------------------------------
