"""Settings for the test suite: production settings with test-only secrets and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; tests only
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# The live test server serves static files straight from the finders (no collectstatic).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Write each registration-log check entry at once, inside the test's transaction.
HOTDESK_CHECK_LOG_MAX_DELAY = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A test database in a file, like the deployed one, rather than Django's default shared-cache
    # in-memory database: that one answers a second writer with "database table is locked" at
    # once instead of waiting (busy timeout), so threaded tests could not show how concurrent
    # writes behave. One file per test process, so parallel runs do not share it.
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"hotdesk-test-{os.getpid()}.sqlite3")
    }
