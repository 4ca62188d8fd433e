"""OMS settings, read from the environment (django-environ).

With nothing set, OMS runs on an embedded default: SQLite in WAL mode and Celery's
file-system broker, both under ``var/``. Set ``DATABASE_URL``, ``REDIS_URL``,
``CELERY_BROKER_URL`` and ``NATS_URL`` for PostgreSQL, Redis and NATS.
"""

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env("OMS_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
# The key this repository once shipped as its default: public, so never a secret.
DEVELOPMENT_SECRET_KEY = "oms-local-development-key-not-for-production"


def _secret_key() -> str:
    """``SECRET_KEY`` from the environment; without it, a random key made once and kept in
    ``var/secret-key.txt`` (every process of one machine shares it). The public
    development key is refused unless ``DEBUG`` is on."""
    key = env("SECRET_KEY", default="")
    if key:
        if not DEBUG and (key == DEVELOPMENT_SECRET_KEY or key.startswith("django-insecure-")):
            raise ImproperlyConfigured(
                "SECRET_KEY is the public development key while DEBUG is off: set a secret one."
            )
        return key
    path = VAR_DIR / "secret-key.txt"
    if not path.exists():  # the first process to start makes it, whole (link is atomic)
        draft = VAR_DIR / f".secret-key.{os.getpid()}"
        draft.write_text(secrets.token_urlsafe(50), encoding="ascii")
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS (docs/production.env sets them; off by default for `make run` on http) ---------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# probes and scrapes from inside the network may speak plain HTTP
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
# "HTTP_X_FORWARDED_PROTO,https": the reverse proxy says the client used HTTPS. Set it
# only behind a proxy that always sets (or strips) that header.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER: '<header>,<value>'")
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
# The URI that identifies this OMS instance, used as the CloudEvents ``source``.
OMS_INSTANCE_URI = env("OMS_INSTANCE_URI", default="urn:oms:local")
# Where gunicorn listens (the Procfile reads the same variable) and the URL clients use:
# the public URL (``dataschema`` of events, the login ``ensure_admin`` prints) follows the
# bind address unless set, e.g. behind a proxy.
OMS_BIND = env("OMS_BIND", default="127.0.0.1:8000")


def url_of_bind(bind: str) -> str:
    """``host:port`` as an http URL; a wildcard host (``0.0.0.0``, ``[::]``) as 127.0.0.1."""
    host, _, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


OMS_PUBLIC_URL = env("OMS_PUBLIC_URL", default=url_of_bind(OMS_BIND)).rstrip("/")

INSTALLED_APPS = [
    "django_prometheus",
    "ontology.admin_site.OmsAdminConfig",  # django.contrib.admin, with the steward's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "axes",
    "events",
    "versioning",
    "ontology",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "oms_site.middleware.RequestIdMiddleware",
    "oms_site.middleware.BodySizeLimitMiddleware",
    "oms_site.middleware.NulCharacterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # login lockout: answers a locked-out login (admin form or HTTP Basic) with 429
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "oms_site.urls"
WSGI_APPLICATION = "oms_site.wsgi.application"

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

# --- Database -------------------------------------------------------------------------
# An empty DATABASE_URL means "not set": the embedded SQLite default.
DATABASES = {
    "default": environ.Env.db_url_config(
        env("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'oms.sqlite3'}"
    ),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["ENGINE"] = "django_prometheus.db.backends.sqlite3"
    _db.setdefault("OPTIONS", {}).update(
        {
            # WAL lets web, worker and beat read while one of them writes.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
elif _db["ENGINE"] in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
    _db["ENGINE"] = "django_prometheus.db.backends.postgresql"
    _db.setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    _db.setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "oms",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# sessions: read from the shared cache, written through to the database (one query less
# on every signed-in request); a per-process cache would let a worker keep a session
# another worker ended, so without Redis they stay in the database alone
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

# --- Celery ---------------------------------------------------------------------------
_celery_fs = VAR_DIR / "celery"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (_celery_fs / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_fs / "queue"),
        "data_folder_out": str(_celery_fs / "queue"),
        "processed_folder": str(_celery_fs / "processed"),
        "control_folder": str(_celery_fs / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

NATS_URL = env("NATS_URL", default="")

# --- Auth and permissions -------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # first: refuses a locked-out login before the password is checked (django-axes)
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "admin:login"
# Login brute-force protection (django-axes) for the admin and HTTP Basic: after
# OMS_LOGIN_FAILURE_LIMIT failures for a username from one address, that pair is locked
# for OMS_LOGIN_COOLOFF_MINUTES. Admins see and reset attempts in the admin (Axes).
AXES_FAILURE_LIMIT = env.int("OMS_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("OMS_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "oms_site.auth.lockout.lockout_response"
# behind a reverse proxy, the client address comes from the header the proxy sets
AXES_IPWARE_META_PRECEDENCE_ORDER = env.list("OMS_CLIENT_IP_HEADERS", default=["REMOTE_ADDR"])
# Object-level grants go to named users and groups only; anonymous requests are refused
# before any permission check, so guardian's stand-in AnonymousUser row is not created.
ANONYMOUS_USER_NAME = None

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: REST consumers send "Authorization: Token <key>" (cheap to check);
        # Basic auth hashes the password on every request and suits only occasional use.
        "rest_framework.authentication.TokenAuthentication",
        # Bearer JWTs: an external issuer's (JWKS), then OMS's own (simplejwt)
        "oms_site.auth.issuers.ExternalIssuerAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "oms_site.auth.basic.LockoutBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.DjangoModelPermissionsOrAnonReadOnly"
    ],
    # protected values (PII examples, owner contacts) in clear for holders of view_pii only
    "DEFAULT_RENDERER_CLASSES": [
        "versioning.api.renderers.RevealingJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON only, and absurdly deep nesting answers 400 rather than a RecursionError 500
    "DEFAULT_PARSER_CLASSES": ["oms_site.api.SafeJSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "oms_site.api.Pagination",
    # OPTIONS leaves out the writes a user may not make instead of answering 403
    "DEFAULT_METADATA_CLASS": "oms_site.api.Metadata",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "oms_site.api.exception_handler",
    # rates: OMS_THROTTLE_RATES below (oms_site/throttling.py names the scopes)
    "DEFAULT_THROTTLE_CLASSES": [
        "oms_site.throttling.UserBurstThrottle",
        "oms_site.throttling.UserSustainedThrottle",
        "oms_site.throttling.AnonBurstThrottle",
        "oms_site.throttling.AnonSustainedThrottle",
        "oms_site.throttling.OperationThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OMS — Ontology Metadata Service API",
    "DESCRIPTION": (
        "Branch-scoped ontology schema: object types, properties, value types, struct "
        "types, link types, shared properties and interfaces."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "oms_site.openapi.add_error_responses",
        "oms_site.throttling.add_throttle_responses",
    ],
    # Choice sets that share a field name (baseType, cardinality) get distinct names.
    "ENUM_NAME_OVERRIDES": {
        "BaseTypeEnum": "ontology.choices.BaseType",
        "StructFieldTypeEnum": "ontology.choices.StructFieldType",
        "ItemTypeEnum": "ontology.choices.ItemType",
        "StructFieldItemTypeEnum": "ontology.choices.StructFieldItemType",
        "CardinalityEnum": "ontology.choices.Cardinality",
        "ConstraintCardinalityEnum": "ontology.choices.ConstraintCardinality",
        "PiiReasonEnum": "ontology.pii_detection.REASONS",
    },
}
# --- JWT: OMS's own (simplejwt, /api/v1/auth/token/...) and an external issuer's ----------
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.float("OMS_JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=env.float("OMS_JWT_REFRESH_HOURS", default=24)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # strict bodies: an unknown key is a 400 naming it (oms_site/auth/jwt.py)
    "TOKEN_OBTAIN_SERIALIZER": "oms_site.auth.jwt.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "oms_site.auth.jwt.TokenRefreshSerializer",
    "TOKEN_VERIFY_SERIALIZER": "oms_site.auth.jwt.TokenVerifySerializer",
    "TOKEN_BLACKLIST_SERIALIZER": "oms_site.auth.jwt.TokenBlacklistSerializer",
}
OMS_OIDC = {
    "ISSUER": env("OMS_OIDC_ISSUER", default=""),
    "JWKS_URL": env("OMS_OIDC_JWKS_URL", default=""),
    "AUDIENCE": env("OMS_OIDC_AUDIENCE", default=""),
    "USERNAME_CLAIM": env("OMS_OIDC_USERNAME_CLAIM", default="preferred_username"),
    "ROLES_CLAIM": env("OMS_OIDC_ROLES_CLAIM", default="roles"),
    "ROLE_MAP": env.json("OMS_OIDC_ROLE_MAP", default={}),
    "LEEWAY_SECONDS": env.float("OMS_OIDC_LEEWAY_SECONDS", default=30),
}
if OMS_OIDC["ISSUER"] and not (OMS_OIDC["JWKS_URL"] and OMS_OIDC["AUDIENCE"]):
    raise ImproperlyConfigured("OMS_OIDC_ISSUER needs OMS_OIDC_JWKS_URL and OMS_OIDC_AUDIENCE.")

# --- Throttling (oms_site/throttling.py): OMS_THROTTLE_<SCOPE>=<n>/<s|min|hour|day> -----
OMS_THROTTLE_ENABLED = env.bool("OMS_THROTTLE_ENABLED", default=True)
try:
    from oms_site.throttling import DEFAULT_RATES, check_rate

    OMS_THROTTLE_RATES = {
        scope: check_rate(scope, env.str(f"OMS_THROTTLE_{scope.upper()}", default=rate))
        for scope, rate in DEFAULT_RATES.items()
    }
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

# Request bodies over this size are refused with 413 before any parsing.
OMS_MAX_BODY_BYTES = env.int("OMS_MAX_BODY_BYTES", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = OMS_MAX_BODY_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000
# Bundle uploads (POST .../bundle/) have their own limits (docs/bundles.md), checked
# before parsing: bytes of the body, and documents in it.
OMS_MAX_BUNDLE_BYTES = env.int("OMS_MAX_BUNDLE_BYTES", default=64 * 1024 * 1024)
OMS_MAX_BUNDLE_DOCUMENTS = env.int("OMS_MAX_BUNDLE_DOCUMENTS", default=20000)

# --- Encryption at rest (events.encryption): Fernet keys, the first encrypts ----------------
# Unset: a development key derived from SECRET_KEY, which `check --deploy` refuses.
OMS_ENCRYPTION_KEYS = env.list("OMS_ENCRYPTION_KEYS", default=[])
# The HMAC key of protected values' tokens (PII examples, owner contacts: docs/documents.md).
# Unset: derived from SECRET_KEY. Keep it stable: a new key gives every value a new token.
OMS_PII_DIGEST_KEY = env("OMS_PII_DIGEST_KEY", default="")

# --- Operations endpoints (/metrics, /health/ready; /health/live is open) ----------------
# A bearer token Prometheus sends (``authorization: {credentials: ...}``), and/or networks
# (CIDRs) whose direct connections may read them. Neither set: only 401.
OMS_OPS_TOKEN = env("OMS_OPS_TOKEN", default="")
try:
    OMS_OPS_NETWORKS = [
        str(ipaddress.ip_network(n, strict=False)) for n in env.list("OMS_OPS_NETWORKS", default=[])
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"OMS_OPS_NETWORKS: {exc}") from exc

# --- I18N, static ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
#: files served at the site's root (``/favicon.ico``)
WHITENOISE_ROOT = BASE_DIR / "public"
WHITENOISE_AUTOREFRESH = DEBUG

# --- Logging: one JSON object per line, carrying the request id -------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "oms_site.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Events (events app) ---------------------------------------------------------------
# Defaults live in events/conf.py; a setting exists here only when the environment sets it.
# OMS_EVENTS_WEBHOOKS is JSON: [{"name": ..., "url": ..., "secret": ..., "types": [...]}].
for _name, _read in {
    "SINKS": env.list,  # log, nats, eventbridge
    "WEBHOOKS": env.json,
    "EVENTBRIDGE_BUS": env.str,
    "NATS_STREAM": env.str,
    "NATS_SUBJECT_PREFIX": env.str,
    "NATS_DUPLICATE_WINDOW_SECONDS": env.float,
    "CLAIM_TIMEOUT_SECONDS": env.float,
    "REAPER_INTERVAL_SECONDS": env.float,
    "DRAIN_TIME_BUDGET_SECONDS": env.float,
    "MAX_EVENT_BYTES": env.int,
    "MAX_ATTEMPTS": env.int,
    "RETENTION_DAYS": env.float,
    "REQUIRE_REGISTERED_TYPES": env.bool,
    "WORKER_METRICS_PORT": env.int,
}.items():
    if f"OMS_EVENTS_{_name}" in env:
        globals()[f"OMS_EVENTS_{_name}"] = _read(f"OMS_EVENTS_{_name}")
