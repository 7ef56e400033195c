"""Settings. The environment is read here and nowhere else (CONVENTIONS 6).

| variable           | default (DEBUG on)           | meaning                                          |
|--------------------|------------------------------|--------------------------------------------------|
| DEBUG              | off                          | development mode                                 |
| SECRET_KEY         | generated into .data/        | required when DEBUG is off                       |
| BASE_DOMAIN        | localhost                    | shops live at <sub>.<BASE_DOMAIN>; required off  |
| ALLOWED_HOSTS      | .BASE_DOMAIN                 | comma-separated                                  |
| DATABASE_URL       | embedded PostgreSQL (.data/) | postgres://user:pass@host:5432/db                |
| EMAIL_URL          | console:// (smtp:// in prod) | dj-email-url syntax                              |
| CELERY_BROKER_URL  | none: tasks run eagerly      | redis://127.0.0.1:6379/0                         |
| SHOP_POOL_SIZE     | 2                            | ready shops kept for instant signups             |
| SHOP_CREATE_BY_COPY| 1                            | new shops copied from an up-to-date pooled shop  |
| STRIPE_SECRET_KEY  | none: card payments are off  | the platform's Stripe secret key (sk_...)        |
| STRIPE_WEBHOOK_SECRET | none: webhooks refused    | signing secret of the webhook endpoint (whsec_)  |
| STRIPE_API_BASE    | Stripe's API                 | another API address (tests: a local stand-in)    |
| STRIPE_FEE_PERCENT | 1.0                          | platform fee on each card payment, in percent    |
| RATE_LOGIN_EMAIL   | 5/15m                        | failed sign-ins per email, then a cool-down      |
| RATE_LOGIN_IP      | 30/15m                       | failed sign-ins per client address               |
| RATE_SIGNUP_EMAIL / RATE_SIGNUP_IP | 5/1h / 10/1h | sign-ups per email / per address                 |
| RATE_RESET_EMAIL / RATE_RESET_IP   | 3/1h / 10/1h | password reset requests per email / per address  |
| API_RATE_STAFF     | 1000/hour                    | API requests per staff token (or session user)   |
| API_RATE_STAFF_BURST | 120/minute                 | the same, over a minute                          |
| API_RATE_ANON      | 100/hour                     | anonymous API requests (and failed auth) per IP  |
| API_RATE_ANON_BURST | 20/minute                   | the same, over a minute                          |
| API_NUM_PROXIES    | 0                            | proxies adding to X-Forwarded-For before the app |
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.embedded_pg import dev_secret_key, embedded_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / ".data"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = dev_secret_key(DATA_DIR)

BASE_DOMAIN = os.environ.get("BASE_DOMAIN", "").strip().lower()
if not BASE_DOMAIN:
    if not DEBUG:
        raise ImproperlyConfigured("BASE_DOMAIN must be set when DEBUG is off (e.g. shops.example).")
    BASE_DOMAIN = "localhost"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or [BASE_DOMAIN, f".{BASE_DOMAIN}"]
if DEBUG:
    ALLOWED_HOSTS += ["localhost", ".localhost", "127.0.0.1", "testserver"]

# ---------------------------------------------------------------------------------------------
# Applications: public schema (platform) and tenant schemas (one per shop)
# ---------------------------------------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "tenants.accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "tenants.accounts",
    "catalog",
    "sales",
    "billing",
    "streams",
]
INSTALLED_APPS = list(SHARED_APPS) + [a for a in TENANT_APPS if a not in SHARED_APPS]

TENANT_MODEL = "tenants.Shop"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
TENANT_LIMIT_SET_CALLS = True
GET_EXECUTOR_FUNCTION = "tenants.fast_migrate.get_executor"  # skips shops already up to date
# `migrate_schemas --executor=multiprocessing`: processes and schemas per chunk.
TENANT_MULTIPROCESSING_MAX_PROCESSES = env_int("TENANT_MULTIPROCESSING_MAX_PROCESSES", 2)
TENANT_MULTIPROCESSING_CHUNKS = env_int("TENANT_MULTIPROCESSING_CHUNKS", 2)
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    # First, so every answer carries the policy, even "no shop here" and refusals.
    "tenants.security.ContentSecurityPolicyMiddleware",
    "tenants.middleware.ShopMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tenants.middleware.ShopLocaleMiddleware",
    # Before anything reads the body (CSRF reads the form): too large is refused unread.
    "tenants.security.RequestSizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tenants.middleware.ShopAvailabilityMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.platform",
            ],
        },
    }
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# ---------------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
EMBEDDED_DATABASE = not DATABASE_URL
if EMBEDDED_DATABASE:
    DATABASE_URL = embedded_database_url(DATA_DIR)
# Bounded: each connection's catalog cache grows with every schema it touches.
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 60)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=CONN_MAX_AGE)}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if EMBEDDED_DATABASE and not DATABASES["default"].get("NAME"):
    DATABASES["default"]["NAME"] = "postgres"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------------
# Auth, sessions, security
# ---------------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["tenants.accounts.backends.StaffBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/"
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600


def env_limit(name: str, default: str) -> tuple[int, int]:
    """`<attempts>/<window>`, the window in seconds, minutes or hours: 5/15m, 10/1h, 30/90s."""
    value = os.environ.get(name, "").strip() or default
    count, _sep, window = value.partition("/")
    units = {"s": 1, "m": 60, "h": 3600}
    if not (count.isdigit() and int(count) > 0 and window[:-1].isdigit() and int(window[:-1]) > 0
            and window[-1:] in units):
        raise ImproperlyConfigured(f"{name} must look like 5/15m (attempts/window in s, m or h).")
    return int(count), int(window[:-1]) * units[window[-1]]


# Sign-in, sign-up and password reset (tenants/accounts/throttling.py), counted per shop in the
# cache (a shared cache, CACHE_URL, makes them hold across web processes): `attempts` in a
# window, after which that email or address waits as long as the window.
AUTH_RATE_LIMITS = {
    "login_email": env_limit("RATE_LOGIN_EMAIL", "5/15m"),  # failed sign-ins per email
    "login_ip": env_limit("RATE_LOGIN_IP", "30/15m"),  # failed sign-ins per address
    "signup_email": env_limit("RATE_SIGNUP_EMAIL", "5/1h"),
    "signup_ip": env_limit("RATE_SIGNUP_IP", "10/1h"),
    "reset_email": env_limit("RATE_RESET_EMAIL", "3/1h"),  # password reset requests
    "reset_ip": env_limit("RATE_RESET_IP", "10/1h"),
}

# Request bodies, bounded before anything reads them (tenants.security answers 413 beyond):
# forms, JSON and webhooks up to DATA_UPLOAD_MAX_MEMORY_SIZE; with files, the whole request up
# to MAX_UPLOAD_REQUEST_BYTES (an image is at most 10 MB, a CSV import 5 MB: catalog refuses
# larger ones with its own message). Files past FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary
# file, not memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MiB
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 5  # one image or one CSV file per request
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
MAX_UPLOAD_REQUEST_BYTES = 12 * 1024 * 1024

# Host-only cookies: a shop's session never reaches another shop or the platform.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = [f"https://{BASE_DOMAIN}", f"https://*.{BASE_DOMAIN}"]
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# ---------------------------------------------------------------------------------------------
# I18n: English and French; a shop's locale is the default for its visitors.
# ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Paris"
USE_TZ = True

# ---------------------------------------------------------------------------------------------
# Static and media files: everything a page needs is served by the app (no CDN).
# ---------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
# Legal documents (issued invoice PDFs): never under MEDIA_ROOT, never served by path.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", DATA_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# ---------------------------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------------------------
_email = dj_email_url.parse(os.environ.get("EMAIL_URL", "console://" if DEBUG else "smtp://"))
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"no-reply@{BASE_DOMAIN}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---------------------------------------------------------------------------------------------
# Cache: keys carry the schema so two shops never share an entry.
# ---------------------------------------------------------------------------------------------
CACHE_URL = os.environ.get("CACHE_URL", "")
# Anonymous storefront listings are cached per shop and invalidated on every catalog change.
# Off without a shared cache: a per-process cache could not be invalidated across workers.
STOREFRONT_CACHE_SECONDS = env_int("STOREFRONT_CACHE_SECONDS", 300 if CACHE_URL else 0)
CACHES = {
    "default": {
        "BACKEND": (
            "django.core.cache.backends.redis.RedisCache"
            if CACHE_URL
            else "django.core.cache.backends.locmem.LocMemCache"
        ),
        "LOCATION": CACHE_URL or "shopfleet",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# ---------------------------------------------------------------------------------------------
# Background work: Celery with tenant-schemas-celery; eager when no broker is configured.
# ---------------------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep our JSON log lines (with schema) in workers
CELERY_BEAT_SCHEDULE = {
    "pool-top-up": {"task": "tenants.pool_top_up", "schedule": 300.0},
    "handoff-purge": {"task": "tenants.handoff_purge", "schedule": 86400.0},
    "lot-options-expire": {"task": "catalog.release_expired_options", "schedule": 900.0},
    "quotes-expire": {"task": "sales.expire_quotes", "schedule": 3600.0},
    "order-counts-compact": {"task": "sales.compact_order_counts", "schedule": 300.0},
    # Overdue invoices, reminders, unpaid card orders: hourly, so a delay in hours is kept.
    "billing-periodic": {"task": "billing.daily", "schedule": 3600.0},
    # Milestones past their planned end marked delayed (once each): hourly, like invoices.
    "milestones-overdue": {"task": "streams.milestones_overdue", "schedule": 3600.0},
    # Unread notifications emailed to the staff who asked for a digest: once a day.
    "streams-digest": {"task": "streams.email_digest", "schedule": 86400.0},
}

# ---------------------------------------------------------------------------------------------
# Provisioning
# ---------------------------------------------------------------------------------------------
SHOP_POOL_SIZE = env_int("SHOP_POOL_SIZE", 2)
# New pooled shops are copied from an up-to-date pooled one (0.5 s) rather than migrated (3-4 s).
SHOP_CREATE_BY_COPY = env_bool("SHOP_CREATE_BY_COPY", True)
# `make bench` mounts a reference view (/_bench/reference/) to compare pages against.
BENCHMARK_VIEWS = env_bool("BENCHMARK_VIEWS")
SIGNUP_HANDOFF_MAX_AGE = 60  # seconds a post-signup login link stays valid

# ---------------------------------------------------------------------------------------------
# Stripe: card payments on each shop's connected account, through billing/stripe_gateway.py.
# No key: shops take manual payments only.
# ---------------------------------------------------------------------------------------------
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "").strip()
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "").strip()
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "").strip().rstrip("/")
try:
    STRIPE_FEE_PERCENT = Decimal(os.environ.get("STRIPE_FEE_PERCENT", "").strip() or "1.0")
except ArithmeticError as exc:  # decimal.InvalidOperation
    raise ImproperlyConfigured("STRIPE_FEE_PERCENT must be a number, e.g. 1.5.") from exc
if STRIPE_SECRET_KEY and not STRIPE_WEBHOOK_SECRET and not DEBUG:
    # Without it every webhook is refused: customers would pay and no order would ever be paid.
    raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET must be set when STRIPE_SECRET_KEY is.")

# ---------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------
def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate, `<count>/<second|minute|hour|day>`."""
    value = os.environ.get(name, "").strip() or default
    count, _sep, period = value.partition("/")
    if not count.isdigit() or period not in {"second", "minute", "hour", "day"}:
        raise ImproperlyConfigured(f"{name} must look like 1000/hour (count/second|minute|hour|day).")
    return value


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.accounts.api_auth.StaffTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenants.accounts.api_auth.IsShopStaff"],
    # Documents the errors every operation can answer (400/401/403/404/429) once for all.
    "DEFAULT_SCHEMA_CLASS": "tenants.accounts.api_schema.ShopAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "tenants.accounts.api_pagination.PagePagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "tenants.accounts.api_errors.api_exception_handler",
    # Per token (or session user) and per anonymous address, counted in each shop's own cache
    # keys (a shared cache, CACHE_URL, makes the limits hold across web processes).
    "DEFAULT_THROTTLE_CLASSES": [
        "tenants.accounts.api_throttling.StaffRateThrottle",
        "tenants.accounts.api_throttling.StaffBurstRateThrottle",
        "tenants.accounts.api_throttling.AnonymousRateThrottle",
        "tenants.accounts.api_throttling.AnonymousBurstRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "staff": env_rate("API_RATE_STAFF", "1000/hour"),
        "staff_burst": env_rate("API_RATE_STAFF_BURST", "120/minute"),
        "anon": env_rate("API_RATE_ANON", "100/hour"),
        "anon_burst": env_rate("API_RATE_ANON_BURST", "20/minute"),
    },
    # Proxies in front of the app that append to X-Forwarded-For; 0: the peer address is the
    # client (a client-sent X-Forwarded-For would otherwise let anyone pick their own address).
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": "Per-shop REST API. Authenticate with a staff token: `Authorization: Token <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`: name each enum after its model, not after the field.
    "ENUM_NAME_OVERRIDES": {
        "ProductStatusEnum": "catalog.models.ProductStatus",
        "ProjectStatusEnum": "catalog.models.Project.Status",
        "QuoteStatusEnum": "sales.models.QuoteStatus",
        "OrderStatusEnum": "sales.models.OrderStatus",
        "QuoteSourceEnum": "sales.models.QuoteSource",
        "OrderSourceEnum": "sales.models.OrderSource",
        "CustomerKindEnum": "sales.models.CustomerKind",
        "CustomerStateEnum": "sales.models.CustomerState",
        "InvoiceKindEnum": "billing.models.DocumentKind",
        "InvoiceStatusEnum": "billing.models.InvoiceStatus",
        "PaymentStatusEnum": "billing.models.PaymentStatus",
        "BillingPaymentMethodEnum": "billing.models.PaymentMethod",
        "ManualPaymentMethodEnum": "billing.models.MANUAL_METHODS",
        "FollowLevelEnum": "streams.models.FollowLevel",
        "NotificationReasonEnum": "streams.models.NotificationReason",
        "TaskStatusEnum": "streams.models.TaskStatus",
        "TicketStatusEnum": "streams.models.TicketStatus",
        "MilestoneStatusEnum": "streams.models.MilestoneStatus",
    },
}

# ---------------------------------------------------------------------------------------------
# Logging: one JSON object per line, carrying the shop's schema.
# ---------------------------------------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"schema": {"()": "tenants.logging.SchemaFilter"}},
    "formatters": {"json": {"()": "tenants.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["schema"], "formatter": "json"}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        # WeasyPrint logs each rendering step at INFO: a dozen lines per PDF.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
