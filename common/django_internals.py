"""The few private parts of Django this project leans on, each behind one small function.

They buy measured CPU on the SIP API's hot path (docs/performance.md). Each is named here
once, and tests/test_django_internals.py fails loudly the day a Django upgrade changes one,
rather than the portal quietly getting slower or wrong.
"""

from __future__ import annotations

from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet


def compiled_sql(queryset: QuerySet, alias: str) -> tuple[str, tuple]:
    """The SQL and parameters the ORM would run for `queryset` on database `alias`."""
    sql, params = queryset.query.get_compiler(alias).as_sql()
    return sql, tuple(params)


def skip_health_check(connection: BaseDatabaseWrapper) -> None:
    """Spare this request Django's probe of a kept connection (CONN_HEALTH_CHECKS)."""
    connection.health_check_done = True  # type: ignore[attr-defined]


def in_transaction(connection: BaseDatabaseWrapper) -> bool:
    """Whether `connection` is inside `transaction.atomic()` now."""
    return bool(connection.in_atomic_block)


def raw_query_string(meta: dict) -> str:
    """The request's query string as the client sent it, decoded as UTF-8 (bad bytes replaced)."""
    return get_bytes_from_wsgi(meta, "QUERY_STRING", "").decode("utf-8", "replace")
