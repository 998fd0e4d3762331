"""Benchmark settings: the production settings plus one constant-JSON baseline view."""

import os

os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-any-deployment")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")

from infinity.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
