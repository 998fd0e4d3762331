"""Check entries written in batches survive a database outage (kept, then written once)."""

import logging

import pytest
from django.db import OperationalError
from django.utils import timezone

from registrations import checklog
from registrations.models import EventKind, RegistrationLogEntry

pytestmark = pytest.mark.django_db


def entry(n: int) -> RegistrationLogEntry:
    return RegistrationLogEntry(
        created_at=timezone.now(),
        kind=EventKind.CHECK,
        allowed=True,
        reason="ok",
        extension=f"{1000 + n}",
        attempt=f"srid-log-{n}",
    )


@pytest.fixture
def buffer():
    # An hour between timed flushes: only the test flushes.
    return checklog.CheckLogBuffer(batch=1000, max_delay=3600)


@pytest.fixture
def database_down(monkeypatch):
    real = RegistrationLogEntry.objects.bulk_create
    state = {"down": True}

    def bulk_create(*args, **kwargs):
        if state["down"]:
            raise OperationalError("the database is down")
        return real(*args, **kwargs)

    monkeypatch.setattr(RegistrationLogEntry.objects, "bulk_create", bulk_create)
    return state


def test_entries_the_database_refuses_are_written_once_it_is_back(buffer, database_down, caplog):
    for n in range(3):
        buffer.add(entry(n))

    with caplog.at_level(logging.WARNING, logger="registrations.checklog"):
        assert buffer.flush() == 0
        buffer.add(entry(3))
        assert buffer.flush() == 0
        database_down["down"] = False
        assert buffer.flush() == 4

    assert sorted(RegistrationLogEntry.objects.values_list("attempt", flat=True)) == [
        f"srid-log-{n}" for n in range(4)
    ]
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "Could not write registration log entries",
        "Registration log entries are written again",
    ]


def test_an_outage_keeps_at_most_max_kept_entries_and_says_how_many_it_dropped(
    buffer, database_down, monkeypatch, caplog
):
    monkeypatch.setattr(checklog, "MAX_KEPT", 2)
    for n in range(5):
        buffer.add(entry(n))

    with caplog.at_level(logging.ERROR, logger="registrations.checklog"):
        buffer.flush()
    database_down["down"] = False
    buffer.flush()

    # The newest are kept: they tell what is happening now.
    assert sorted(RegistrationLogEntry.objects.values_list("attempt", flat=True)) == [
        "srid-log-3",
        "srid-log-4",
    ]
    assert "Dropped the 3 oldest unwritten registration log entries" in caplog.text
