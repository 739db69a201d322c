"""Backoffice settings: one module, every deploy knob read from the environment.

With no environment at all this is the *embedded default*: SQLite in ``var/``, local-memory
cache, Celery tasks run in-process after commit, media under ``var/media/``. Setting
``DATABASE_URL`` and ``REDIS_URL`` switches to *services mode* (PostgreSQL, Redis cache,
Redis broker, real workers). README.md lists every variable.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env.str("BACKOFFICE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Core -----------------------------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-embedded-default-never-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
else:
    # A production process must never start on a guessable key or accept any Host header.
    if not env.str("SECRET_KEY", default=""):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DJANGO_DEBUG is off. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if not env.list("ALLOWED_HOSTS", default=[]):
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must be set when DJANGO_DEBUG is off, e.g. ALLOWED_HOSTS=backoffice.example.com"
        )
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Shown in the admin header so nobody mistakes staging for production.
BACKOFFICE_ENVIRONMENT = env.str("BACKOFFICE_ENVIRONMENT", default="development" if DEBUG else "production")

INSTALLED_APPS = [
    # runserver serves static files through WhiteNoise like production, not through Django's
    # static handler (which answered an encoded ".." with a 500).
    "whitenoise.runserver_nostatic",
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.inlines",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "simple_history",
    "import_export",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "axes",
    "backoffice",
    "backoffice.api",
    "media_pipeline",
    "catalog",
    "orders",
    "channels",
    "backoffice.live",
    "backoffice.webhooks",
]

MIDDLEWARE = [
    # Outermost, so static files, redirects and error pages get the headers too.
    "backoffice.middleware.SecurityHeadersMiddleware",
    # /api/: Request-Id on every response, 413 before a body is read, Django errors as problem+json.
    "backoffice.api.middleware.ApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backoffice.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a lockout into the login page saying why (backoffice.login).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"
ASGI_APPLICATION = "backoffice.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backoffice" / "templates"],
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

# --- Database -------------------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once (web + worker); IMMEDIATE transactions plus a
    # busy timeout turn "database is locked" into a short wait.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# PostgreSQL statement_timeout per kind of process (milliseconds, 0 = none): a web request never
# holds a query longer than a few seconds, whatever its filters; Celery jobs and management
# commands (migrations, seeding, benchmarks) get their own limit.
DATABASE_STATEMENT_TIMEOUT_MS = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=5000)
DATABASE_JOB_STATEMENT_TIMEOUT_MS = env.int("DATABASE_JOB_STATEMENT_TIMEOUT_MS", default=10 * 60 * 1000)
DATABASE_COMMAND_STATEMENT_TIMEOUT_MS = env.int("DATABASE_COMMAND_STATEMENT_TIMEOUT_MS", default=0)


def process_kind(argv: list[str]) -> str:
    """``web``, ``worker`` or ``command``, from how this process was started."""
    import os

    program = os.path.basename(argv[0]) if argv else ""
    if program.startswith("celery") or (len(argv) > 1 and argv[1] in ("worker", "beat") and "celery" in argv[0]):
        return "worker"
    if program in ("manage.py", "django-admin", "__main__.py") and len(argv) > 1:
        return "web" if argv[1] in ("runserver", "runserver_plus") else "command"
    if "pytest" in program or "py.test" in program:
        return "command"  # test runs set their own; tests of the web limit use statement_timeout_options()
    return "web"  # gunicorn, uvicorn, daphne, ASGI/WSGI servers


def statement_timeout_options(kind: str) -> str:
    timeout = {
        "web": DATABASE_STATEMENT_TIMEOUT_MS,
        "worker": DATABASE_JOB_STATEMENT_TIMEOUT_MS,
        "command": DATABASE_COMMAND_STATEMENT_TIMEOUT_MS,
    }[kind]
    return f"-c statement_timeout={int(timeout)}"


if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    import sys

    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} {statement_timeout_options(process_kind(sys.argv))}".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, locks, broker -------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        # Pages keep working when Redis is down: a cache miss is slower, never an error.
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bo",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        },
        # Locks, throttles and idempotency keys must fail closed: an error here is raised.
        "locks": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bo-locks",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": False,
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        },
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
        "locks": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "locks"},
    }

# --- Celery ---------------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# No broker configured: the embedded default runs tasks in-process (still dispatched after commit).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="backoffice")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
# A message not acked within this window is handed to another worker, so it must outlast the
# longest task; jobs record per-item state, so a redelivery never processes an item twice.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600)
if CELERY_BROKER_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_BROKER_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT, "
        "or running tasks would be delivered twice."
    )
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
    # Check for unacked messages of dead workers more often than kombu's default.
    "unacked_restore_interval": min(10, max(1, CELERY_BROKER_VISIBILITY_TIMEOUT // 4)),
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that dispatches a job must not hang when the broker is down: fail fast, mark the job.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "expire-job-result-files": {
        "task": "backoffice.expire_job_result_files",
        "schedule": 60 * 60,
    },
    "requeue-stalled-jobs": {
        "task": "backoffice.requeue_stalled_jobs",
        "schedule": 5 * 60,
    },
}

# --- Jobs -----------------------------------------------------------------------------------

JOB_MAX_ERRORS = env.int("JOB_MAX_ERRORS", default=100)
JOB_RESULT_RETENTION_DAYS = env.int("JOB_RESULT_RETENTION_DAYS", default=7)
# A queued/running job with pending items and no progress for this long is dispatched again.
JOB_STALLED_AFTER_SECONDS = env.int("JOB_STALLED_AFTER_SECONDS", default=CELERY_BROKER_VISIBILITY_TIMEOUT + 300)

# --- Import and export (backoffice.imports, backoffice.exports) -------------------------------

# An upload larger than this is refused before it is parsed; rows are counted while streaming and
# the count stops (refusing the file) past IMPORT_MAX_ROWS.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_000_000)
# Above this many rows the preview (validation) and the apply run as Jobs; at or below, in the request.
IMPORT_JOB_THRESHOLD = env.int("IMPORT_JOB_THRESHOLD", default=5_000)
# Above this many rows an export runs as a Job that streams into a file offered on the Job page.
EXPORT_JOB_THRESHOLD = env.int("EXPORT_JOB_THRESHOLD", default=5_000)
# Export files (they hold customer and pricing data) are deleted this long after their Job finished,
# sooner than other Job result files (JOB_RESULT_RETENTION_DAYS).
EXPORT_FILE_RETENTION_HOURS = env.int("EXPORT_FILE_RETENTION_HOURS", default=24)
# Uploaded import files are deleted once imported, and (by the beat task below) this long after their
# batch last changed when never imported; the preview and the failed-rows file need them until then.
IMPORT_FILE_RETENTION_HOURS = env.int("IMPORT_FILE_RETENTION_HOURS", default=72)

# --- Auth, sessions, security ---------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The admin is the application: logging in without ?next= lands on the dashboard.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
LOGOUT_REDIRECT_URL = "admin:login"

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Idle lifetime: a session unused this long is ended. Absolute lifetime: ended this long after
# login whatever the activity. Both enforced by backoffice.middleware.SessionLifetimeMiddleware.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=2 * 60 * 60)
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME", default=12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Sent on every response by backoffice.middleware.SecurityHeadersMiddleware: the back office uses
# none of these browser features.
PERMISSIONS_POLICY = env.str(
    "PERMISSIONS_POLICY",
    default=(
        "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
        "magnetometer=(), microphone=(), midi=(), payment=(), publickey-credentials-get=(), usb=(), "
        "xr-spatial-tracking=()"
    ),
)
# /healthz shows details (environment, backends, timings) only to staff or to a caller sending
# "Authorization: Bearer <HEALTHZ_TOKEN>"; empty means no token is accepted.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")

# Admin searches (changelist ?q=, autocomplete, sidebar) longer than this are refused with a
# message: the database builds one condition per word and field.
ADMIN_SEARCH_MAX_CHARS = env.int("ADMIN_SEARCH_MAX_CHARS", default=200)
ADMIN_SEARCH_MAX_WORDS = env.int("ADMIN_SEARCH_MAX_WORDS", default=20)
ADMIN_SIDEBAR_SEARCH_MAX_PER_MODEL = env.int("ADMIN_SIDEBAR_SEARCH_MAX_PER_MODEL", default=25)

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The admin needs: its own scripts (Alpine evaluates expressions, hence 'unsafe-eval'), inline
# style attributes, data: images and fonts. Nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}


# --- History --------------------------------------------------------------------------------

SIMPLE_HISTORY_ENFORCE_HISTORY_MODEL_PERMISSIONS = True
SIMPLE_HISTORY_REVERT_DISABLED = False
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- API ------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
    # The integration API (backoffice/api/): problem+json errors and the OpenAPI schema.
    "EXCEPTION_HANDLER": "backoffice.api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "backoffice.api.schema.ApiAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# HMAC key of integration key hashes, kept out of the database (empty: SECRET_KEY). Changing it
# invalidates every key.
API_KEY_PEPPER = env.str("API_KEY_PEPPER", default="")
API_RATE_LIMIT_WINDOW_SECONDS = env.int("API_RATE_LIMIT_WINDOW_SECONDS", default=60)
API_RATE_LIMIT_PER_KEY = env.int("API_RATE_LIMIT_PER_KEY", default=1200)
API_RATE_LIMIT_PER_IP = env.int("API_RATE_LIMIT_PER_IP", default=120)
# Proxies in front of the app that append to X-Forwarded-For; 0: the per-IP limit uses REMOTE_ADDR only
# (a client cannot dodge it by sending its own X-Forwarded-For).
API_TRUSTED_PROXY_COUNT = env.int("API_TRUSTED_PROXY_COUNT", default=0)
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2 * 1000 * 1000)
API_IDEMPOTENCY_TTL_SECONDS = env.int("API_IDEMPOTENCY_TTL_SECONDS", default=24 * 60 * 60)
# An Idempotency-Key still "in progress" after this long belongs to a request that died; it may be reused.
API_IDEMPOTENCY_LOCK_SECONDS = env.int("API_IDEMPOTENCY_LOCK_SECONDS", default=5 * 60)
CELERY_BEAT_SCHEDULE["api-prune-idempotency-records"] = {"task": "api.prune_idempotency_records", "schedule": 60 * 60}
CELERY_BEAT_SCHEDULE["imports-prune-uploads"] = {"task": "imports.prune_uploads", "schedule": 60 * 60}

SPECTACULAR_SETTINGS = {
    "TITLE": "Backoffice integration API",
    "DESCRIPTION": (
        "Products, stock, orders and customers for shop fronts, ERPs, warehouses and marketplaces. "
        "Authenticate with an integration key: `Authorization: Bearer bo_<prefix>_<secret>`. "
        "Errors are RFC 9457 problems (application/problem+json). Every POST accepts an Idempotency-Key."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ProductStatusEnum": "catalog.choices.ProductStatus",
        "StockReasonEnum": "catalog.choices.StockReason",
        "OrderStatusEnum": "orders.choices.OrderStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backoffice.api.schema.add_problem_responses",
    ],
}

# --- I18n -----------------------------------------------------------------------------------

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("de", _("German")), ("fr", _("French")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "backoffice" / "static"]
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Demo and development serve /media/ from Django; production serves it from the web server or
# an object store (see README).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)

# S3-compatible object storage (AWS, MinIO, Ceph, R2, ...) for media when MEDIA_S3_BUCKET is set.
# Private by default: the admin's image URLs are signed and expire.
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
if MEDIA_S3_BUCKET:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("MEDIA_S3_REGION", default="") or None,
            "access_key": env.str("MEDIA_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("MEDIA_S3_SECRET_ACCESS_KEY", default="") or None,
            "custom_domain": env.str("MEDIA_S3_CUSTOM_DOMAIN", default="") or None,
            "querystring_auth": env.bool("MEDIA_S3_SIGNED_URLS", default=True),
            "querystring_expire": env.int("MEDIA_S3_SIGNED_URL_SECONDS", default=3600),
            "file_overwrite": True,  # paths are content-addressed or per asset: same name, same bytes
            "default_acl": None,
        },
    }
else:
    _media_storage = {"BACKEND": env.str("DEFAULT_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage")}

STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}


def _media_origins() -> list[str]:
    """Where the admin loads image previews from, when that is not this site."""
    from urllib.parse import urlsplit

    candidates = [MEDIA_URL]
    if MEDIA_S3_BUCKET:
        options = STORAGES["default"]["OPTIONS"]
        if options["custom_domain"]:
            candidates.append(f"https://{options['custom_domain']}/")
        else:
            endpoint = options["endpoint_url"] or f"https://{MEDIA_S3_BUCKET}.s3.amazonaws.com"
            candidates.append(endpoint)
    origins = []
    for url in candidates:
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] += _media_origins()

# --- Email ----------------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="backoffice@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Admin (Unfold) -------------------------------------------------------------------------


def _favicon_url() -> str:
    # Through the static storage: its manifest gives the file a hashed name in production.
    from django.templatetags.static import static

    return static("backoffice/favicon.svg")


UNFOLD = {
    "SITE_TITLE": _("Backoffice"),
    "SITE_HEADER": _("Backoffice"),
    "SITE_SUBHEADER": _("Catalogue and orders"),
    "SITE_SYMBOL": "storefront",
    "SITE_URL": None,
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_LANGUAGES": True,
    "SHOW_BACK_BUTTON": True,
    "ENVIRONMENT": "backoffice.admin_shell.environment_callback",
    "ENVIRONMENT_TITLE_PREFIX": "backoffice.admin_shell.environment_title_prefix",
    "DASHBOARD_CALLBACK": "backoffice.dashboard.dashboard_callback",
    "SITE_FAVICONS": [{"rel": "icon", "type": "image/svg+xml", "href": lambda request: _favicon_url()}],
    "STYLES": [],
    "SCRIPTS": [],
    "COLORS": {
        "primary": {
            "50": "oklch(97.7% .014 254.604)",
            "100": "oklch(93.2% .032 255.585)",
            "200": "oklch(88.2% .059 254.128)",
            "300": "oklch(80.9% .105 251.813)",
            "400": "oklch(70.7% .165 254.624)",
            "500": "oklch(62.3% .214 259.815)",
            "600": "oklch(54.6% .245 262.881)",
            "700": "oklch(48.8% .243 264.376)",
            "800": "oklch(42.4% .199 265.638)",
            "900": "oklch(37.9% .146 265.522)",
            "950": "oklch(28.2% .091 267.935)",
        },
    },
    "COMMAND": {"search_models": True, "show_history": True},
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "backoffice.navigation.sidebar_navigation",
    },
}

# --- Media pipeline -------------------------------------------------------------------------

MEDIA_MAX_UPLOAD_BYTES = env.int("MEDIA_MAX_UPLOAD_BYTES", default=25 * 1000 * 1000)
MEDIA_MAX_PIXELS = env.int("MEDIA_MAX_PIXELS", default=50 * 1000 * 1000)
MEDIA_ENCODE_THREADS = env.int("MEDIA_ENCODE_THREADS", default=2)
# None: the defaults in media_pipeline/specs.py
MEDIA_VARIANT_SPECS = None
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1000 * 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1000 * 1000

# --- Orders ---------------------------------------------------------------------------------

# Tax on (subtotal - discount + shipping), rounded to the cent.
ORDER_TAX_RATE = env.str("ORDER_TAX_RATE", default="0.19")

# --- API request log ------------------------------------------------------------------------

# Every /api/ answer as an ApiRequest row (key, method, path, status, latency, idempotency key, Request-Id;
# never a body), buffered in the process and written in bulk off the request path (backoffice.api.request_log).
API_REQUEST_LOG_ENABLED = env.bool("API_REQUEST_LOG_ENABLED", default=True)
API_REQUEST_LOG_RETENTION_DAYS = env.int("API_REQUEST_LOG_RETENTION_DAYS", default=30)
# A flush when this many rows wait, or this many seconds after the last one, whichever comes first.
API_REQUEST_LOG_BATCH_SIZE = env.int("API_REQUEST_LOG_BATCH_SIZE", default=500)
API_REQUEST_LOG_FLUSH_SECONDS = env.float("API_REQUEST_LOG_FLUSH_SECONDS", default=2.0)
# Rows a process keeps while the database cannot take them; beyond, the oldest are dropped (and counted).
API_REQUEST_LOG_BUFFER_MAX = env.int("API_REQUEST_LOG_BUFFER_MAX", default=20_000)
# A writer thread per serving process; off, the request that finds a batch due writes it after its response.
API_REQUEST_LOG_BACKGROUND = env.bool("API_REQUEST_LOG_BACKGROUND", default=True)
# A found integration key is kept this long in each process (a query saved per request); a revoked or changed
# key is forgotten at once in the process that changes it and within this time in the others. 0: no cache.
API_KEY_CACHE_SECONDS = env.float("API_KEY_CACHE_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE["api-prune-request-log"] = {"task": "api.prune_request_log", "schedule": 60 * 60}

# --- Live (Channels) --------------------------------------------------------------------------
# WebSocket push to the admin (backoffice.live, served at /ws/live/ by backoffice.asgi under uvicorn).
# With Redis: the pub/sub layer. A group message is one PUBLISH that every web process subscribed to
# the group fans out to its own sockets; group membership lives in the process (no per-group sorted
# set to expire, no per-socket Redis list), and sync code publishes with one reused client
# (backoffice.live.publisher). Without Redis (embedded default): the in-memory layer, one process.
LIVE_REDIS_URL = env.str("LIVE_REDIS_URL", default=REDIS_URL)
LIVE_CHANNEL_PREFIX = env.str("LIVE_CHANNEL_PREFIX", default="bo-live")
if LIVE_REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [LIVE_REDIS_URL], "prefix": LIVE_CHANNEL_PREFIX},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# A socket re-reads its session this often: closed once the session ended, groups re-joined from
# the person's current permissions.
LIVE_RECHECK_SECONDS = env.int("LIVE_RECHECK_SECONDS", default=60)
# Job progress events: at most one per job in this many seconds (the final state always goes).
LIVE_JOB_PROGRESS_INTERVAL = env.float("LIVE_JOB_PROGRESS_INTERVAL", default=0.5)
# Sidebar badges are recounted this often by beat and pushed when they changed.
LIVE_BADGES_INTERVAL = env.int("LIVE_BADGES_INTERVAL", default=15)
# How long the sidebar reuses a badge count before counting again.
BADGE_CACHE_SECONDS = env.int("BADGE_CACHE_SECONDS", default=10)
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=30)
CELERY_BEAT_SCHEDULE["live-push-badges"] = {"task": "live.push_badges", "schedule": LIVE_BADGES_INTERVAL}
CELERY_BEAT_SCHEDULE["live-prune-notifications"] = {"task": "live.prune_notifications", "schedule": 60 * 60}
UNFOLD["SCRIPTS"].append("backoffice.live.views.script_url")
# The page's socket: same host, ws:// or wss://. CSP 'self' does not cover ws: in every browser. CSP
# host sources cannot name IPv6 literals ([::1]) or patterns: those rely on 'self'.
CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"] += [
    f"{scheme}://{host}:*"
    for host in ALLOWED_HOSTS
    if host != "*" and not host.startswith((".", "["))
    for scheme in (("ws", "wss") if DEBUG else ("wss",))  # production pages are HTTPS: wss only
]


# --- Dashboard ------------------------------------------------------------------------------

# How long the dashboard's figures are reused (seconds): per section and day, the same for every viewer.
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=60)


# --- Webhooks -------------------------------------------------------------------------------
# Signed webhooks from a transactional outbox (backoffice.webhooks): services write event rows in their
# transaction; payloads are frozen after commit; Celery sends one delivery per endpoint and event.
# http:// endpoint URLs only while developing; private, loopback and link-local addresses only when allowed
# (a receiver on this machine or the office network, in development and tests).
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
# Absolute URLs inside payloads (image variants) start with this.
WEBHOOK_SITE_URL = env.str("WEBHOOK_SITE_URL", default="http://localhost:8000")
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_TOTAL_TIMEOUT = env.float("WEBHOOK_TOTAL_TIMEOUT", default=10.0)
WEBHOOK_MAX_RESPONSE_BYTES = env.int("WEBHOOK_MAX_RESPONSE_BYTES", default=64 * 1024)
WEBHOOK_RESPONSE_EXCERPT_BYTES = 1024
# Seconds between tries after each failed one (±20% jitter): 5 s ... 8 h, about 24 hours in all; then failed.
WEBHOOK_RETRY_DELAYS = [5, 60, 300, 1800, 7200, 18000, 28800, 28800]
# Failed deliveries (retries spent) in a row before an endpoint is disabled.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=5)
# After a rotation the previous secret signs too for this long.
WEBHOOK_SECRET_OVERLAP_HOURS = env.int("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)
WEBHOOK_SUBSCRIPTION_CACHE_SECONDS = env.int("WEBHOOK_SUBSCRIPTION_CACHE_SECONDS", default=10)
WEBHOOK_INSERT_BATCH = 2000
WEBHOOK_FREEZE_INLINE = 200  # frozen right after the writer's commit; more wait for the kick or the sweep
WEBHOOK_FREEZE_BATCH = 500
WEBHOOK_SWEEP_BATCH = env.int("WEBHOOK_SWEEP_BATCH", default=100)
WEBHOOK_SEND_CONCURRENCY = env.int("WEBHOOK_SEND_CONCURRENCY", default=8)
# A claimed delivery whose worker died is retried after this; longer than a batch's worst-case sending time.
WEBHOOK_CLAIM_LEASE_SECONDS = env.int("WEBHOOK_CLAIM_LEASE_SECONDS", default=300)
WEBHOOK_SWEEP_SECONDS = env.int("WEBHOOK_SWEEP_SECONDS", default=10)
WEBHOOK_SWEEP_BUDGET_SECONDS = env.float("WEBHOOK_SWEEP_BUDGET_SECONDS", default=8.0)
WEBHOOK_KICK_BUDGET_SECONDS = env.float("WEBHOOK_KICK_BUDGET_SECONDS", default=8.0)
WEBHOOK_ATTEMPT_RETENTION_DAYS = env.int("WEBHOOK_ATTEMPT_RETENTION_DAYS", default=30)
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {"task": "webhooks.sweep", "schedule": WEBHOOK_SWEEP_SECONDS}
CELERY_BEAT_SCHEDULE["webhooks-prune"] = {"task": "webhooks.prune", "schedule": 60 * 60}

# --- Roles and login protection -------------------------------------------------------------
# Roles are groups created by `manage.py setup_roles` (backoffice/roles.py). Failed admin logins are
# counted by django-axes in the database and lock out a username from one address together (an office
# behind one NAT address is never locked out as a whole); backoffice/login.py holds the hooks.

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username and address before any check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("LOGIN_LOCKOUT_ENABLED", default=True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
# Minutes a lockout lasts; 0 keeps it until an administrator unlocks it (Login attempts in the admin).
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AXES_COOLOFF_TIME = LOGIN_LOCKOUT_MINUTES / 60 if LOGIN_LOCKOUT_MINUTES else None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "backoffice.login.lockout_response"
AXES_CLIENT_IP_CALLABLE = "backoffice.login.client_ip"
AXES_USERNAME_CALLABLE = "backoffice.login.username_for_axes"
AXES_HTTP_RESPONSE_CODE = 429
AXES_ENABLE_ADMIN = False  # the Unfold admins of backoffice/login_admin.py instead
AXES_SENSITIVE_PARAMETERS = ["password", "username", "ip_address"]
# Proxies in front of the app that each append the address they saw to TRUSTED_PROXY_HEADER. 0: the client
# address is REMOTE_ADDR and the header is ignored (a client cannot choose its address by sending one).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=API_TRUSTED_PROXY_COUNT)
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="X-Forwarded-For")


# --- Queues -----------------------------------------------------------------------------------
# Image rendering (the variants of every upload, "Regenerate variants" and "Regenerate product images" jobs)
# can run on a queue of its own, so a batch of photos neither waits behind nor delays bulk edits, imports and
# emails. Set CELERY_MEDIA_QUEUE=media and run a worker with `-Q media` as well as one for the default queue:
# a queue nobody consumes is work that never runs. Empty (the default): everything on CELERY_TASK_DEFAULT_QUEUE.
CELERY_MEDIA_QUEUE = env.str("CELERY_MEDIA_QUEUE", default="")
CELERY_TASK_ROUTES = {
    name: {"queue": CELERY_MEDIA_QUEUE}
    for name in ("media_pipeline.*", "jobs.media_pipeline.*", "jobs.catalog.regenerate_images")
    if CELERY_MEDIA_QUEUE
}
