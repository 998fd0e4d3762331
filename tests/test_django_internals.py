"""The private parts of Django the project uses still work as assumed (common/django_internals).

If one of these fails after a Django upgrade, the hot path's shortcut is broken: mend the
function in common/django_internals.py (or drop the shortcut), not this test.
"""

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import RequestFactory

from common.django_internals import (
    compiled_sql,
    in_transaction,
    raw_query_string,
    skip_health_check,
)
from users.models import PbxUser


@pytest.mark.django_db
def test_compiled_sql_runs_as_the_orm_would():
    queryset = PbxUser.objects.filter(extension="no-such-one").values_list("pk")
    sql, params = compiled_sql(queryset, DEFAULT_DB_ALIAS)
    assert params == ("no-such-one",)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, list(params))
        assert cursor.fetchall() == []


def test_the_health_check_flag_is_the_one_django_reads():
    # Django sets it in close_if_health_check_failed's caller; a rename would make ours inert.
    connection = connections[DEFAULT_DB_ALIAS]
    assert hasattr(connection, "health_check_done")
    assert "health_check_done" in BaseDatabaseWrapper.close_if_health_check_failed.__code__.co_names
    skip_health_check(connection)
    assert connection.health_check_done is True


@pytest.mark.django_db(transaction=True)
def test_in_transaction_follows_atomic():
    connection = connections[DEFAULT_DB_ALIAS]
    assert in_transaction(connection) is False
    with transaction.atomic():
        assert in_transaction(connection) is True


def test_raw_query_string_is_the_clients_bytes_decoded():
    request = RequestFactory().get("/x?a=1&b=%C3%A9")
    assert raw_query_string(request.META) == "a=1&b=%C3%A9"
