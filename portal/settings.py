"""Settings, read from the environment (django-environ). Defaults suit a developer machine.

Production sets at least SECRET_KEY, DEBUG=false, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.
"""
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# Signs sessions, check-in codes and rating links: never a key written in the source outside a
# developer's DEBUG run. `make run` generates one under var/ (portal/launcher.py); tests set their own
# (portal/settings_test.py).
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random value "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'), or start with `make run`, "
            "which keeps a generated key in var/secret_key."
        )
    SECRET_KEY = "dev-only-insecure-key-for-debug-runs"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "csp",
    "portal",
    "members",
    "demands",
    "activities",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the database: where this request reads from (portal/dbrouting.py).
    "portal.dbrouting.ReplicaRoutingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "portal.middleware.RejectControlCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After HtmxMiddleware (it reads request.htmx): an expired session sends the page to the login.
    "portal.middleware.HtmxSignInMiddleware",
    # Stamps every audited change (pghistory) with the user and the URL.
    "pghistory.middleware.HistoryMiddleware",
    # Logs 403s and out-of-scope 404s (portal.AccessDenial) for the audit trail page.
    "portal.middleware.AccessDenialMiddleware",
    # Last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.portal",
            ],
        },
    },
    {
        # Parts of pages repeated thousands of times (portal/jinja.py), in jinja2/.
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "portal.jinja.environment", "trim_blocks": True, "lstrip_blocks": True},
    },
]

# PostgreSQL is the only engine: the scope layer, audit triggers and search rely on it.
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/portal")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction mode (docs/operations.md): a transaction may run on another server
# connection than the previous one, so no named (server-side) cursors, which live across them.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
# A hot standby of the primary for the heavy reads (portal/dbrouting.py); optional.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]
    # Tests read "the replica" from the test database itself.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["portal.dbrouting.PrimaryReplicaRouter"]
# After a write, the browser reads from the primary this long (read-your-writes, portal/dbrouting.py).
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=15)
# A task that must see what was just committed waits this long for the replica, then reads the primary.
DATABASE_REPLICA_WAIT_SECONDS = env.float("DATABASE_REPLICA_WAIT_SECONDS", default=5.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "portal.redis_cache.PortalRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
    }
}

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "portal.auth.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
# Sessions are read from Redis on every request and written through to the database, so a Redis
# restart logs nobody out (docs/performance.md: one query less per page).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
# HTTPS=true: the portal is served over HTTPS (behind a proxy that sets X-Forwarded-Proto): HSTS,
# redirect to HTTPS, cookies only over HTTPS. `manage.py check --deploy` is clean with it
# (tests/portal/test_deploy.py). docs/operations.md.
HTTPS = env.bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if HTTPS:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# Lock an account (per username and address) after 5 failures for one hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# The name typed, cut to a username's length (a longer one overflowed axes' column: a 500).
AXES_USERNAME_CALLABLE = "portal.auth.typed_username"
AXES_VERBOSE = False
# Every failed login is kept (account, IP, path, time) for the audit trail page.
AXES_ENABLE_ACCESS_FAILURE_LOG = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# zh_Hans numbers grouped 1,000,000 where grouping is asked for (intcomma); see portal/formats/.
FORMAT_MODULE_PATH = ["portal.formats"]
FORM_RENDERER = "portal.forms.FormRenderer"  # labels start with a capital in every language

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files live outside the static root and are served only through permission-checked views.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
# Never routed: files are only served by views that check permission (portal.uploads.file_response).
MEDIA_URL = "/_private_media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
STORAGES = {
    # Uploads. Several web hosts need one store they all see: MEDIA_ROOT on a shared mount (NFS), or
    # another Django storage backend with its options, e.g. django-storages' S3 one
    # (docs/operations.md). The portal reads and writes uploads only through the storage API.
    "default": {
        "BACKEND": env.str("MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")

# Filter forms: an empty choice reads "All", not "---------".
FILTERS_EMPTY_CHOICE_LABEL = _("All")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "portal/table.html"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    # Deny by default: each viewset states its own permission.
    "DEFAULT_PERMISSION_CLASSES": ["portal.api_defaults.DenyAll"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "portal.api_defaults.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "党群工作管理门户 API",
    "DESCRIPTION": "Party-mass work portal API. Scope and masking are those of the pages.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a `status` field with choices of their own; the demand's gets a plain name
    # (an unresolved name collision is drf_spectacular.W001 in `check --deploy`).
    "ENUM_NAME_OVERRIDES": {
        "DemandStatusEnum": "demands.choices.Status",
        "HardshipMeasureKindEnum": "members.hardship.choices.MeasureKind",
        "HardshipStatusEnum": "members.hardship.choices.Status",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api_defaults.document_error_responses",
    ],
}

# Celery: Redis broker; tasks acknowledge after they finish and must be idempotent.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# With acks_late, a task whose worker dies stays unacknowledged in Redis and is delivered again
# after the visibility timeout. It must be longer than the longest task (a KPI computation of a
# year at full size takes under a minute; a monthly report or a large import a few minutes) and
# than any countdown/ETA, or a task still running would be delivered twice. One hour leaves room;
# tests use a few seconds (the variable) to see a killed worker's task redone.
BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
    # How often a worker looks for such abandoned messages (seconds, every check scans).
    "unacked_restore_interval": min(10, BROKER_VISIBILITY_TIMEOUT),
    "unacked_restore_throttle": 1,
}
# A KPI run still "running" after this long lost its worker and is closed as failed
# (evaluation.engine.close_stale_runs): no computation runs longer than the visibility timeout.
KPI_RUN_STALE_SECONDS = env.int("KPI_RUN_STALE_SECONDS", default=BROKER_VISIBILITY_TIMEOUT)
# An import job still "checking"/"importing" after this long lost its worker and is marked failed.
IMPORT_STALE_SECONDS = env.int("IMPORT_STALE_SECONDS", default=BROKER_VISIBILITY_TIMEOUT)
# Two queues, so that a long computation never delays what a user waits for: "interactive"
# (notifications, reminders; the default) and "heavy" (KPI recomputes, reports, text model
# training, import jobs). Workers on any host take one or both (`celery -A portal worker -Q heavy`,
# docs/operations.md). The names can be changed per deployment (e.g. two portals on one Redis).
PORTAL_QUEUE_INTERACTIVE = env.str("CELERY_INTERACTIVE_QUEUE", default="interactive")
PORTAL_QUEUE_HEAVY = env.str("CELERY_HEAVY_QUEUE", default="heavy")
CELERY_TASK_DEFAULT_QUEUE = PORTAL_QUEUE_INTERACTIVE
# A worker started without -Q (one box, `make run`) takes both.
CELERY_TASK_QUEUES = (Queue(PORTAL_QUEUE_INTERACTIVE), Queue(PORTAL_QUEUE_HEAVY))
CELERY_TASK_ROUTES = {
    "evaluation.compute_kpis": {"queue": PORTAL_QUEUE_HEAVY},
    "evaluation.recompute_touched": {"queue": PORTAL_QUEUE_HEAVY},
    "evaluation.monthly_reports": {"queue": PORTAL_QUEUE_HEAVY},
    "evaluation.generate_report": {"queue": PORTAL_QUEUE_HEAVY},
    # Text model training, by its naming (`<app>.train_…`), wherever it is added.
    "*.train_*": {"queue": PORTAL_QUEUE_HEAVY},
    # Import jobs read and write whole files (minutes for a million rows).
    "portal.preview_import": {"queue": PORTAL_QUEUE_HEAVY},
    "portal.apply_import": {"queue": PORTAL_QUEUE_HEAVY},
    # Everything else — notifications, reminders, sweeps — is interactive (the default).
}
# Redis Sentinel for the broker (CELERY_BROKER_URL=sentinel://s1:26379;sentinel://s2:26379): the
# name of the monitored master. A managed Redis needs nothing but its URL (rediss:// for TLS).
if env.str("CELERY_BROKER_SENTINEL_MASTER", default=""):
    CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = env.str("CELERY_BROKER_SENTINEL_MASTER")
# One beat schedule for the whole portal; each app adds its entries in its AppConfig.ready()
# through portal.schedule.register(), so every entry is explained next to its task.
CELERY_BEAT_SCHEDULE: dict = {}

# The key of the signed daily checkpoints of the demand chains (demands.chain). Keep it outside the
# database (environment / secret store): with it, a rewritten and recomputed chain is still caught.
# Empty: derived from SECRET_KEY with the checkpoints' own salt.
CHAIN_SIGNING_KEY = env.str("CHAIN_SIGNING_KEY", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Content-Security-Policy on every response (django-csp): everything from the portal itself, the front
# end is vendored under static/. No inline script or <style> block (handlers live in
# static/portal/portal.js, styles in static/ files); style="" attributes stay allowed (they cannot run code).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
    },
}

# Rate limits of the public doors (django-ratelimit, counted in the Redis cache): "count/period" per
# client address, and per account where one is signed in. Over the limit: 429 with a page in Chinese
# (JSON for the API). docs/operations.md.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")
PORTAL_RATE_LIMITS = {
    # Sign-in doors: failed attempts only, per address and name typed, and per address
    # (portal.ratelimits.throttled_sign_in): an office behind one address signs in every morning.
    "login": env.str("RATE_LIMIT_LOGIN", default="20/10m"),
    "login_address": env.str("RATE_LIMIT_LOGIN_ADDRESS", default="200/10m"),
    "api_token": env.str("RATE_LIMIT_API_TOKEN", default="20/10m"),
    "api_token_address": env.str("RATE_LIMIT_API_TOKEN_ADDRESS", default="200/10m"),
    "public_submit": env.str("RATE_LIMIT_PUBLIC_SUBMIT", default="5/h"),
    # The anonymous form's suggestion, asked while the text is typed (one request per pause).
    "public_suggest": env.str("RATE_LIMIT_PUBLIC_SUGGEST", default="120/10m"),
    "public_track": env.str("RATE_LIMIT_PUBLIC_TRACK", default="20/10m"),
    "rating_link": env.str("RATE_LIMIT_RATING_LINK", default="20/10m"),
    "checkin": env.str("RATE_LIMIT_CHECKIN", default="30/10m"),
}

# Portal-specific settings.
PORTAL_SITE_NAME = _("Party-Mass Work Portal")
# Absolute address of the portal, for links in e-mails and one-time links.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# Group robots (portal/robots.py): the hosts a webhook address may point at. The portal posts only
# there, so an account that may configure robots cannot make the server call anything else on the
# intranet. A private WeCom/DingTalk deployment adds its own host.
ROBOT_WEBHOOK_HOSTS = env.list("ROBOT_WEBHOOK_HOSTS", default=["qyapi.weixin.qq.com", "oapi.dingtalk.com"])
ROBOT_TIMEOUT_SECONDS = env.float("ROBOT_TIMEOUT_SECONDS", default=10.0)
ROBOT_MAX_ATTEMPTS = env.int("ROBOT_MAX_ATTEMPTS", default=5)
# Lists with more rows than this (estimated) show "about N" instead of an exact count.
PORTAL_EXACT_COUNT_LIMIT = 10_000
# QR check-in of an activity is open from this many minutes before its start until it ends; a
# meeting has no end time of its own and ends this many minutes after its start (activities.workflow).
ACTIVITY_CHECKIN_OPENS_MINUTES = env.int("ACTIVITY_CHECKIN_OPENS_MINUTES", default=30)
ACTIVITY_DURATION_MINUTES = env.int("ACTIVITY_DURATION_MINUTES", default=180)
