"""Settings for the hotdesk portal.

This is the only module that reads the environment (django-environ). Every variable is listed,
with its default, in `.env.example`.
"""

from pathlib import Path

import environ
import xstatic.pkg.bootstrap as xstatic_bootstrap
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# A development key is only acceptable while DEBUG is on; production must bring its own.
_DEV_SECRET_KEY = "django-insecure-hotdesk-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "accounts",
    "audit",
    "installs",
    "users",
    "trustedips",
    "kamailio",
    "registrations",
    "handsets",
    "calls",
    "bulk",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The SIP API answers here, before the browser middleware below (see its docstring).
    "registrations.middleware.EdgeAPIMiddleware",
    # Early, so that every browser-facing answer, also one a later middleware gives (a CSRF
    # refusal, a redirect), carries the Content-Security-Policy.
    "common.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes documents, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

# A refused form (missing or stale CSRF token) gets a page in the portal's layout.
CSRF_FAILURE_VIEW = "common.errors.csrf_failure"

ROOT_URLCONF = "infinity.urls"
WSGI_APPLICATION = "infinity.wsgi.application"

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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers share one SQLite file: WAL lets readers run beside the writer,
    # busy_timeout makes a writer wait for the lock instead of failing, and IMMEDIATE
    # transactions take the write lock up front so read-then-write never deadlocks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that stops answering must not hold a request for the kernel's minutes-long
    # connect timeout: the SIP edge gave up after 2 s anyway (docs/reliability.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://hotdesk")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Without timeouts a Redis that stops answering (not refusing) hangs every request that
    # touches the cache: the dashboard, and revocations, which clear a cached location table.
    # The cache only spares work here (kamailio/edges.py), so give up on it quickly.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    )

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "installs:list"
LOGOUT_REDIRECT_URL = "login"

# Portal login guessing: after 5 failures for one username from one address, that pair is
# locked for an hour (django-axes keeps the count in the database, so every worker sees it).
# Pairing with the address keeps a guesser elsewhere from locking the real administrator out.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Bootstrap comes from the XStatic-Bootstrap package, served by whitenoise: no CDN (portals
# run in closed networks) and no vendored copy in the repository.
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic_bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security headers. HTTPS is assumed in production (behind a TLS-terminating proxy that sets
# X-Forwarded-Proto); see the README for the `check --deploy` notes.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^api/"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Hot desking -----------------------------------------------------------------------------
# Wrong PINs in a row before a timed lock, and how long it lasts.
HOTDESK_LOCKOUT_SHORT_THRESHOLD = env.int("HOTDESK_LOCKOUT_SHORT_THRESHOLD", default=5)
HOTDESK_LOCKOUT_SHORT_WINDOW_SECONDS = env.int("HOTDESK_LOCKOUT_SHORT_WINDOW_SECONDS", default=900)
HOTDESK_LOCKOUT_SHORT_SECONDS = env.int("HOTDESK_LOCKOUT_SHORT_SECONDS", default=900)
# Wrong PINs in a row without a success before the lock needs an administrator.
HOTDESK_LOCKOUT_HARD_THRESHOLD = env.int("HOTDESK_LOCKOUT_HARD_THRESHOLD", default=10)
# A check that hands the edge an HA1 holds one guess until the edge reports the outcome; one
# not reported after this many seconds counts as a wrong PIN. Longer than the edge's portal
# timeout plus its report batching and retries.
HOTDESK_GUESS_PERMIT_SECONDS = env.int("HOTDESK_GUESS_PERMIT_SECONDS", default=60)
# The longest call the SIP edge lets run (the dialog module's lifetime, 12 h by default): a
# call record whose end never arrived is closed by the portal this long (plus 5 minutes)
# after it started. Keep it equal to the edge's HOTDESK_CALL_MAX_SECONDS.
HOTDESK_CALL_MAX_SECONDS = env.int("HOTDESK_CALL_MAX_SECONDS", default=43200)

# Provisioning server (handsets app). Behind a reverse proxy, name the header that carries the
# handset's address (e.g. X-Forwarded-For: its last entry is used; or X-Real-IP). Unset, the
# header is never read and REMOTE_ADDR is the source: any client can forge such a header.
PROVISIONING_CLIENT_IP_HEADER = env.str("PROVISIONING_CLIENT_IP_HEADER", default="") or None

# Check entries of the registration log are written in batches of this many, or after this
# many seconds, whichever comes first (0 writes each at once). See registrations/checklog.py.
HOTDESK_CHECK_LOG_BATCH = env.int("HOTDESK_CHECK_LOG_BATCH", default=200)
HOTDESK_CHECK_LOG_MAX_DELAY = env.float("HOTDESK_CHECK_LOG_MAX_DELAY", default=0.1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # A 403 is the API's ordinary "deny" answer and is in the registration log already;
        # a warning line per denied REGISTER would only flood the log (and cost CPU).
        "django.request": {"level": "ERROR"},
    },
}
